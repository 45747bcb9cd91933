using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Learn.Ops.Fast;

/// <summary>
/// General convolution as the packed GEMM with B read in place, no im2col at all: the input is copied once
/// into a padded, width-phase-split buffer (as the depthwise kernel does), after which row
/// kk = (ci, td, th, tw) of B for output columns ow0 .. ow0+NR-1 of output row (od, oh) is one contiguous
/// run of that buffer, at a fixed offset from the run of tap (0, 0, 0, 0). The micro-kernel follows a table of
/// K offsets instead of a packed panel.
/// </summary>
/// <remarks>
/// Buffer layout per input channel: [q &lt; sw][pd &lt; DRows][ph &lt; HRows][i &lt; RowLength], holding
/// xpad[pd, ph, i*sw + q]. So tap (td, th, tw) of output (od, oh, ow) sits at
/// ((q*DRows + od*sd + td*dd)*HRows + oh*sh + th*dh)*RowLength + ow + (tw*dw)/sw with q = (tw*dw) % sw.
/// A panel never crosses an output row, so rows are padded to whole panels; it pays when that padding is
/// small (<see cref="Applies"/>). Copying costs one pass over the input instead of K/(kernel taps) passes
/// of a gather, which is what makes grouped (small C_out/G) convolutions and 7x7 stems copy-bound otherwise.
/// </remarks>
internal readonly unsafe struct IndirectConv : IPanelSource
{
    private readonly float* _buffer;
    private readonly int* _offsets;
    private readonly Layout _l;

    private IndirectConv(float* buffer, int* offsets, Layout layout)
    {
        _buffer = buffer;
        _offsets = offsets;
        _l = layout;
    }

    /// <summary>True when whole-panel rows waste at most a quarter of the work and the padded copy and its offsets fit an int.</summary>
    public static bool Applies(ConvGeometry g)
    {
        int ow = g.Axes[2].Output, nr = PackedGemm.NR;
        int chunks = (ow + nr - 1) / nr;
        return chunks * nr * 4 <= ow * 5 && Fits(g);
    }

    /// <summary>True when the padded copy and its offsets fit an int: then this kernel computes <paramref name="g"/> (any other shape, when forced).</summary>
    public static bool Fits(ConvGeometry g)
    {
        var layout = new Layout(g);
        return layout.ChannelStride * g.InPerGroup < int.MaxValue / 2
            && layout.ChannelStride * g.InChannels * g.Batch < int.MaxValue / 2;
    }

    /// <summary>y = conv(x, w) + b for a geometry where <see cref="Applies"/> holds.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? b, float[] y, PaddingMode mode, bool relu, int threads = 0)
    {
        using var packed = PackedWeights.Pack(g.Groups, g.OutPerGroup, g.ReductionLength, w, b, pooled: true);
        Forward(g, x, packed, y, mode, relu, null, threads);
    }

    /// <summary>The floats of the padded copy of the input that a forward of <paramref name="g"/> needs.</summary>
    public static int BufferLength(ConvGeometry g) => BufferLength(g, new Layout(g));

    private static int BufferLength(ConvGeometry g, in Layout l) => checked((int)((long)g.Batch * g.InChannels * l.ChannelStride));

    /// <summary>
    /// The same with the weights packed beforehand, and an optional residual added before the ReLU. A caller that
    /// keeps its own buffers (a plan's context: a steady-state forward must not allocate) passes the padded copy's
    /// <paramref name="buffer"/> (at least <see cref="BufferLength(ConvGeometry)"/>) and the K tap <paramref name="offsets"/>;
    /// otherwise they are rented from the shared pools, which may allocate when the runtime has trimmed them.
    /// </summary>
    public static void Forward(ConvGeometry g, float[] x, PackedWeights a, float[] y, PaddingMode mode, bool relu, float[]? residual, int threads,
        float[]? buffer = null, int[]? offsets = null)
    {
        var l = new Layout(g);
        int size = BufferLength(g, l);
        bool rentBuffer = buffer is null, rentOffsets = offsets is null;
        if (buffer?.Length < size || offsets?.Length < g.ReductionLength)
        {
            throw new ArgumentException($"indirect conv: the buffers need {size} floats and {g.ReductionLength} offsets, got {buffer?.Length} and {offsets?.Length}");
        }

        buffer ??= ArrayPool<float>.Shared.Rent(size);
        offsets ??= ArrayPool<int>.Shared.Rent(g.ReductionLength);
        try
        {
            l.FillOffsets(offsets, g);
            fixed (float* px = x, pb = buffer)
            fixed (int* po = offsets)
            {
                nint xp = (nint)px, bp = (nint)pb;
                Parallelism.For(threads, g.Batch * g.InChannels, size * 4L, (start, end) =>
                {
                    for (int plane = start; plane < end; plane++)
                    {
                        PaddedPlane.Fill(g, l.DRows, l.HRows, l.RowLength, mode, (float*)xp + ((long)plane * l.InputChannelSize), (float*)bp + ((long)plane * l.ChannelStride));
                    }
                });
                var source = new IndirectConv(pb, po, l);
                PackedGemm.Run(g.Batch, l.Positions, a, y, source, relu, residual, threads);
            }
        }
        finally
        {
            if (rentOffsets)
            {
                ArrayPool<int>.Shared.Return(offsets);
            }

            if (rentBuffer)
            {
                ArrayPool<float>.Shared.Return(buffer);
            }
        }
    }

    /// <inheritdoc />
    public int Panels => _l.OutD * _l.OutH * _l.Chunks;

    /// <inheritdoc />
    public void Columns(int panel, out int j0, out int cols)
    {
        int row = panel / _l.Chunks, ow0 = panel % _l.Chunks * PackedGemm.NR;
        j0 = (row * _l.OutW) + ow0;
        cols = Math.Min(PackedGemm.NR, _l.OutW - ow0);
    }

    /// <inheritdoc />
    public float* Rows(int n, int group, int panel, int cols, float* scratch, int* packedOffsets, out int* offsets)
    {
        int row = panel / _l.Chunks, ow0 = panel % _l.Chunks * PackedGemm.NR;
        int od = row / _l.OutH, oh = row % _l.OutH;
        long channel = ((long)n * _l.InChannels) + ((long)group * _l.InPerGroup);
        offsets = _offsets;
        return _buffer + (channel * _l.ChannelStride) + ((((long)od * _l.SD * _l.HRows) + ((long)oh * _l.SH)) * _l.RowLength) + ow0;
    }

    /// <summary>The sizes of the padded, phase-split buffer (a struct: a plan's steady-state forward allocates nothing for it).</summary>
    private readonly struct Layout
    {
        public Layout(ConvGeometry g)
        {
            ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
            InChannels = g.InChannels;
            InPerGroup = g.InPerGroup;
            (OutD, OutH, OutW) = (ad.Output, ah.Output, aw.Output);
            (SD, SH, SW) = (ad.Stride, ah.Stride, aw.Stride);
            Chunks = (OutW + PackedGemm.NR - 1) / PackedGemm.NR;
            DRows = ((OutD - 1) * ad.Stride) + ((ad.Kernel - 1) * ad.Dilation) + 1;
            HRows = ((OutH - 1) * ah.Stride) + ((ah.Kernel - 1) * ah.Dilation) + 1;
            RowLength = (Chunks * PackedGemm.NR) + ((aw.Kernel - 1) * aw.Dilation / aw.Stride);
            PaddedW = aw.Input + aw.PadBefore + aw.PadAfter;
            ChannelStride = (long)SW * DRows * HRows * RowLength;
            InputChannelSize = (long)ad.Input * ah.Input * aw.Input;
            Positions = OutD * OutH * OutW;
        }

        public int InChannels { get; }

        public int InPerGroup { get; }

        public int OutD { get; }

        public int OutH { get; }

        public int OutW { get; }

        public int SD { get; }

        public int SH { get; }

        public int SW { get; }

        public int Chunks { get; }

        public int DRows { get; }

        public int HRows { get; }

        public int RowLength { get; }

        public int PaddedW { get; }

        public long ChannelStride { get; }

        public long InputChannelSize { get; }

        public int Positions { get; }

        /// <summary>offsets[kk] for kk = ((ci*kd + td)*kh + th)*kw + tw, the weight's own order.</summary>
        public void FillOffsets(int[] offsets, ConvGeometry g)
        {
            ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
            int kk = 0;
            for (int ci = 0; ci < g.InPerGroup; ci++)
            {
                for (int td = 0; td < ad.Kernel; td++)
                {
                    for (int th = 0; th < ah.Kernel; th++)
                    {
                        for (int tw = 0; tw < aw.Kernel; tw++)
                        {
                            int q = tw * aw.Dilation % SW;
                            long rowIndex = (((long)q * DRows) + (td * ad.Dilation)) * HRows + (th * ah.Dilation);
                            offsets[kk++] = checked((int)((ci * ChannelStride) + (rowIndex * RowLength) + (tw * aw.Dilation / SW)));
                        }
                    }
                }
            }
        }
    }
}
