using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Learn.Ops.Fast.Simd;

namespace Learn.Ops.Fast.Blocked;

/// <summary>
/// A depthwise 3x3 convolution (stride 1, zero padding 1, one input channel per group) on blocked maps:
/// <c>y[n, c, i, j] = act(b[c] + sum over (u, v) in 3x3 of w[c, u, v] * x[n, c, i + u - 1, j + v - 1])</c>, x taken
/// as 0 outside the map, the taps summed row by row from the bias, then the ReLU.
/// </summary>
/// <remarks>
/// Blocked, a tap is one 16-lane fused multiply-add of a per-block weight vector with one input position. The nine
/// weight vectors stay in registers; a row is computed <see cref="Tile"/> outputs at a time, each of the tile's
/// Tile + 2 input positions of an input row loaded once and added into the (up to) three outputs it touches. Rows
/// above and below the map read a row of zeros, and the column left of the first and right of the last tile is a
/// zero vector chosen once per tile, so the inner code has no per-element test. Every output adds its taps in the
/// order of the formula (bias, then row by row), each fused, so results do not depend on the split over threads.
/// </remarks>
internal static unsafe class BlockedDepthwise
{
    /// <summary>Outputs along a row computed together: 8 accumulator chains hide the FMA latency (2 ports x 4 cycles).</summary>
    internal const int Tile = 8;

    [ThreadStatic]
    private static float[]? t_zeros;

    /// <summary>
    /// Packs w [C, 1, 3, 3] and an optional bias [C] for <see cref="Forward"/>: per block of 16 channels, the 9 taps as
    /// 9 vectors of 16, then the bias vector (zeros past C).
    /// </summary>
    public static float[] Pack(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int channels)
    {
        const int B = BlockedLayout.Block;
        if (w.Length != channels * 9 || (bias.Length != 0 && bias.Length != channels))
        {
            throw new ArgumentException($"depthwise 3x3 weights: expected [{channels}, 1, 3, 3] and a bias of {channels}, got {w.Length} and {bias.Length}");
        }

        int cb = BlockedLayout.Blocks(channels);
        var packed = new float[cb * 10 * B];
        for (int c = 0; c < channels; c++)
        {
            int block = c / B, lane = c % B;
            for (int t = 0; t < 9; t++)
            {
                packed[(((block * 10) + t) * B) + lane] = w[(c * 9) + t];
            }

            packed[(((block * 10) + 9) * B) + lane] = bias.Length == 0 ? 0 : bias[c];
        }

        return packed;
    }

    /// <summary>y = act(depthwise3x3(x) + b) for blocked maps x, y of logical shape [batch, channels, h, w].</summary>
    public static void Forward(float[] packed, float[] x, int batch, int channels, int h, int w, float[] y, bool relu, int threads)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(channels);
        int planes = batch * cb;
        long length = (long)planes * h * w * B;
        if (packed.Length < cb * 10 * B || x.Length < length || y.Length < length)
        {
            throw new ArgumentException($"blocked depthwise 3x3: [{batch}, {channels}, {h}, {w}] needs {cb * 10 * B} packed weights and maps of {length} floats, got {packed.Length}, {x.Length} and {y.Length}");
        }

        if (length == 0)
        {
            return;
        }

