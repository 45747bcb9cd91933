using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Learn.Ops.Fast;

/// <summary>
/// Depthwise 2-D convolution (one input channel per group, C_in/G = 1, any channel multiplier, any kernel,
/// stride, dilation, padding and padding mode), vectorised along the output width:
/// <c>y[n, co, oh, ow] = b[co] + sum over th, tw of w[co, 0, th, tw] * xpad[n, co / mult, oh*sh + th*dh, ow*sw + tw*dw]</c>.
/// </summary>
/// <remarks>
/// Each input plane is first copied into a per-thread buffer (<see cref="PaddedPlane"/>, shared with the indirect
/// kernel) that holds it already padded (by the padding mode) and split into sw column phases: phase q holds padded columns q, q+sw, q+2sw, ... So the input of
/// output columns ow .. ow+V-1 under tap tw is one contiguous vector load at phase (tw*dw) % sw, offset
/// ow + (tw*dw) / sw, for any stride; the border needs no test in the inner loop, and rows are padded to
/// whole vectors so the last, partial vector of a row reads inside the buffer. That copy also serves all
/// the output channels of the input channel (the multiplier).
/// </remarks>
internal static unsafe class DepthwiseConv
{
    /// <summary>True when <paramref name="g"/> is a 2-D (or 1-D) convolution with one input channel per group.</summary>
    public static bool Applies(ConvGeometry g) =>
        g.InPerGroup == 1 && g.Axes[0] is { Input: 1, Kernel: 1, PadBefore: 0, PadAfter: 0 };

    /// <summary>y = conv(x, w) + b for a geometry where <see cref="Applies"/> holds.</summary>
    public static void Forward(ConvGeometry g, float[] x, float[] w, float[]? b, float[] y, PaddingMode mode, bool relu, int threads = 0)
    {
        var p = new Plan(g);
        int items = g.Batch * g.InChannels;
        long macs = (long)g.Batch * g.OutChannels * p.OutH * p.OutW * p.KH * p.KW;
        Parallelism.For(threads, items, macs, (start, end) =>
        {
            float[] plane = Workspace.Plane(p.PlaneLength);
            fixed (float* px = x, pw = w, py = y, pp = plane)
            {
                for (int item = start; item < end; item++)
                {
                    int n = item / g.InChannels, c = item % g.InChannels;
                    PaddedPlane.Fill(g, 1, p.Rows, p.RowLength, mode, px + ((long)item * p.InH * p.InW), pp);
                    for (int m = 0; m < p.Multiplier; m++)
                    {
                        int co = (c * p.Multiplier) + m;
                        float bias = b is null ? 0f : b[co];
                        float* yPlane = py + ((((long)n * g.OutChannels) + co) * p.OutH * p.OutW);
                        float* wk = pw + ((long)co * p.KH * p.KW);
                        if (p.KH == 3 && p.KW == 3 && p.Lanes > Vector<float>.Count)
                        {
                            Plane3x3Wide(p, pp, wk, bias, yPlane, relu);
                        }
                        else if (p.KH == 3 && p.KW == 3)
                        {
                            Plane3x3(p, pp, wk, bias, yPlane, relu);
                        }
                        else
                        {
                            PlaneAnyKernel(p, pp, wk, bias, yPlane, relu);
                        }
                    }
                }
            }
        });
    }

    /// <summary>The sizes of one call, worked out once.</summary>
    private sealed class Plan
    {
        public Plan(ConvGeometry g)
        {
            ConvAxis ah = g.Axes[1], aw = g.Axes[2];
            (InH, KH, SH, DH, OutH) = (ah.Input, ah.Kernel, ah.Stride, ah.Dilation, ah.Output);
            (InW, KW, SW, DW, OutW) = (aw.Input, aw.Kernel, aw.Stride, aw.Dilation, aw.Output);
            Multiplier = g.OutPerGroup;
            // 512-bit vectors along the width when the GEMM uses them too and a row fills one (3x3 only).
            Lanes = PackedGemm.Wide && KH == 3 && KW == 3 && OutW > Vector<float>.Count ? 16 : Vector<float>.Count;
            OutWVec = (OutW + Lanes - 1) / Lanes * Lanes;
            Rows = ((OutH - 1) * SH) + ((KH - 1) * DH) + 1;
            RowLength = OutWVec + ((KW - 1) * DW / SW);
            PlaneLength = SW * Rows * RowLength;
            Debug.Assert((long)SW * Rows * RowLength <= ConvGeometry.FastPlaneLimit, "geometry outside ConvGeometry.RequireFastKernelBounds");
            TapOffsets = new int[KH * KW];
            for (int th = 0; th < KH; th++)
            {
                for (int tw = 0; tw < KW; tw++)
                {
                    int q = tw * DW % SW;
                    TapOffsets[(th * KW) + tw] = (((q * Rows) + (th * DH)) * RowLength) + (tw * DW / SW);
                }
            }
        }

