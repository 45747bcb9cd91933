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

        var col = new float[rows * columns];
        var dyGroup = new float[coutG * columns];
        var dcol = new float[rows * columns];
        long macs = (long)coutG * rows * columns;

        for (int group = 0; group < g.Groups; group++)
        {
            // Gather: X_col for this group's input channels and dY_g, the batch side by side along the columns.
            Parallelism.For(rows, macs, (r0, r1) =>
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

            // dW_g[co, r] = sum over columns of dY_g[co, :] * X_col[r, :].
            Parallelism.For(coutG, macs, (c0, c1) =>
            {
                for (int co = c0; co < c1; co++)
                {
                    ReadOnlySpan<float> gradRow = dyGroup.AsSpan(co * columns, columns);
                    for (int r = 0; r < rows; r++)
                    {
                        dw[((group * coutG) + co) * rows + r] = Dot(gradRow, col.AsSpan(r * columns, columns));
                    }

                    if (db is not null)
                    {
                        db[group * coutG + co] = Sum(gradRow);
                    }
                }
            });

            // dCol[r, :] = sum over co of W_g[co, r] * dY_g[co, :].
            Parallelism.For(rows, macs, (r0, r1) =>
            {
                for (int r = r0; r < r1; r++)
                {
                    Span<float> dst = dcol.AsSpan(r * columns, columns);
                    dst.Clear();
                    for (int co = 0; co < coutG; co++)
                    {
                        MultiplyAdd(w[((group * coutG) + co) * rows + r], dyGroup.AsSpan(co * columns, columns), dst);
                    }
                }
            });

            // col2im: each column entry back onto the input cell it read. Planes (n, c) are disjoint, so they run in
            // parallel; within a plane the taps are added in a fixed order.
            Parallelism.For(g.Batch * cinG, (long)rows * columns, (i0, i1) =>
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

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int width = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        for (; i <= a.Length - width; i += width)
        {
            acc = Simd.Fma(new Vector<float>(a[i..]), new Vector<float>(b[i..]), acc);
        }

        float sum = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
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

    /// <summary>dst += scale * a.</summary>
    private static void MultiplyAdd(float scale, ReadOnlySpan<float> a, Span<float> dst)
    {
        int width = Vector<float>.Count, i = 0;
        var s = new Vector<float>(scale);
        for (; i <= a.Length - width; i += width)
        {
            Simd.Fma(s, new Vector<float>(a[i..]), new Vector<float>(dst[i..])).CopyTo(dst[i..]);
        }

        for (; i < a.Length; i++)
        {
            dst[i] += scale * a[i];
        }
    }
}
