using System.Numerics;

namespace Learn.Ops.Fast;

/// <summary>
/// The fast conv backward, tested equal to <see cref="ConvBackward"/>'s reference within the tolerance rule.
/// Per group, with the input's columns laid out once as an im2col matrix X_col [R, N*P] (R = (C_in/G) * taps,
/// P = output positions, each entry the input cell that tap reads through the padding mode's index map, 0 for
/// zero padding) and dY_g [C_out/G, N*P]:
/// <list type="bullet">
/// <item><term>dW</term><description>dW_g = dY_g * X_col^T: one vectorised dot product per (output channel, row);
/// for depthwise (R = taps of one channel) that is one dot per tap and channel.</description></item>
/// <item><term>dX</term><description>dCol = W_g^T * dY_g (rows accumulated as vectorised a*x + y), then col2im:
/// every column entry added back onto the input cell it was read from. This is the transposed convolution,
/// the padding modes' fold included; cells no column reads stay exact zeros.</description></item>
/// <item><term>db</term><description>the row sums of dY.</description></item>
/// </list>
/// Every value is summed in one place in a fixed order, so results do not depend on the thread count.
/// </summary>
/// <remarks>
/// Hand-written Vector&lt;float&gt; loops like the forward kernels, rather than System.Numerics.Tensors'
/// TensorPrimitives, so the library keeps no package dependency (it also targets net8.0 for notebook kernels).
/// </remarks>
internal static class FastConvBackward
{
    /// <summary>Fills <paramref name="dx"/>, <paramref name="dw"/> and (when given) <paramref name="db"/>, all zero on entry.</summary>
    public static void Backward(ConvGeometry g, float[] x, float[] w, float[] dy, PaddingMode mode, float[] dx, float[] dw, float[]? db)
    {
        int cinG = g.InPerGroup, coutG = g.OutPerGroup;
        ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
        int taps = ad.Kernel * ah.Kernel * aw.Kernel;
        int rows = cinG * taps;
        int positions = ad.Output * ah.Output * aw.Output;
        int columns = g.Batch * positions;
        int inPlane = ad.Input * ah.Input * aw.Input;
        int[] source = SourceOffsets(g, mode); // [taps, P]: offset in one input plane, or -1
        if ((long)Math.Max(rows, coutG) * columns > Array.MaxLength)
        {
            throw new NotSupportedException($"the im2col matrix of this convolution ({rows} x {columns}) exceeds the largest array");
        }

        long macs = (long)coutG * rows * columns;

        // Many small groups (depthwise and its like): one group per worker, each with its own buffers, since one
        // group is too little work to split. Otherwise the groups run in turn, each split across the workers.
        if (g.Groups >= 2 * Parallelism.Threads && macs < Parallelism.SerialBelowMacs)
        {
            Parallelism.For(0, g.Groups, macs * g.Groups, (g0, g1) => // 0: Parallelism.Threads
            {
                var buffers = new Buffers(rows, coutG, columns);
                for (int group = g0; group < g1; group++)
                {
                    Group(g, group, x, w, dy, source, dx, dw, db, buffers, Serial);
                }
            });
            return;
        }

        var shared = new Buffers(rows, coutG, columns);
        for (int group = 0; group < g.Groups; group++)
        {
            Group(g, group, x, w, dy, source, dx, dw, db, shared, Split);
        }
    }

    private static void Serial(int count, long macs, Action<int, int> body) => body(0, count);

    // Across Parallelism.Threads workers (0: the default thread count).
    private static void Split(int count, long macs, Action<int, int> body) => Parallelism.For(0, count, macs, body);

    /// <summary>The per-group work buffers: X_col, dY_g and dCol.</summary>
    private sealed class Buffers(int rows, int coutG, int columns)
    {
        public float[] Col { get; } = new float[rows * columns];

        public float[] DyGroup { get; } = new float[coutG * columns];

        public float[] Dcol { get; } = new float[rows * columns];
    }