        public int InH { get; }
        public int KH { get; }
        public int SH { get; }
        public int DH { get; }
        public int OutH { get; }
        public int InW { get; }
        public int KW { get; }
        public int SW { get; }
        public int DW { get; }
        public int OutW { get; }
        public int Multiplier { get; }

        /// <summary>Floats per vector of the plane kernel.</summary>
        public int Lanes { get; }

        /// <summary>OutW rounded up to whole vectors.</summary>
        public int OutWVec { get; }

        /// <summary>Padded input rows the outputs read.</summary>
        public int Rows { get; }

        /// <summary>Floats per row of one phase.</summary>
        public int RowLength { get; }

        public int PlaneLength { get; }

        /// <summary>Offset of tap (th, tw) in the buffer, relative to output row 0, column 0.</summary>
        public int[] TapOffsets { get; }
    }

    /// <summary>Any kernel size: taps in a loop over precomputed offsets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PlaneAnyKernel(Plan p, float* buffer, float* wk, float bias, float* y, bool relu)
    {
        int v = Vector<float>.Count, taps = p.KH * p.KW;
        Span<float> tail = stackalloc float[v];
        fixed (int* offsets = p.TapOffsets)
        {
            for (int oh = 0; oh < p.OutH; oh++)
            {
                float* rowBase = buffer + ((long)oh * p.SH * p.RowLength);
                float* yRow = y + ((long)oh * p.OutW);
                for (int ow = 0; ow < p.OutWVec; ow += v)
                {
                    var acc = new Vector<float>(bias);
                    for (int t = 0; t < taps; t++)
                    {
                        acc = Simd.Fma(new Vector<float>(wk[t]), *(Vector<float>*)(rowBase + offsets[t] + ow), acc);
                    }

                    StoreRow(yRow, ow, p.OutW, Simd.Finish(acc, relu), tail);
                }
            }
        }
    }

    /// <summary>3x3, the common case: the nine weights stay in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Plane3x3(Plan p, float* buffer, float* wk, float bias, float* y, bool relu)
    {
        int v = Vector<float>.Count;
        Span<float> tail = stackalloc float[v];
        int[] o = p.TapOffsets;
        int o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8];
        Vector<float> w0 = new(wk[0]), w1 = new(wk[1]), w2 = new(wk[2]);
        Vector<float> w3 = new(wk[3]), w4 = new(wk[4]), w5 = new(wk[5]);
        Vector<float> w6 = new(wk[6]), w7 = new(wk[7]), w8 = new(wk[8]);
        var b = new Vector<float>(bias);
        for (int oh = 0; oh < p.OutH; oh++)
        {
            float* s = buffer + ((long)oh * p.SH * p.RowLength);
            float* yRow = y + ((long)oh * p.OutW);
            for (int ow = 0; ow < p.OutWVec; ow += v, s += v)
            {
                Vector<float> acc = Simd.Fma(w0, *(Vector<float>*)(s + o0), b);
                acc = Simd.Fma(w1, *(Vector<float>*)(s + o1), acc);
                acc = Simd.Fma(w2, *(Vector<float>*)(s + o2), acc);
                acc = Simd.Fma(w3, *(Vector<float>*)(s + o3), acc);
                acc = Simd.Fma(w4, *(Vector<float>*)(s + o4), acc);
                acc = Simd.Fma(w5, *(Vector<float>*)(s + o5), acc);
                acc = Simd.Fma(w6, *(Vector<float>*)(s + o6), acc);
                acc = Simd.Fma(w7, *(Vector<float>*)(s + o7), acc);
                acc = Simd.Fma(w8, *(Vector<float>*)(s + o8), acc);
                StoreRow(yRow, ow, p.OutW, Simd.Finish(acc, relu), tail);
            }
        }
    }

