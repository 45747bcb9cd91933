using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Learn.Ops.Fast.Simd;

namespace Learn.Ops.Fast.Blocked;

/// <summary>
/// A direct convolution from an NCHW input with few channels to a blocked output (<see cref="BlockedLayout"/>): OSNet's
/// stem, 7x7 stride 2 over the 3 colour channels, writing the layout the rest of the plan reads (MLAS's "NCHW input"
/// convolution does the same). Square kernel, one stride and zero padding for both axes, groups 1, no dilation:
/// <c>y[n, co, i, j] = act(b[co] + sum over (ci, u, v) of w[co, ci, u, v] * xpad[n, ci, i*s + u, j*s + v])</c>, summed
/// in (ci, u, v) order from the bias, then the ReLU.
/// </summary>
/// <remarks>
/// Each call of the micro-kernel computes 12 output positions of one row for two blocks of 16 output channels (one
/// where one is left): for every tap it broadcasts the 12 input values under it and multiplies each by two weight
/// vectors (24 accumulators, 24 FMAs per 14 loads; with 3 input channels there is no channel block to share, so the
/// positions are the broadcast side). The input is copied once per image into a zero-padded buffer, so the kernel reads without bounds checks;
/// strides 1 and 2 are compiled as constants (a type parameter), so the 12 values under a tap are read at fixed
/// offsets from one pointer with no per-value address arithmetic. A row's last tile is shifted left to end at the
/// row's end, recomputing a few positions with the same values.
/// </remarks>
internal sealed unsafe class BlockedDirectConv
{
    private const int B = BlockedLayout.Block;

    /// <summary>Output positions per micro-kernel call.</summary>
    private const int P = 12;

    private readonly int _inChannels, _outChannels, _kernel, _stride, _padding;
    private readonly float[] _weights; // [block][K][16], K = C_in * kernel * kernel in (ci, u, v) order
    private readonly float[] _bias;    // [blocks * 16], zeros past C_out

    /// <summary>Packs <paramref name="w"/> [C_out, C_in, k, k] and an optional <paramref name="bias"/> [C_out].</summary>
    public BlockedDirectConv(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int outChannels, int inChannels, int kernel, int stride, int padding)
    {
        int k = inChannels * kernel * kernel;
        if (w.Length != outChannels * k || (bias.Length != 0 && bias.Length != outChannels) || stride < 1 || padding < 0 || kernel < 1)
        {
            throw new ArgumentException($"direct conv: expected weights [{outChannels}, {inChannels}, {kernel}, {kernel}] and a bias of {outChannels}, got {w.Length} and {bias.Length}");
        }

        (_inChannels, _outChannels, _kernel, _stride, _padding) = (inChannels, outChannels, kernel, stride, padding);
        int blocks = BlockedLayout.Blocks(outChannels);
        _weights = new float[blocks * k * B];
        _bias = new float[blocks * B];
        for (int co = 0; co < outChannels; co++)
        {
            int block = co / B, lane = co % B;
            for (int t = 0; t < k; t++)
            {
                _weights[(((block * k) + t) * B) + lane] = w[(co * k) + t];
            }
        }

        bias.CopyTo(_bias);
    }

    /// <summary>C_out.</summary>
    public int OutChannels => _outChannels;

    /// <summary>K = C_in * k * k, the products summed into each output.</summary>
    public int Reduction => _inChannels * _kernel * _kernel;

    /// <summary>The output size along an axis of <paramref name="size"/> inputs; 0 when the kernel does not fit the padded input.</summary>
    public int Out(int size) => size + (2 * _padding) < _kernel ? 0 : ((size + (2 * _padding) - _kernel) / _stride) + 1;

    /// <summary>The floats of the zero-padded copy of an input [n, C_in, h, w] that <see cref="Forward"/> reads.</summary>
    public int PaddedLength(int n, int h, int w)
    {
        var (ph, pw) = PaddedPlane(h, w);
        return checked(n * _inChannels * ph * pw);
    }