        // Items are (plane, output row): planes alone are too few to split the small late-stage maps.
        Parallelism.For(threads, planes * h, length * 9, (packed, x, y, cb, h, w, relu), static (a, start, end) =>
        {
            float[] zeros = ZeroRow(a.w * B);
            fixed (float* pw = a.packed, px = a.x, py = a.y, pz = zeros)
            {
                Rows(pw, px, py, pz, a.cb, a.h, a.w, a.relu, start, end);
            }
        });
    }

    /// <summary>A row of zeros at least <paramref name="length"/> long, per thread; never written.</summary>
    private static float[] ZeroRow(int length)
    {
        float[]? zeros = t_zeros;
        if (zeros is null || zeros.Length < length)
        {
            zeros = new float[Math.Max(length, 1)];
            t_zeros = zeros;
        }

        return zeros;
    }

    /// <summary>Output rows [start, end) of the (plane, row) items.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows(float* pw, float* px, float* py, float* zeros, int cb, int h, int w, bool relu, int start, int end)
    {
        const int B = BlockedLayout.Block;
        long rowLength = (long)w * B;
        int item = start;
        while (item < end)
        {
            int plane = item / h, first = item % h, last = Math.Min(h, first + (end - item));
            float* wk = pw + ((long)(plane % cb) * 10 * B);
            Vector512<float> w0 = Vector512.Load(wk), w1 = Vector512.Load(wk + B), w2 = Vector512.Load(wk + (2 * B));
            Vector512<float> w3 = Vector512.Load(wk + (3 * B)), w4 = Vector512.Load(wk + (4 * B)), w5 = Vector512.Load(wk + (5 * B));
            Vector512<float> w6 = Vector512.Load(wk + (6 * B)), w7 = Vector512.Load(wk + (7 * B)), w8 = Vector512.Load(wk + (8 * B));
            Vector512<float> bias = Vector512.Load(wk + (9 * B));
            float* xPlane = px + ((long)plane * h * rowLength), yPlane = py + ((long)plane * h * rowLength);
            for (int i = first; i < last; i++)
            {
                float* above = i > 0 ? xPlane + ((i - 1) * rowLength) : zeros;
                float* middle = xPlane + (i * rowLength);
                float* below = i + 1 < h ? xPlane + ((i + 1) * rowLength) : zeros;
                float* yRow = yPlane + (i * rowLength);
                int j = 0;
                for (; j + Tile <= w; j += Tile)
                {
                    Vector512<float> s0 = bias, s1 = bias, s2 = bias, s3 = bias, s4 = bias, s5 = bias, s6 = bias, s7 = bias;
                    bool left = j > 0, right = j + Tile < w;
                    TileRow(above, j, left, right, w0, w1, w2, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
                    TileRow(middle, j, left, right, w3, w4, w5, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
                    TileRow(below, j, left, right, w6, w7, w8, ref s0, ref s1, ref s2, ref s3, ref s4, ref s5, ref s6, ref s7);
                    float* o = yRow + (j * B);
                    Finish(s0, relu).Store(o);
                    Finish(s1, relu).Store(o + B);
                    Finish(s2, relu).Store(o + (2 * B));
                    Finish(s3, relu).Store(o + (3 * B));
                    Finish(s4, relu).Store(o + (4 * B));
                    Finish(s5, relu).Store(o + (5 * B));
                    Finish(s6, relu).Store(o + (6 * B));
                    Finish(s7, relu).Store(o + (7 * B));
                }

                // The last w % Tile outputs (none for OSNet's widths 32, 16, 8), one at a time.
                for (; j < w; j++)
                {
                    Vector512<float> s = bias;
                    s = Tap3(above, j, w, w0, w1, w2, s);
                    s = Tap3(middle, j, w, w3, w4, w5, s);
                    s = Tap3(below, j, w, w6, w7, w8, s);
                    Finish(s, relu).Store(yRow + (j * B));
                }
            }

            item += last - first;
        }
    }

    /// <summary>
    /// One input row's three taps (weights a, b, c for columns -1, 0, +1) into the tile of 8 outputs at column j:
    /// input column j + t is loaded once and goes to outputs t + 1 (a), t (b) and t - 1 (c), so every output still
    /// adds a, b, c in that order. <paramref name="left"/>/<paramref name="right"/>: columns j - 1 / j + 8 exist.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileRow(float* row, int j, bool left, bool right, Vector512<float> a, Vector512<float> b, Vector512<float> c,
        ref Vector512<float> s0, ref Vector512<float> s1, ref Vector512<float> s2, ref Vector512<float> s3,
        ref Vector512<float> s4, ref Vector512<float> s5, ref Vector512<float> s6, ref Vector512<float> s7)
    {
        const int B = BlockedLayout.Block;
        float* p = row + (j * B);
        Vector512<float> v = left ? Vector512.Load(p - B) : Vector512<float>.Zero;
        s0 = Fma(a, v, s0);
        v = Vector512.Load(p);
        s1 = Fma(a, v, s1);
        s0 = Fma(b, v, s0);
        v = Vector512.Load(p + B);
        s2 = Fma(a, v, s2);
        s1 = Fma(b, v, s1);
        s0 = Fma(c, v, s0);
        v = Vector512.Load(p + (2 * B));
        s3 = Fma(a, v, s3);
        s2 = Fma(b, v, s2);
        s1 = Fma(c, v, s1);
        v = Vector512.Load(p + (3 * B));
        s4 = Fma(a, v, s4);
        s3 = Fma(b, v, s3);
        s2 = Fma(c, v, s2);
        v = Vector512.Load(p + (4 * B));
        s5 = Fma(a, v, s5);
        s4 = Fma(b, v, s4);
        s3 = Fma(c, v, s3);
        v = Vector512.Load(p + (5 * B));
        s6 = Fma(a, v, s6);
        s5 = Fma(b, v, s5);
        s4 = Fma(c, v, s4);
        v = Vector512.Load(p + (6 * B));
        s7 = Fma(a, v, s7);
        s6 = Fma(b, v, s6);
        s5 = Fma(c, v, s5);
        v = Vector512.Load(p + (7 * B));
        s7 = Fma(b, v, s7);
        s6 = Fma(c, v, s6);
        v = right ? Vector512.Load(p + (8 * B)) : Vector512<float>.Zero;
        s7 = Fma(c, v, s7);
    }

    /// <summary>One input row's three taps into the single output at column j of a row of width w.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Tap3(float* row, int j, int w, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> s)
    {
        const int B = BlockedLayout.Block;
        float* p = row + (j * B);
        s = Fma(a, j > 0 ? Vector512.Load(p - B) : Vector512<float>.Zero, s);
        s = Fma(b, Vector512.Load(p), s);
        return Fma(c, j + 1 < w ? Vector512.Load(p + B) : Vector512<float>.Zero, s);
    }
}
