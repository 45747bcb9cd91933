using System.Diagnostics;
using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Learn.Ops.Fast;

/// <summary>
/// Where the B operand of a convolution-as-GEMM comes from, one NR-column panel at a time: the K x NR block
/// of B for some output columns of image n and group g. Row kk of the block is NR floats at b + offsets[kk]:
/// either a packed copy in the caller's scratch (offsets[kk] = kk*NR) or rows of prepared memory.
/// </summary>
internal unsafe interface IPanelSource
{
    /// <summary>Column panels per (image, group).</summary>
    int Panels { get; }

    /// <summary>The output columns [j0, j0 + cols) of C that panel <paramref name="panel"/> computes.</summary>
    void Columns(int panel, out int j0, out int cols);

    /// <summary>B for one panel; may pack into <paramref name="scratch"/> (K*NR floats, rows at <paramref name="packedOffsets"/>).</summary>
    float* Rows(int n, int group, int panel, int cols, float* scratch, int* packedOffsets, out int* offsets);
}

/// <summary>
/// A packed, register-blocked single-precision GEMM for convolution:
/// <c>C[m, j] = bias[m] + sum over k of A[m, k] * B[k, j]</c>, with A the weights of one group
/// (C_out/G x K, K = (C_in/G)*kd*kh*kw, exactly the layout of w[co, ci, kd, kh, kw]), B the input seen as
/// K x N (N = output positions) and C the output plane of that group, N-contiguous.
/// </summary>
/// <remarks>
/// The micro-kernel keeps an MR x NR block of C (8 rows x 2 vectors in 16 registers with AVX-512, as ONNX Runtime's
/// MLAS keeps up to 12 x 2; 6 x 2 in 12 registers otherwise) and, for each k, loads two vectors of B and broadcasts
/// MR values of A: 16 fused multiply-adds per 10 loads with AVX-512. A is packed
/// once per call into MR-row panels (panel[k*MR + r]); B is packed per NR-column panel into a per-thread
/// buffer small enough to stay in L1 while every A panel streams past it. Work is split over B panels,
/// so threads write disjoint column blocks of C. Each value sums its K products in order from the bias,
/// whatever the tiling and the thread count.
/// </remarks>
internal static unsafe class PackedGemm
{
    /// <summary>
    /// True when the micro-kernel uses two 512-bit vectors per row (AVX-512 hardware, .NET 9+): Vector&lt;float&gt;
    /// stays 256 bits wide there by default, which would leave half of each FMA unit idle.
    /// </summary>
    public static bool Wide { get; } = HasWideFma();

    /// <summary>
    /// Rows of C per micro-kernel call: 8 with AVX-512 (16 of its 32 vector registers accumulate; 8 divides every
    /// OSNet channel count, so no tile is partly empty), 6 otherwise (12 accumulators of the 16 registers AVX2 has).
    /// </summary>
    public static int MR { get; } = Wide ? 8 : 6;

    /// <summary>Columns of C per micro-kernel call: two vectors (of 16 floats when <see cref="Wide"/>).</summary>
    public static int NR { get; } = Wide ? 32 : 2 * Vector<float>.Count;

    private static bool HasWideFma()
    {
#if NET9_0_OR_GREATER
        return Vector512.IsHardwareAccelerated && Vector<float>.Count < Vector512<float>.Count;
#else
        return false;
#endif
    }

    /// <summary>Panels of a source whose columns are the <paramref name="positions"/> output positions in order, NR at a time.</summary>
    public static int ContiguousPanels(int positions) => (positions + NR - 1) / NR;

    /// <summary>The columns of panel <paramref name="panel"/> of such a source: [panel*NR, panel*NR + cols), the last one short.</summary>
    public static void ContiguousColumns(int panel, int positions, out int j0, out int cols)
    {
        j0 = panel * NR;
        cols = Math.Min(NR, positions - j0);
    }

