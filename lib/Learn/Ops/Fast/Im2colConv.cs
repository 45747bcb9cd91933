using System.Numerics;
using System.Runtime.CompilerServices;

namespace Learn.Ops.Fast;

/// <summary>
/// General convolution (any kernel, stride, dilation, padding, padding mode, groups) as im2col + the packed
/// GEMM, per group. The im2col matrix is never built whole: each NR-column panel of it is gathered straight
/// into the GEMM's per-thread panel buffer ("implicit im2col"), so the workspace is K x NR floats.
/// </summary>
/// <remarks>
/// Row kk = ((ci*kd + td)*kh + th)*kw + tw of the panel holds, for each output position (od, oh, ow) of the
/// panel, the input value x[n, g*(C_in/G) + ci, od*sd - pd + td*dd, oh*sh - ph + th*dh, ow*sw - pw + tw*dw];
/// positions in the padding read what <see cref="PaddingModes.SourceIndex"/> says (zero for zeros mode).
/// That row order is the weight's own layout, so A is w as stored.
/// </remarks>
internal readonly unsafe struct Im2colConv : IPanelSource
{
    private readonly ConvGeometry _g;
    private readonly float[] _x;
    private readonly PaddingMode _mode;

    private int PositionsOut => _g.Axes[0].Output * _g.Axes[1].Output * _g.Axes[2].Output;

    private int Reduction => _g.ReductionLength;

    private Im2colConv(ConvGeometry g, float[] x, PaddingMode mode)
    {
        _g = g;
        _x = x;
        _mode = mode;
    }

    /// <summary>y = conv(x, w) + b for any geometry.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? b, float[] y, PaddingMode mode, bool relu, int threads = 0)
    {
        using var packed = PackedWeights.Pack(g.Groups, g.OutPerGroup, g.ReductionLength, w, b, pooled: true);
        Forward(g, x, packed, y, mode, relu, null, threads);
    }

    /// <summary>The same with the weights packed beforehand, and an optional residual added before the ReLU.</summary>
    public static void Forward(ConvGeometry g, float[] x, PackedWeights a, float[] y, PaddingMode mode, bool relu, float[]? residual, int threads)
    {
        int positions = g.Axes[0].Output * g.Axes[1].Output * g.Axes[2].Output;
        var source = new Im2colConv(g, x, mode);
        PackedGemm.Run(g.Batch, positions, a, y, source, relu, residual, threads);
    }

    /// <inheritdoc />
    public int Panels => PackedGemm.ContiguousPanels(PositionsOut);

    /// <inheritdoc />
    public void Columns(int panel, out int j0, out int cols) => PackedGemm.ContiguousColumns(panel, PositionsOut, out j0, out cols);

    /// <inheritdoc />
    public unsafe float* Rows(int n, int group, int panel, int cols, float* scratch, int* packedOffsets, out int* offsets)
    {
        Pack(n, group, panel * PackedGemm.NR, cols, new Span<float>(scratch, Reduction * PackedGemm.NR));
        offsets = packedOffsets;
        return scratch;
    }

    /// <summary>Packs the panel of output columns [j0, j0 + cols): panel[kk*NR + t], zeros past cols.</summary>
    private void Pack(int n, int group, int j0, int cols, Span<float> panel)
    {
        int nr = PackedGemm.NR;
        ConvAxis ad = _g.Axes[0], ah = _g.Axes[1], aw = _g.Axes[2];
        int inPerGroup = _g.InPerGroup;
        int taps = ad.Kernel * ah.Kernel * aw.Kernel;
        if (cols < nr)
        {
            for (int kk = 0; kk < inPerGroup * taps; kk++)
            {
                panel.Slice((kk * nr) + cols, nr - cols).Clear();
            }
        }

        // The panel's positions j0 .. j0+cols-1 cut into runs along one output row (fixed od, oh).
        int t = 0;
        while (t < cols)
        {
            int j = j0 + t;
            int ow0 = j % aw.Output;
            int rowIndex = j / aw.Output;
            int oh = rowIndex % ah.Output, od = rowIndex / ah.Output;
            int len = Math.Min(cols - t, aw.Output - ow0);
            GatherRun(n, group, od, oh, ow0, len, t, panel);
            t += len;
        }
    }

    /// <summary>Fills columns [t0, t0+len) of every panel row for the output run (od, oh, ow0 .. ow0+len-1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void GatherRun(int n, int group, int od, int oh, int ow0, int len, int t0, Span<float> panel)
    {
        int nr = PackedGemm.NR, v = Vector<float>.Count;
        ConvAxis ad = _g.Axes[0], ah = _g.Axes[1], aw = _g.Axes[2];
        int inPerGroup = _g.InPerGroup, sw = aw.Stride, width = aw.Input;
        fixed (float* px = _x, pp = panel)
        {
            float* dst = pp + t0;
            for (int ci = 0; ci < inPerGroup; ci++)
            {
                long channel = ((long)n * _g.InChannels) + ((long)group * inPerGroup) + ci;
                for (int td = 0; td < ad.Kernel; td++)
                {
                    int id = PaddingModes.SourceIndex(ad.InputIndex(od, td), ad.Input, _mode);
                    for (int th = 0; th < ah.Kernel; th++)
                    {
                        int ih = PaddingModes.SourceIndex(ah.InputIndex(oh, th), ah.Input, _mode);
                        float* row = px + (((channel * ad.Input + id) * ah.Input + ih) * width);
                        for (int tw = 0; tw < aw.Kernel; tw++, dst += nr)
                        {
                            if (id < 0 || ih < 0)
                            {
                                new Span<float>(dst, len).Clear(); // a whole row of zero padding
                                continue;
                            }

                            int iw0 = aw.InputIndex(ow0, tw);

                            // Outputs u in [lo, hi) read inside the row; those before and after read padding.
                            int lo = iw0 >= 0 ? 0 : Math.Min(len, (-iw0 + sw - 1) / sw);
                            int hi = Math.Clamp((width - iw0 + sw - 1) / sw, lo, len);
                            for (int u = 0; u < lo; u++)
                            {
                                dst[u] = Padding(row, iw0 + (u * sw), width);
                            }

                            float* src = row + iw0;
                            if (sw == 1)
                            {
                                int u = lo;
                                for (; u + v <= hi; u += v)
                                {
                                    *(Vector<float>*)(dst + u) = *(Vector<float>*)(src + u);
                                }

                                if (u < hi && hi - lo >= v)
                                {
                                    // The tail as one last vector that overlaps the previous one: same values, no scalar loop.
                                    *(Vector<float>*)(dst + hi - v) = *(Vector<float>*)(src + hi - v);
                                }
                                else
                                {
                                    for (; u < hi; u++)
                                    {
                                        dst[u] = src[u];
                                    }
                                }
                            }
                            else
                            {
                                for (int u = lo; u < hi; u++)
                                {
                                    dst[u] = src[u * sw];
                                }
                            }

                            for (int u = hi; u < len; u++)
                            {
                                dst[u] = Padding(row, iw0 + (u * sw), width);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>What padded column <paramref name="iw"/> (outside [0, width)) of an input row reads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe float Padding(float* row, int iw, int width)
    {
        int source = PaddingModes.SourceIndex(iw, width, _mode);
        return source < 0 ? 0f : row[source];
    }
}