    /// <summary>dW, db and dX for one group; <paramref name="parallelFor"/> splits its loops (or runs them serially).</summary>
    private static void Group(ConvGeometry g, int group, float[] x, float[] w, float[] dy, int[] source, float[] dx, float[] dw, float[]? db,
        Buffers buffers, Action<int, long, Action<int, int>> parallelFor)
    {
        int cinG = g.InPerGroup, coutG = g.OutPerGroup;
        ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
        int taps = ad.Kernel * ah.Kernel * aw.Kernel;
        int rows = cinG * taps;
        int positions = ad.Output * ah.Output * aw.Output;
        int columns = g.Batch * positions;
        int inPlane = ad.Input * ah.Input * aw.Input;
        long macs = (long)coutG * rows * columns;
        float[] col = buffers.Col, dyGroup = buffers.DyGroup, dcol = buffers.Dcol;

        // Gather: X_col for this group's input channels and dY_g, the batch side by side along the columns.
        parallelFor(rows, macs, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int c = group * cinG + r / taps, tap = r % taps;
                for (int n = 0; n < g.Batch; n++)
                {
                    int plane = (n * g.InChannels + c) * inPlane;
                    Span<float> dst = col.AsSpan(r * columns + n * positions, positions);
                    ReadOnlySpan<int> src = source.AsSpan(tap * positions, positions);
                    for (int p = 0; p < positions; p++)
                    {
                        dst[p] = src[p] < 0 ? 0f : x[plane + src[p]];
                    }
                }
            }
        });
        for (int co = 0; co < coutG; co++)
        {
            for (int n = 0; n < g.Batch; n++)
            {
                Array.Copy(dy, (n * g.OutChannels + group * coutG + co) * positions, dyGroup, co * columns + n * positions, positions);
            }
        }

        // dW_g[co, r] = sum over columns of dY_g[co, :] * X_col[r, :], four output channels per pass over a
        // column row so that each X_col row is read once per four dot products (blocks fixed, not per thread).
        int blocks = (coutG + 3) / 4;
        parallelFor(blocks, macs, (b0, b1) =>
        {
            for (int block = b0; block < b1; block++)
            {
                int co0 = block * 4, count = Math.Min(4, coutG - co0);
                for (int r = 0; r < rows; r++)
                {
                    DotRows(dyGroup, co0 * columns, count, columns, col.AsSpan(r * columns, columns), dw, ((group * coutG) + co0) * rows + r, rows);
                }

                for (int co = co0; db is not null && co < co0 + count; co++)
                {
                    db[group * coutG + co] = Sum(dyGroup.AsSpan(co * columns, columns));
                }
            }
        });

        // dCol[r, :] = sum over co of W_g[co, r] * dY_g[co, :], added in co order, four rows of dY per pass.
        parallelFor(rows, macs, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                Span<float> dst = dcol.AsSpan(r * columns, columns);
                dst.Clear();
                for (int co = 0; co < coutG; co += 4)
                {
                    int count = Math.Min(4, coutG - co);
                    MultiplyAddRows(w, ((group * coutG) + co) * rows + r, rows, dyGroup, co * columns, count, columns, dst);
                }
            }
        });

        // col2im: each column entry back onto the input cell it read. Planes (n, c) are disjoint, so they run in
        // parallel; within a plane the taps are added in a fixed order.
        parallelFor(g.Batch * cinG, (long)rows * columns, (i0, i1) =>
        {
            for (int i = i0; i < i1; i++)
            {
                int n = i / cinG, ci = i % cinG;
                int plane = (n * g.InChannels + group * cinG + ci) * inPlane;
                for (int tap = 0; tap < taps; tap++)
                {
                    ReadOnlySpan<float> from = dcol.AsSpan((ci * taps + tap) * columns + n * positions, positions);
                    ReadOnlySpan<int> src = source.AsSpan(tap * positions, positions);
                    for (int p = 0; p < positions; p++)
                    {
                        if (src[p] >= 0)
                        {
                            dx[plane + src[p]] += from[p];
                        }
                    }
                }
            }
        });
    }

    /// <summary>For every tap and output position, the offset within one input plane that the forward reads (-1: zero padding).</summary>
    private static int[] SourceOffsets(ConvGeometry g, PaddingMode mode)
    {
        ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
        int positions = ad.Output * ah.Output * aw.Output;
        var offsets = new int[ad.Kernel * ah.Kernel * aw.Kernel * positions];
        int i = 0;
        for (int kd = 0; kd < ad.Kernel; kd++)
        {
            for (int kh = 0; kh < ah.Kernel; kh++)
            {
                for (int kw = 0; kw < aw.Kernel; kw++)
                {
                    for (int od = 0; od < ad.Output; od++)
                    {
                        int id = PaddingModes.SourceIndex(ad.InputIndex(od, kd), ad.Input, mode);
                        for (int oh = 0; oh < ah.Output; oh++)
                        {
                            int ih = PaddingModes.SourceIndex(ah.InputIndex(oh, kh), ah.Input, mode);
                            for (int ow = 0; ow < aw.Output; ow++)
                            {
                                int iw = PaddingModes.SourceIndex(aw.InputIndex(ow, kw), aw.Input, mode);
                                offsets[i++] = id < 0 || ih < 0 || iw < 0 ? -1 : (id * ah.Input + ih) * aw.Input + iw;
                            }
                        }
                    }
                }
            }
        }

        return offsets;
    }

    /// <summary>
    /// out[i * outStride] = dot(rows[start + i*length ..], b) for the <paramref name="count"/> (1..4) consecutive rows:
    /// each value summed as lane-wise FMAs, the lanes added, then the scalar tail, whatever the count.
    /// </summary>
    private static void DotRows(float[] rows, int start, int count, int length, ReadOnlySpan<float> b, float[] output, int at, int outStride)
    {
        int width = Vector<float>.Count, i = 0;
        Vector<float> acc0 = Vector<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        ReadOnlySpan<float> r0 = rows.AsSpan(start, length);
        ReadOnlySpan<float> r1 = count > 1 ? rows.AsSpan(start + length, length) : r0;
        ReadOnlySpan<float> r2 = count > 2 ? rows.AsSpan(start + (2 * length), length) : r0;
        ReadOnlySpan<float> r3 = count > 3 ? rows.AsSpan(start + (3 * length), length) : r0;
        for (; i <= length - width; i += width)
        {
            var v = new Vector<float>(b[i..]);
            acc0 = Simd.Fma(new Vector<float>(r0[i..]), v, acc0);
            acc1 = Simd.Fma(new Vector<float>(r1[i..]), v, acc1);
            acc2 = Simd.Fma(new Vector<float>(r2[i..]), v, acc2);
            acc3 = Simd.Fma(new Vector<float>(r3[i..]), v, acc3);
        }

        float s0 = Vector.Sum(acc0), s1 = Vector.Sum(acc1), s2 = Vector.Sum(acc2), s3 = Vector.Sum(acc3);
        for (; i < length; i++)
        {
            s0 += r0[i] * b[i];
            s1 += r1[i] * b[i];
            s2 += r2[i] * b[i];
            s3 += r3[i] * b[i];
        }

        output[at] = s0;
        if (count > 1)
        {
            output[at + outStride] = s1;
        }

        if (count > 2)
        {
            output[at + (2 * outStride)] = s2;
        }

        if (count > 3)
        {
            output[at + (3 * outStride)] = s3;
        }
    }

    private static float Sum(ReadOnlySpan<float> a)
    {
        int width = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        for (; i <= a.Length - width; i += width)
        {
            acc += new Vector<float>(a[i..]);
        }

        float sum = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            sum += a[i];
        }

        return sum;
    }

    /// <summary>
    /// dst += sum over i &lt; count of w[wAt + i*wStride] * rows[start + i*length ..], added in i order per element
    /// (the same order as one row at a time, so the grouping by four does not change the result).
    /// </summary>
    private static void MultiplyAddRows(float[] w, int wAt, int wStride, float[] rows, int start, int count, int length, Span<float> dst)
    {
        int width = Vector<float>.Count, i = 0;
        float w0 = w[wAt], w1 = count > 1 ? w[wAt + wStride] : 0f, w2 = count > 2 ? w[wAt + (2 * wStride)] : 0f, w3 = count > 3 ? w[wAt + (3 * wStride)] : 0f;
        ReadOnlySpan<float> r0 = rows.AsSpan(start, length);
        ReadOnlySpan<float> r1 = count > 1 ? rows.AsSpan(start + length, length) : r0;
        ReadOnlySpan<float> r2 = count > 2 ? rows.AsSpan(start + (2 * length), length) : r0;
        ReadOnlySpan<float> r3 = count > 3 ? rows.AsSpan(start + (3 * length), length) : r0;
        if (count == 4)
        {
            Vector<float> v0 = new(w0), v1 = new(w1), v2 = new(w2), v3 = new(w3);
            for (; i <= length - width; i += width)
            {
                var d = new Vector<float>(dst[i..]);
                d = Simd.Fma(v0, new Vector<float>(r0[i..]), d);
                d = Simd.Fma(v1, new Vector<float>(r1[i..]), d);
                d = Simd.Fma(v2, new Vector<float>(r2[i..]), d);
                d = Simd.Fma(v3, new Vector<float>(r3[i..]), d);
                d.CopyTo(dst[i..]);
            }

            for (; i < length; i++)
            {
                dst[i] = dst[i] + (w0 * r0[i]) + (w1 * r1[i]) + (w2 * r2[i]) + (w3 * r3[i]);
            }

            return;
        }

        // Fewer than four rows left (the tail of C_out/G): one row at a time, in the same order.
        ReadOnlySpan<float> single = r0;
        for (int row = 0; row < count; row++)
        {
            float scale = row switch { 0 => w0, 1 => w1, 2 => w2, _ => w3 };
            single = row switch { 0 => r0, 1 => r1, 2 => r2, _ => r3 };
            var s = new Vector<float>(scale);
            int j = 0;
            for (; j <= length - width; j += width)
            {
                Simd.Fma(s, new Vector<float>(single[j..]), new Vector<float>(dst[j..])).CopyTo(dst[j..]);
            }

            for (; j < length; j++)
            {
                dst[j] += scale * single[j];
            }
        }
    }
}