#if NET9_0_OR_GREATER
    /// <summary>3x3 with <see cref="Vector512{T}"/>: 16 output columns per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Plane3x3Wide(Plan p, float* buffer, float* wk, float bias, float* y, bool relu)
    {
        Span<float> tail = stackalloc float[16];
        int[] o = p.TapOffsets;
        int o0 = o[0], o1 = o[1], o2 = o[2], o3 = o[3], o4 = o[4], o5 = o[5], o6 = o[6], o7 = o[7], o8 = o[8];
        Vector512<float> w0 = Vector512.Create(wk[0]), w1 = Vector512.Create(wk[1]), w2 = Vector512.Create(wk[2]);
        Vector512<float> w3 = Vector512.Create(wk[3]), w4 = Vector512.Create(wk[4]), w5 = Vector512.Create(wk[5]);
        Vector512<float> w6 = Vector512.Create(wk[6]), w7 = Vector512.Create(wk[7]), w8 = Vector512.Create(wk[8]);
        var b = Vector512.Create(bias);
        long rowStep = (long)p.SH * p.RowLength;
        int oh = 0;

        // Two output rows per step: two independent FMA chains in flight instead of one.
        for (; oh + 2 <= p.OutH; oh += 2)
        {
            float* s = buffer + (oh * rowStep);
            float* t = s + rowStep;
            float* yRow = y + ((long)oh * p.OutW);
            for (int ow = 0; ow < p.OutWVec; ow += 16, s += 16, t += 16)
            {
                Vector512<float> a0 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(s + o0), b);
                Vector512<float> a1 = Vector512.FusedMultiplyAdd(w0, Vector512.Load(t + o0), b);
                a0 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(s + o1), a0);
                a1 = Vector512.FusedMultiplyAdd(w1, Vector512.Load(t + o1), a1);
                a0 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(s + o2), a0);
                a1 = Vector512.FusedMultiplyAdd(w2, Vector512.Load(t + o2), a1);
                a0 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(s + o3), a0);
                a1 = Vector512.FusedMultiplyAdd(w3, Vector512.Load(t + o3), a1);
                a0 = Vector512.FusedMultiplyAdd(w4, Vector512.Load(s + o4), a0);
                a1 = Vector512.FusedMultiplyAdd(w4, Vector512.Load(t + o4), a1);
                a0 = Vector512.FusedMultiplyAdd(w5, Vector512.Load(s + o5), a0);
                a1 = Vector512.FusedMultiplyAdd(w5, Vector512.Load(t + o5), a1);
                a0 = Vector512.FusedMultiplyAdd(w6, Vector512.Load(s + o6), a0);
                a1 = Vector512.FusedMultiplyAdd(w6, Vector512.Load(t + o6), a1);
                a0 = Vector512.FusedMultiplyAdd(w7, Vector512.Load(s + o7), a0);
                a1 = Vector512.FusedMultiplyAdd(w7, Vector512.Load(t + o7), a1);
                a0 = Vector512.FusedMultiplyAdd(w8, Vector512.Load(s + o8), a0);
                a1 = Vector512.FusedMultiplyAdd(w8, Vector512.Load(t + o8), a1);
                Store16(yRow, ow, p.OutW, a0, relu, tail);
                Store16(yRow + p.OutW, ow, p.OutW, a1, relu, tail);
            }
        }

        for (; oh < p.OutH; oh++)
        {
            float* s = buffer + (oh * rowStep);
            float* yRow = y + ((long)oh * p.OutW);
            for (int ow = 0; ow < p.OutWVec; ow += 16, s += 16)
            {
                Vector512<float> acc = Vector512.FusedMultiplyAdd(w0, Vector512.Load(s + o0), b);
                acc = Vector512.FusedMultiplyAdd(w1, Vector512.Load(s + o1), acc);
                acc = Vector512.FusedMultiplyAdd(w2, Vector512.Load(s + o2), acc);
                acc = Vector512.FusedMultiplyAdd(w3, Vector512.Load(s + o3), acc);
                acc = Vector512.FusedMultiplyAdd(w4, Vector512.Load(s + o4), acc);
                acc = Vector512.FusedMultiplyAdd(w5, Vector512.Load(s + o5), acc);
                acc = Vector512.FusedMultiplyAdd(w6, Vector512.Load(s + o6), acc);
                acc = Vector512.FusedMultiplyAdd(w7, Vector512.Load(s + o7), acc);
                acc = Vector512.FusedMultiplyAdd(w8, Vector512.Load(s + o8), acc);
                Store16(yRow, ow, p.OutW, acc, relu, tail);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16(float* yRow, int ow, int outW, Vector512<float> acc, bool relu, Span<float> tail)
    {
        if (relu)
        {
            acc = Vector512.Max(acc, Vector512<float>.Zero);
        }

        if (ow + 16 <= outW)
        {
            acc.Store(yRow + ow);
            return;
        }

        acc.CopyTo(tail);
        tail[..(outW - ow)].CopyTo(new Span<float>(yRow + ow, outW - ow));
    }
#else
    private static void Plane3x3Wide(Plan p, float* buffer, float* wk, float bias, float* y, bool relu) =>
        Plane3x3(p, buffer, wk, bias, y, relu);
#endif

    /// <summary>Stores a vector of outputs at column ow of a row, only the columns before outW.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* yRow, int ow, int outW, Vector<float> value, Span<float> tail)
    {
        int v = Vector<float>.Count;
        if (ow + v <= outW)
        {
            *(Vector<float>*)(yRow + ow) = value;
            return;
        }

        value.CopyTo(tail);
        tail[..(outW - ow)].CopyTo(new Span<float>(yRow + ow, outW - ow));
    }
}