    /// <summary>
    /// Runs C = A*B + bias [+ residual] [then ReLU] with A packed beforehand (<see cref="PackedWeights.Pack"/>):
    /// an execution plan packs each layer's weights once. <paramref name="residual"/>, when given, has C's
    /// layout and is added to each finished sum before the ReLU (the residual add of a bottleneck block).
    /// </summary>
    public static void Run<TSource>(int batch, int n, PackedWeights a, float[] y, TSource source, bool relu, float[]? residual, int threads)
        where TSource : IPanelSource
    {
        int nPanels = source.Panels;
        int items = batch * a.Groups * nPanels;
        long macs = (long)batch * a.Groups * a.M * a.K * n;
        Parallelism.For(threads, items, macs, (start, end) => RunPanels(start, end, nPanels, n, a, y, source, relu, residual));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPanels<TSource>(int start, int end, int nPanels, int n, PackedWeights a, float[] y, TSource source, bool relu, float[]? residual)
        where TSource : IPanelSource
    {
        int nr = NR, mr = a.Rows, k = a.K, m = a.M, groups = a.Groups;
        float[] panel = Workspace.Panel(k * nr);
        float[] tile = Workspace.Tile(mr * nr);
        int[] packedOffsets = Workspace.PackedOffsets(k, nr);
        int cout = groups * m;
        fixed (float* pa = a.Data, scratch = panel, pt = tile, py = y, pr = residual)
        fixed (int* po = packedOffsets)
        {
            for (int item = start; item < end; item++)
            {
                int jp = item % nPanels;
                int gi = item / nPanels;
                int g = gi % groups, img = gi / groups;
                source.Columns(jp, out int j0, out int cols);
                float* pb = source.Rows(img, g, jp, cols, scratch, po, out int* offsets);
                float* aGroup = pa + ((long)g * a.PerGroup);
                float* biasGroup = pa + a.BiasStart + ((long)g * a.BiasPerGroup);
                for (int p = 0; p * mr < m; p++)
                {
                    int rows = Math.Min(mr, m - (p * mr));
                    long at = ((((long)img * cout) + (g * m) + (p * mr)) * n) + j0;
                    float* c = py + at;
                    float* r = pr == null ? null : pr + at;
                    if ((p + 1) * mr < m)
                    {
                        // The next tile's rows of C (and of the residual) lie a whole row stride apart, one cache line
                        // run per row: no hardware prefetcher follows that, so fetch them while this tile computes.
                        int next = Math.Min(mr, m - ((p + 1) * mr));
                        Prefetch.Rows(c + ((long)mr * n), next, n, cols);
                        if (r != null)
                        {
                            Prefetch.Rows(r + ((long)mr * n), next, n, cols);
                        }
                    }

                    if (rows == mr && cols == nr)
                    {
                        Kernel(mr, k, aGroup + ((long)p * mr * k), pb, offsets, c, n, biasGroup + (p * mr), relu, r);
                    }
                    else
                    {
                        // Edge tile: compute the whole tile into scratch, store only what lies inside C.
                        Kernel(mr, k, aGroup + ((long)p * mr * k), pb, offsets, pt, nr, biasGroup + (p * mr), relu && r == null, null);
                        for (int row = 0; row < rows; row++)
                        {
                            float* from = pt + (row * nr), to = c + ((long)row * n);
                            if (r == null)
                            {
                                new ReadOnlySpan<float>(from, cols).CopyTo(new Span<float>(to, cols));
                                continue;
                            }

                            float* add = r + ((long)row * n);
                            for (int t = 0; t < cols; t++)
                            {
                                to[t] = Simd.Finish(from[t] + add[t], relu);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// The micro-kernel: c[r, 0..NR) = bias[r] + sum over kk of a[kk*MR + r] * b[offsets[kk] + 0..NR)
    /// [+ residual[r, 0..NR)] [then max 0], for r &lt; <paramref name="rows"/> (8 with AVX-512, else 6; the packing of
    /// <paramref name="a"/>), with the rows x 2 vector accumulators held in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel(int rows, int k, float* a, float* b, int* offsets, float* c, int ldc, float* bias, bool relu, float* residual)
    {
#if NET9_0_OR_GREATER
        if (Wide)
        {
            Debug.Assert(rows == 8, "weights packed for the 512-bit kernel");
            Kernel512x8(k, a, b, offsets, c, ldc, bias, relu, residual);
            return;
        }
#endif

        Debug.Assert(rows == 6, "weights packed for the portable kernel");
        int v = Vector<float>.Count;
        Vector<float> c00 = new(bias[0]), c01 = c00;
        Vector<float> c10 = new(bias[1]), c11 = c10;
        Vector<float> c20 = new(bias[2]), c21 = c20;
        Vector<float> c30 = new(bias[3]), c31 = c30;
        Vector<float> c40 = new(bias[4]), c41 = c40;
        Vector<float> c50 = new(bias[5]), c51 = c50;
        for (int kk = 0; kk < k; kk++)
        {
            float* row = b + offsets[kk];
            Vector<float> b0 = *(Vector<float>*)row;
            Vector<float> b1 = *(Vector<float>*)(row + v);
            Vector<float> x = new(a[0]);
            c00 = Simd.Fma(x, b0, c00);
            c01 = Simd.Fma(x, b1, c01);
            x = new(a[1]);
            c10 = Simd.Fma(x, b0, c10);
            c11 = Simd.Fma(x, b1, c11);
            x = new(a[2]);
            c20 = Simd.Fma(x, b0, c20);
            c21 = Simd.Fma(x, b1, c21);
            x = new(a[3]);
            c30 = Simd.Fma(x, b0, c30);
            c31 = Simd.Fma(x, b1, c31);
            x = new(a[4]);
            c40 = Simd.Fma(x, b0, c40);
            c41 = Simd.Fma(x, b1, c41);
            x = new(a[5]);
            c50 = Simd.Fma(x, b0, c50);
            c51 = Simd.Fma(x, b1, c51);
            a += 6;
        }

        if (residual != null)
        {
            AddResidual(residual, ldc, v, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21);
            AddResidual(residual + (3 * ldc), ldc, v, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        }

        Store(c, v, c00, c01, relu);
        Store(c + ldc, v, c10, c11, relu);
        Store(c + (2 * ldc), v, c20, c21, relu);
        Store(c + (3 * ldc), v, c30, c31, relu);
        Store(c + (4 * ldc), v, c40, c41, relu);
        Store(c + (5 * ldc), v, c50, c51, relu);
    }

#if NET9_0_OR_GREATER
    /// <summary>The same micro-kernel with <see cref="Vector512{T}"/>: an 8 x 32 tile per call (A packed in 8-row panels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512x8(int k, float* a, float* b, int* offsets, float* c, int ldc, float* bias, bool relu, float* residual)
    {
        Vector512<float> c00 = Vector512.Create(bias[0]), c01 = c00;
        Vector512<float> c10 = Vector512.Create(bias[1]), c11 = c10;
        Vector512<float> c20 = Vector512.Create(bias[2]), c21 = c20;
        Vector512<float> c30 = Vector512.Create(bias[3]), c31 = c30;
        Vector512<float> c40 = Vector512.Create(bias[4]), c41 = c40;
        Vector512<float> c50 = Vector512.Create(bias[5]), c51 = c50;
        Vector512<float> c60 = Vector512.Create(bias[6]), c61 = c60;
        Vector512<float> c70 = Vector512.Create(bias[7]), c71 = c70;
        for (int kk = 0; kk < k; kk++)
        {
            float* row = b + offsets[kk];
            Vector512<float> b0 = Vector512.Load(row);
            Vector512<float> b1 = Vector512.Load(row + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60);
            c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70);
            c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8;
        }

        if (residual != null)
        {
            AddResidual512(residual, ldc, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21);
            AddResidual512(residual + (3 * ldc), ldc, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            AddResidual512(residual + (6 * ldc), ldc, ref c60, ref c61, ref c70, ref c71);
        }

        Store512(c, c00, c01, relu);
        Store512(c + ldc, c10, c11, relu);
        Store512(c + (2 * ldc), c20, c21, relu);
        Store512(c + (3 * ldc), c30, c31, relu);
        Store512(c + (4 * ldc), c40, c41, relu);
        Store512(c + (5 * ldc), c50, c51, relu);
        Store512(c + (6 * ldc), c60, c61, relu);
        Store512(c + (7 * ldc), c70, c71, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddResidual512(float* r, int ldr, ref Vector512<float> a0, ref Vector512<float> a1,
        ref Vector512<float> b0, ref Vector512<float> b1, ref Vector512<float> c0, ref Vector512<float> c1)
    {
        a0 += Vector512.Load(r);
        a1 += Vector512.Load(r + 16);
        b0 += Vector512.Load(r + ldr);
        b1 += Vector512.Load(r + ldr + 16);
        c0 += Vector512.Load(r + (2 * ldr));
        c1 += Vector512.Load(r + (2 * ldr) + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddResidual512(float* r, int ldr, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> b0, ref Vector512<float> b1)
    {
        a0 += Vector512.Load(r);
        a1 += Vector512.Load(r + 16);
        b0 += Vector512.Load(r + ldr);
        b1 += Vector512.Load(r + ldr + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> lo, Vector512<float> hi, bool relu)
    {
        if (relu)
        {
            lo = Vector512.Max(lo, Vector512<float>.Zero);
            hi = Vector512.Max(hi, Vector512<float>.Zero);
        }

        lo.Store(c);
        hi.Store(c + 16);
    }
#endif

    /// <summary>Adds three rows of the residual to three rows of finished sums (one rounding each, as a separate add would).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddResidual(float* r, int ldr, int v, ref Vector<float> a0, ref Vector<float> a1,
        ref Vector<float> b0, ref Vector<float> b1, ref Vector<float> c0, ref Vector<float> c1)
    {
        a0 += *(Vector<float>*)r;
        a1 += *(Vector<float>*)(r + v);
        b0 += *(Vector<float>*)(r + ldr);
        b1 += *(Vector<float>*)(r + ldr + v);
        c0 += *(Vector<float>*)(r + (2 * ldr));
        c1 += *(Vector<float>*)(r + (2 * ldr) + v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int v, Vector<float> lo, Vector<float> hi, bool relu)
    {
        *(Vector<float>*)c = Simd.Finish(lo, relu);
        *(Vector<float>*)(c + v) = Simd.Finish(hi, relu);
    }
}

/// <summary>
/// The A operand of <see cref="PackedGemm"/> packed into MR-row panels, panel[k*MR + r] = A[p*MR + r, k] (rows past
/// m are zero), all groups one after the other, followed by each group's bias padded to whole panels. Packed once
/// per layer by an execution plan, or per call (from the shared array pool) by the one-off path.
/// </summary>
internal sealed class PackedWeights : IDisposable
{
    private readonly bool _pooled;

    private PackedWeights(int groups, int m, int k, int rows, float[] data, bool pooled)
    {
        Groups = groups;
        M = m;
        K = k;
        Rows = rows;
        int mPanels = (m + rows - 1) / rows;
        PerGroup = mPanels * rows * k;
        BiasPerGroup = mPanels * rows;
        BiasStart = groups * PerGroup;
        Data = data;
        _pooled = pooled;
    }

    /// <summary>G.</summary>
    public int Groups { get; }

    /// <summary>Rows of A per group.</summary>
    public int M { get; }

    /// <summary>Reduction length.</summary>
    public int K { get; }

    /// <summary>Rows per panel: the micro-kernel's MR.</summary>
    public int Rows { get; }

    /// <summary>Packed floats per group.</summary>
    public int PerGroup { get; }

    /// <summary>Bias floats per group (m rounded up to whole panels).</summary>
    public int BiasPerGroup { get; }

    /// <summary>Where the biases start in <see cref="Data"/>.</summary>
    public int BiasStart { get; }

    /// <summary>The panels, then the biases.</summary>
    public float[] Data { get; }

    /// <summary>Packs w [G*m, k] and bias [G*m] (or zeros).</summary>
    public static PackedWeights Pack(int groups, int m, int k, float[] w, float[]? bias, bool pooled = false)
    {
        int rows = PackedGemm.MR;
        int mPanels = (m + rows - 1) / rows;
        int perGroup = mPanels * rows * k, biasPerGroup = mPanels * rows;
        int length = groups * (perGroup + biasPerGroup);
        float[] data = pooled ? ArrayPool<float>.Shared.Rent(length) : new float[length];
        var packed = new PackedWeights(groups, m, k, rows, data, pooled);
        for (int g = 0; g < groups; g++)
        {
            Span<float> dst = data.AsSpan(g * perGroup, perGroup);
            for (int row = 0; row < perGroup / k; row++)
            {
                int panel = row / rows, r = row % rows;
                int src = ((g * m) + row) * k;
                for (int kk = 0; kk < k; kk++)
                {
                    dst[(panel * rows * k) + (kk * rows) + r] = row < m ? w[src + kk] : 0f;
                }
            }

            for (int row = 0; row < biasPerGroup; row++)
            {
                data[packed.BiasStart + (g * biasPerGroup) + row] = row < m && bias is not null ? bias[(g * m) + row] : 0f;
            }
        }

        return packed;
    }

    /// <summary>Returns a pooled buffer.</summary>
    public void Dispose()
    {
        if (_pooled)
        {
            ArrayPool<float>.Shared.Return(Data);
        }
    }
}
