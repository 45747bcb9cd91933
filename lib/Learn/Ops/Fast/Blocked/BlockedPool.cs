using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Learn.Ops.Fast.Blocked;

/// <summary>Pooling on blocked maps (<see cref="BlockedLayout"/>), every channel block as 16 lanes at once.</summary>
/// <remarks>
/// Each output position is one vector over its window, the taps visited in the reference's order (row by row, the
/// window clipped to the map once per output row and column, not tested per tap). The max keeps the reference's
/// rule (a tap replaces the running max when greater or NaN), so NaN propagates and, of equal values (+0 and -0),
/// the first wins, bit for bit. The average sums in double in the reference's order and divides in double, as
/// <see cref="Ops.AvgPool2d"/> does, so it too matches bit for bit. The pools split over threads by (plane, output
/// row), the means by plane.
/// </remarks>
internal static unsafe class BlockedPool
{
    /// <summary>
    /// Output size of a pooling window: floor((size + 2*padding - kernel) / stride) + 1, and 0 when the window does not
    /// fit the padded map (C#'s division truncates toward zero, which would give 1 there and a window read past the map).
    /// </summary>
    public static int Out(int size, int kernel, int stride, int padding)
    {
        int span = size + (2 * padding) - kernel;
        return span < 0 ? 0 : (span / stride) + 1;
    }