    /// <summary>
    /// y (blocked, [n, C_out, OH, OW]) = act(conv(x) + b) for x [n, C_in, h, w] in NCHW. The padded copy of x goes to
    /// <paramref name="padded"/> (at least <see cref="PaddedLength"/>) when given, as a plan's context gives it so a
    /// steady-state forward allocates nothing; otherwise it is rented from the shared pool, which may allocate.
    /// The input starts at <paramref name="xOffset"/> in <paramref name="x"/> (a plan's image of a larger batch).
    /// </summary>
    public void Forward(float[] x, int n, int h, int w, float[] y, bool relu, int threads, float[]? padded = null, int xOffset = 0)
    {
        int oh = Out(h), ow = Out(w), paddedLength = PaddedLength(n, h, w);
        if (xOffset < 0 || x.Length - xOffset < n * _inChannels * h * w || y.Length < BlockedLayout.Length(n, _outChannels, oh, ow) || oh < 1 || ow < 1
            || padded?.Length < paddedLength)
        {
            throw new ArgumentException($"direct conv: x needs [{n}, {_inChannels}, {h}, {w}], y {BlockedLayout.Length(n, _outChannels, oh, ow)} floats and the padded copy {paddedLength}");
        }

        var (ph, pw) = PaddedPlane(h, w);
        int planeLength = ph * pw;
        bool rented = padded is null;
        padded ??= ArrayPool<float>.Shared.Rent(paddedLength);
        try
        {
            // Static lambdas with their inputs as state: a call on one thread allocates nothing (Parallelism.For<TState>).
            // Items are padded rows, priced like elementwise work so that with several threads the copy is split too:
            // a worker asleep since the last call wakes while this copy runs, not while the convolution waits for it.
            Parallelism.For(threads, n * _inChannels * ph, (long)n * _inChannels * planeLength * FastElementwise.ElementCost,
                (x, xOffset, padded, ph, pw, h, w, _padding),
                static (a, start, end) =>
                {
                    for (int item = start; item < end; item++)
                    {
                        int plane = item / a.ph, r = (item % a.ph) - a._padding;
                        Span<float> row = a.padded.AsSpan(item * a.pw, a.pw);
                        if (r < 0 || r >= a.h)
                        {
                            row.Clear();
                            continue;
                        }

                        row[..a._padding].Clear();
                        a.x.AsSpan(a.xOffset + (((plane * a.h) + r) * a.w), a.w).CopyTo(row[a._padding..]);
                        row[(a._padding + a.w)..].Clear();
                    }
                });

            long macs = (long)n * oh * ow * _outChannels * _inChannels * _kernel * _kernel;
            Parallelism.For(threads, n * oh, macs, (conv: this, padded, ph, pw, oh, ow, y, relu), static (a, start, end) =>
            {
                // The stride as a type, so the 12 broadcast offsets of strides 1 and 2 are constants in the kernel.
                switch (a.conv._stride)
                {
                    case 1:
                        a.conv.Rows<StrideOne>(a.padded, a.ph, a.pw, a.oh, a.ow, a.y, a.relu, start, end);
                        break;
                    case 2:
                        a.conv.Rows<StrideTwo>(a.padded, a.ph, a.pw, a.oh, a.ow, a.y, a.relu, start, end);
                        break;
                    default:
                        a.conv.Rows<AnyStride>(a.padded, a.ph, a.pw, a.oh, a.ow, a.y, a.relu, start, end);
                        break;
                }
            });
        }
        finally
        {
            if (rented)
            {
                ArrayPool<float>.Shared.Return(padded);
            }
        }
    }

