namespace Learn.Ops.Fast;

/// <summary>
/// Pointwise convolution (every kernel size 1, stride 1, no padding) as a GEMM per group:
/// <c>y[n, co, j] = b[co] + sum over ci of w[co, ci] * x[n, g*(C_in/G) + ci, j]</c> over the flattened positions j.
/// The input already is B (C_in/G rows of N contiguous positions), so a panel is a plain copy of NR columns.
/// </summary>
internal readonly unsafe struct PointwiseGemm : IPanelSource
{
    private readonly float[] _x;
    private readonly int _inChannels, _inPerGroup, _positions;

    private int PositionsOut => _positions;

    private int Reduction => _inPerGroup;

    private PointwiseGemm(float[] x, int inChannels, int inPerGroup, int positions)
    {
        _x = x;
        _inChannels = inChannels;
        _inPerGroup = inPerGroup;
        _positions = positions;
    }

    /// <summary>True when <paramref name="g"/> is a 1x1(x1) convolution this kernel computes directly.</summary>
    public static bool Applies(ConvGeometry g) =>
        g.Axes.All(a => a.Kernel == 1 && a.Stride == 1 && a.PadBefore == 0 && a.PadAfter == 0);

    /// <summary>y = conv(x, w) + b for a geometry where <see cref="Applies"/> holds.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? b, float[] y, bool relu, int threads = 0)
    {
        using var packed = PackedWeights.Pack(g.Groups, g.OutPerGroup, g.InPerGroup, w, b, pooled: true);
        Forward(g, x, packed, y, relu, null, threads);
    }

    /// <summary>The same with the weights packed beforehand, and an optional residual added before the ReLU.</summary>
    public static void Forward(ConvGeometry g, float[] x, PackedWeights a, float[] y, bool relu, float[]? residual, int threads)
    {
        int positions = g.Axes[0].Input * g.Axes[1].Input * g.Axes[2].Input;
        var source = new PointwiseGemm(x, g.InChannels, g.InPerGroup, positions);
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
        long row = (((long)n * _inChannels) + ((long)group * _inPerGroup)) * _positions + j0;
        int ahead = Math.Min(nr, _positions - j0 - cols); // the next panel's columns of each row, if any
        for (int k = 0; k < _inPerGroup; k++, row += _positions)
        {
            if (ahead > 0)
            {
                // Each of the K rows is a separate stream a row stride apart: the hardware prefetchers do not
                // follow K streams at once, so ask for the next panel's part of this row while this one is used.
                fixed (float* next = &_x[row + cols])
                {
                    Prefetch.Rows(next, 1, 0, ahead);
                }
            }

            Span<float> dst = panel.Slice(k * nr, nr);
            _x.AsSpan((int)row, cols).CopyTo(dst);
            if (cols < nr)
            {
                dst[cols..].Clear();
            }
        }
    }
}