    /// <summary>
    /// Max pooling, square window <paramref name="kernel"/>, <paramref name="stride"/>, implicit -inf
    /// <paramref name="padding"/>, floor mode: y[n, c, i, j] = max over the window's in-map positions.
    /// </summary>
    public static void MaxPool(float[] x, int n, int c, int h, int w, int kernel, int stride, int padding, float[] y, int threads)
    {
        int oh = Out(h, kernel, stride, padding), ow = Out(w, kernel, stride, padding), planes = n * BlockedLayout.Blocks(c);
        Check(x, y, n, c, h, w, oh, ow, kernel, stride, padding);
        Parallelism.For(threads, planes * oh, (long)planes * oh * ow * kernel * kernel * BlockedLayout.Block,
            (x, y, h, w, oh, ow, kernel, stride, padding), static (a, start, end) =>
            {
                fixed (float* px = a.x, py = a.y)
                {
                    MaxRows(px, py, a.h, a.w, a.oh, a.ow, a.kernel, a.stride, a.padding, start, end);
                }
            });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaxRows(float* px, float* py, int h, int w, int oh, int ow, int kernel, int stride, int padding, int start, int end)
    {
        const int B = BlockedLayout.Block;
        for (int item = start; item < end; item++)
        {
            int plane = item / oh, i = item % oh;
            int r0 = Math.Max(0, (i * stride) - padding), r1 = Math.Min(h, (i * stride) - padding + kernel);
            float* xPlane = px + ((long)plane * h * w * B);
            float* yRow = py + ((((long)plane * oh) + i) * ow * B);
            for (int j = 0; j < ow; j++)
            {
                int c0 = Math.Max(0, (j * stride) - padding), c1 = Math.Min(w, (j * stride) - padding + kernel);
                Vector512<float> m = Vector512.Create(float.NegativeInfinity);
                for (int r = r0; r < r1; r++)
                {
                    float* row = xPlane + ((long)r * w * B);
                    for (int q = c0; q < c1; q++)
                    {
                        Vector512<float> v = Vector512.Load(row + (q * B));
                        // The reference's rule per lane: v replaces m when v > m or v is NaN.
                        m = Vector512.ConditionalSelect(Vector512.GreaterThan(v, m) | ~Vector512.Equals(v, v), v, m);
                    }
                }

                m.Store(yRow + (j * B));
            }
        }
    }

    /// <summary>Average pooling, square window <paramref name="kernel"/>, <paramref name="stride"/>, no padding, floor mode: the window's mean.</summary>
    public static void AvgPool(float[] x, int n, int c, int h, int w, int kernel, int stride, float[] y, int threads)
    {
        int oh = Out(h, kernel, stride, 0), ow = Out(w, kernel, stride, 0), planes = n * BlockedLayout.Blocks(c);
        Check(x, y, n, c, h, w, oh, ow, kernel, stride, 0);
        Parallelism.For(threads, planes * oh, (long)planes * oh * ow * kernel * kernel * BlockedLayout.Block,
            (x, y, h, w, oh, ow, kernel, stride), static (a, start, end) =>
            {
                fixed (float* px = a.x, py = a.y)
                {
                    AvgRows(px, py, a.h, a.w, a.oh, a.ow, a.kernel, a.stride, start, end);
                }
            });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AvgRows(float* px, float* py, int h, int w, int oh, int ow, int kernel, int stride, int start, int end)
    {
        const int B = BlockedLayout.Block;
        int count = kernel * kernel;
        // Dividing by a power of two is multiplying by its inverse exactly; other divisors are divided, as the reference does.
        bool powerOfTwo = (count & (count - 1)) == 0;
        Vector512<double> divisor = Vector512.Create((double)count), inverse = Vector512.Create(1.0 / count);
        for (int item = start; item < end; item++)
        {
            int plane = item / oh, i = item % oh;
            float* xPlane = px + ((long)plane * h * w * B);
            float* yRow = py + ((((long)plane * oh) + i) * ow * B);
            for (int j = 0; j < ow; j++)
            {
                Vector512<double> lower = Vector512<double>.Zero, upper = Vector512<double>.Zero;
                for (int r = i * stride; r < (i * stride) + kernel; r++)
                {
                    float* row = xPlane + ((long)r * w * B);
                    for (int q = j * stride; q < (j * stride) + kernel; q++)
                    {
                        (Vector512<double> lo, Vector512<double> hi) = Vector512.Widen(Vector512.Load(row + (q * B)));
                        lower += lo;
                        upper += hi;
                    }
                }

                (lower, upper) = powerOfTwo ? (lower * inverse, upper * inverse) : (lower / divisor, upper / divisor);
                Vector512.Narrow(lower, upper).Store(yRow + (j * B));
            }
        }
    }

    /// <summary>The mean of each channel over its h*w positions into <paramref name="means"/> [n*c] (plain order, logical channels).</summary>
    /// <remarks>Four vector sums per block (positions p mod 4), added pairwise at the end, then divided by h*w per lane.</remarks>
    public static void ChannelMeans(float[] x, int n, int c, int h, int w, float[] means, int threads)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(c), hw = h * w, planes = n * cb;
        long length = (long)planes * hw * B;
        if (x.Length < length || means.Length < n * c)
        {
            throw new ArgumentException($"blocked channel means: [{n}, {c}, {h}, {w}] needs a map of {length} floats and {n * c} means, got {x.Length} and {means.Length}");
        }

        if (planes == 0)
        {
            return;
        }

        Parallelism.For(threads, planes, length * FastElementwise.ElementCost, (x, means, c, cb, hw), static (a, start, end) =>
        {
            float* lanes = stackalloc float[B];
            fixed (float* px = a.x)
            {
                for (int plane = start; plane < end; plane++)
                {
                    (Sum(px + (plane * (long)a.hw * B), a.hw) / Vector512.Create((float)a.hw)).Store(lanes);
                    int img = plane / a.cb, block = plane % a.cb, first = (img * a.c) + (block * B);
                    for (int lane = 0; lane < Math.Min(B, a.c - (block * B)); lane++)
                    {
                        a.means[first + lane] = lanes[lane];
                    }
                }
            }
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Sum(float* x, int positions)
    {
        const int B = BlockedLayout.Block;
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p + 4 <= positions; p += 4)
        {
            float* xp = x + ((long)p * B);
            s0 += Vector512.Load(xp);
            s1 += Vector512.Load(xp + B);
            s2 += Vector512.Load(xp + (2 * B));
            s3 += Vector512.Load(xp + (3 * B));
        }

        for (; p < positions; p++)
        {
            s0 += Vector512.Load(x + ((long)p * B));
        }

        return (s0 + s1) + (s2 + s3);
    }

    private static void Check(float[] x, float[] y, int n, int c, int h, int w, int oh, int ow, int kernel, int stride, int padding)
    {
        if (kernel <= 0 || stride <= 0 || padding < 0 || 2 * padding > kernel || oh <= 0 || ow <= 0 || n < 0 || c < 0)
        {
            throw new ArgumentException($"blocked pooling: kernel {kernel}, stride {stride}, padding {padding} do not fit [{n}, {c}, {h}, {w}]");
        }

        if (x.Length < BlockedLayout.Length(n, c, h, w) || y.Length < BlockedLayout.Length(n, c, oh, ow))
        {
            throw new ArgumentException($"blocked pooling: [{n}, {c}, {h}, {w}] -> {oh}x{ow} needs maps of {BlockedLayout.Length(n, c, h, w)} and {BlockedLayout.Length(n, c, oh, ow)} floats, got {x.Length} and {y.Length}");
        }
    }
}