    /// <summary>
    /// The padded plane's rows and row length. A padded row holds every column any tile reads: a shifted last tile
    /// stays inside the row; a map narrower than a tile (OW &lt; P) reads (P - 1)*s + k columns.
    /// </summary>
    private (int Rows, int RowLength) PaddedPlane(int h, int w) =>
        (h + (2 * _padding), Math.Max(w + (2 * _padding), ((Math.Max(Out(w), P) - 1) * _stride) + _kernel));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Rows<TStride>(float[] padded, int ph, int pw, int oh, int ow, float[] y, bool relu, int start, int end)
        where TStride : struct, IStride
    {
        int blocks = BlockedLayout.Blocks(_outChannels), k = _inChannels * _kernel * _kernel;
        Span<float> tile = stackalloc float[P * B];
        fixed (float* px = padded, pwts = _weights, pb = _bias, py = y, pt = tile)
        {
            for (int item = start; item < end; item++)
            {
                int img = item / oh, i = item % oh;
                float* rows = px + ((long)img * _inChannels * ph * pw) + ((long)i * _stride * pw);
                long kb = (long)k * B, plane = (long)oh * ow * B;
                for (int block = 0; block < blocks;)
                {
                    float* wb = pwts + (block * kb);
                    float* yRow = py + (((((long)img * blocks) + block) * oh + i) * ow * B);
                    if (ow < P)
                    {
                        // The whole row is shorter than a tile: compute a full tile into scratch, keep ow positions.
                        Tile<TStride, OneBlock>(rows, ph, pw, 0, wb, kb, pb + (block * B), relu, pt, 0);
                        new Span<float>(pt, ow * B).CopyTo(new Span<float>(yRow, ow * B));
                        block++;
                        continue;
                    }

                    // Two blocks per tile where two are left: each broadcast input then feeds 2 FMAs.
                    bool two = block + 1 < blocks;
                    for (int j0 = 0; j0 < ow; j0 += P)
                    {
                        int j = Math.Min(j0, ow - P);
                        if (two)
                        {
                            Tile<TStride, TwoBlocks>(rows, ph, pw, j, wb, kb, pb + (block * B), relu, yRow + ((long)j * B), plane);
                        }
                        else
                        {
                            Tile<TStride, OneBlock>(rows, ph, pw, j, wb, kb, pb + (block * B), relu, yRow + ((long)j * B), plane);
                        }
                    }

                    block += two ? 2 : 1;
                }
            }
        }
    }

    /// <summary>
    /// Positions j .. j+11 of one output row for one block, or two (<typeparamref name="TBlocks"/>): out[p*16 + lane],
    /// the second block's at out + <paramref name="plane"/>, its weights at w + <paramref name="kb"/>.
    /// <paramref name="rows"/> is the row's first input row in the padded copy (channel ci's rows start ci*ph*pw further).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tile<TStride, TBlocks>(float* rows, int ph, int pw, int j, float* w, long kb, float* bias, bool relu, float* output, long plane)
        where TStride : struct, IStride
        where TBlocks : struct, IStride
    {
        bool two = TBlocks.Value == 2;
        int s = TStride.Value > 0 ? TStride.Value : _stride, kernel = _kernel;
        Vector512<float> b = Vector512.Load(bias);
        Vector512<float> c0 = b, c1 = b, c2 = b, c3 = b, c4 = b, c5 = b, c6 = b, c7 = b, c8 = b, c9 = b, c10 = b, c11 = b;
        Vector512<float> e = two ? Vector512.Load(bias + B) : b;
        Vector512<float> d0 = e, d1 = e, d2 = e, d3 = e, d4 = e, d5 = e, d6 = e, d7 = e, d8 = e, d9 = e, d10 = e, d11 = e;
        for (int ci = 0; ci < _inChannels; ci++)
        {
            for (int u = 0; u < kernel; u++)
            {
                float* x = rows + ((((long)ci * ph) + u) * pw) + ((long)j * s);
                for (int v = 0; v < kernel; v++, w += B, x++)
                {
                    Vector512<float> wv = Vector512.Load(w);
                    Vector512<float> x0 = Vector512.Create(x[0]), x1 = Vector512.Create(x[s]), x2 = Vector512.Create(x[2 * s]);
                    Vector512<float> x3 = Vector512.Create(x[3 * s]), x4 = Vector512.Create(x[4 * s]), x5 = Vector512.Create(x[5 * s]);
                    c0 = Fma(x0, wv, c0);
                    c1 = Fma(x1, wv, c1);
                    c2 = Fma(x2, wv, c2);
                    c3 = Fma(x3, wv, c3);
                    c4 = Fma(x4, wv, c4);
                    c5 = Fma(x5, wv, c5);
                    if (two)
                    {
                        Vector512<float> wv2 = Vector512.Load(w + kb);
                        d0 = Fma(x0, wv2, d0);
                        d1 = Fma(x1, wv2, d1);
                        d2 = Fma(x2, wv2, d2);
                        d3 = Fma(x3, wv2, d3);
                        d4 = Fma(x4, wv2, d4);
                        d5 = Fma(x5, wv2, d5);
                        Vector512<float> x6 = Vector512.Create(x[6 * s]), x7 = Vector512.Create(x[7 * s]), x8 = Vector512.Create(x[8 * s]);
                        Vector512<float> x9 = Vector512.Create(x[9 * s]), x10 = Vector512.Create(x[10 * s]), x11 = Vector512.Create(x[11 * s]);
                        c6 = Fma(x6, wv, c6);
                        c7 = Fma(x7, wv, c7);
                        c8 = Fma(x8, wv, c8);
                        c9 = Fma(x9, wv, c9);
                        c10 = Fma(x10, wv, c10);
                        c11 = Fma(x11, wv, c11);
                        d6 = Fma(x6, wv2, d6);
                        d7 = Fma(x7, wv2, d7);
                        d8 = Fma(x8, wv2, d8);
                        d9 = Fma(x9, wv2, d9);
                        d10 = Fma(x10, wv2, d10);
                        d11 = Fma(x11, wv2, d11);
                    }
                    else
                    {
                        c6 = Fma(Vector512.Create(x[6 * s]), wv, c6);
                        c7 = Fma(Vector512.Create(x[7 * s]), wv, c7);
                        c8 = Fma(Vector512.Create(x[8 * s]), wv, c8);
                        c9 = Fma(Vector512.Create(x[9 * s]), wv, c9);
                        c10 = Fma(Vector512.Create(x[10 * s]), wv, c10);
                        c11 = Fma(Vector512.Create(x[11 * s]), wv, c11);
                    }
                }
            }
        }

        if (two)
        {
            float* o = output + plane;
            Store(o, d0, relu);
            Store(o + B, d1, relu);
            Store(o + (2 * B), d2, relu);
            Store(o + (3 * B), d3, relu);
            Store(o + (4 * B), d4, relu);
            Store(o + (5 * B), d5, relu);
            Store(o + (6 * B), d6, relu);
            Store(o + (7 * B), d7, relu);
            Store(o + (8 * B), d8, relu);
            Store(o + (9 * B), d9, relu);
            Store(o + (10 * B), d10, relu);
            Store(o + (11 * B), d11, relu);
        }

        Store(output, c0, relu);
        Store(output + B, c1, relu);
        Store(output + (2 * B), c2, relu);
        Store(output + (3 * B), c3, relu);
        Store(output + (4 * B), c4, relu);
        Store(output + (5 * B), c5, relu);
        Store(output + (6 * B), c6, relu);
        Store(output + (7 * B), c7, relu);
        Store(output + (8 * B), c8, relu);
        Store(output + (9 * B), c9, relu);
        Store(output + (10 * B), c10, relu);
        Store(output + (11 * B), c11, relu);
    }

    /// <summary>A stride known when the kernel is compiled (<see cref="Value"/> &gt; 0), or read at run time (0).</summary>
    private interface IStride
    {
        static abstract int Value { get; }
    }

    private readonly struct StrideOne : IStride
    {
        public static int Value => 1;
    }

    private readonly struct StrideTwo : IStride
    {
        public static int Value => 2;
    }

    private readonly struct AnyStride : IStride
    {
        public static int Value => 0;
    }

    /// <summary>Output blocks per micro-kernel call, as a type like the stride (the same interface).</summary>
    private readonly struct OneBlock : IStride
    {
        public static int Value => 1;
    }

    private readonly struct TwoBlocks : IStride
    {
        public static int Value => 2;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* at, Vector512<float> v, bool relu) => Finish(v, relu).Store(at);
}
