using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Learn.Ops.Fast.Blocked;

/// <summary>
/// The blocked channel layout (NCHWc, as ONNX Runtime's MLAS runs on AVX-512): channels in blocks of
/// <see cref="Block"/>, each position's block of channels contiguous. A map of logical shape [N, C, H, W] is a
/// float array of <see cref="Length"/> floats; element (n, c, h, w) lives at
/// <c>((n*Cb + c/16)*H*W + h*W + w)*16 + c%16</c>, Cb = ceil(C/16). The channels past C in the last block hold
/// zeros, an invariant every blocked kernel keeps (zero-padded weights and biases give zero, ReLU(0) = 0).
/// </summary>
/// <remarks>
/// Why: in NCHW a 1x1 conv reads K input rows and writes M output rows a whole plane apart, K + M streams that no
/// hardware prefetcher follows and that touch a page each; blocked, it reads and writes ceil(K/16) + ceil(M/16)
/// sequential streams, and every per-position op (depthwise, pools, the gate's multiply) is one 16-lane vector.
/// </remarks>
internal static class BlockedLayout
{
    /// <summary>Channels per block: one 512-bit vector of floats.</summary>
    public const int Block = 16;

    /// <summary>Blocks for <paramref name="channels"/> channels: ceil(C/16).</summary>
    public static int Blocks(int channels) => (channels + Block - 1) / Block;

    /// <summary>Floats in a blocked map of logical shape [n, c, h, w].</summary>
    public static int Length(int n, int c, int h, int w) => n * Blocks(c) * h * w * Block;

    /// <summary>Writes <paramref name="x"/> [n, c, h, w] (NCHW) into <paramref name="blocked"/>, the padding channels as 0.</summary>
    /// <remarks>
    /// Per block, with AVX-512, 16 channel rows x 16 positions at a time are transposed in registers (<see cref="Transpose16"/>),
    /// reading 16 sequential streams and writing one. Elsewhere (and for the last hw % 16 positions), <see cref="Chunk"/>
    /// positions at a time: each channel row read contiguously and written with a stride of one block, into a chunk of
    /// the output (16 KiB) that stays in L1 until all 16 lanes are in.
    /// </remarks>
    public static unsafe void FromNchw(ReadOnlySpan<float> x, int n, int c, int h, int w, Span<float> blocked)
    {
        int cb = Blocks(c), hw = h * w;
        Check(x.Length, n * c * hw, blocked.Length, Length(n, c, h, w));
        fixed (float* px = x, pb = blocked)
        {
            for (int img = 0; img < n; img++)
            {
                for (int b = 0; b < cb; b++)
                {
                    float* plane = pb + ((((long)img * cb) + b) * hw * Block);
                    int lanes = Math.Min(Block, c - (b * Block));
                    float* src = px + ((((long)img * c) + (b * Block)) * hw);
                    int vectorEnd = Avx512F.IsSupported ? hw / Block * Block : 0;
                    for (int p = 0; p < vectorEnd; p += Block)
                    {
                        Transpose16(src + p, hw, lanes, plane + ((long)p * Block), Block, Block);
                    }

                    for (int p0 = vectorEnd; p0 < hw; p0 += Chunk)
                    {
                        int p1 = Math.Min(hw, p0 + Chunk);
                        for (int lane = 0; lane < lanes; lane++)
                        {
                            float* from = src + ((long)lane * hw);
                            float* to = plane + lane;
                            for (int p = p0; p < p1; p++)
                            {
                                to[(long)p * Block] = from[p];
                            }
                        }

                        for (int lane = lanes; lane < Block; lane++)
                        {
                            for (int p = p0; p < p1; p++)
                            {
                                plane[((long)p * Block) + lane] = 0;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Writes the logical channels of <paramref name="blocked"/> into <paramref name="x"/> [n, c, h, w] (NCHW).</summary>
    /// <remarks>The mirror of <see cref="FromNchw"/>: 16 x 16 transposes with AVX-512; else a chunk of a block's positions read from L1 once per lane, each channel row written contiguously.</remarks>
    public static unsafe void ToNchw(ReadOnlySpan<float> blocked, int n, int c, int h, int w, Span<float> x)
    {
        int cb = Blocks(c), hw = h * w;
        Check(x.Length, n * c * hw, blocked.Length, Length(n, c, h, w));
        fixed (float* px = x, pb = blocked)
        {
            for (int img = 0; img < n; img++)
            {
                for (int b = 0; b < cb; b++)
                {
                    float* plane = pb + ((((long)img * cb) + b) * hw * Block);
                    int lanes = Math.Min(Block, c - (b * Block));
                    float* dst = px + ((((long)img * c) + (b * Block)) * hw);
                    int vectorEnd = Avx512F.IsSupported ? hw / Block * Block : 0;
                    for (int p = 0; p < vectorEnd; p += Block)
                    {
                        Transpose16(plane + ((long)p * Block), Block, Block, dst + p, hw, lanes);
                    }

                    for (int p0 = vectorEnd; p0 < hw; p0 += Chunk)
                    {
                        int p1 = Math.Min(hw, p0 + Chunk);
                        for (int lane = 0; lane < lanes; lane++)
                        {
                            float* from = plane + lane;
                            float* to = dst + ((long)lane * hw);
                            for (int p = p0; p < p1; p++)
                            {
                                to[p] = from[(long)p * Block];
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Transposes a 16 x 16 tile: row i (16 floats at <paramref name="src"/> + i*<paramref name="srcStride"/>, zeros for
    /// i &gt;= <paramref name="rows"/>) becomes column i of the 16 rows written at <paramref name="dst"/> +
    /// j*<paramref name="dstStride"/>, of which only the first <paramref name="outputs"/> are stored. AVX-512 only.
    /// </summary>
    /// <remarks>
    /// The usual three steps: interleave pairs of rows (floats), then pairs of pairs (doubles), giving 4 x 4 transposes in
    /// each 128-bit lane; then two rounds of 128-bit lane shuffles put lane k of the four groups of rows together.
    /// Written with <see cref="Avx512F"/> because <see cref="Vector512"/> has no two-input shuffle; the scalar loop it
    /// replaces ran at 3-8x the time of a plain copy of the map, this at 1.1-1.7x (bench <c>--only blocked-ops:nchw</c>).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Transpose16(float* src, long srcStride, int rows, float* dst, long dstStride, int outputs)
    {
        Vector512<float> Row(int i) => i < rows ? Vector512.Load(src + (i * srcStride)) : Vector512<float>.Zero;

        // t: per 128-bit lane k, rows (2m, 2m+1) interleaved; u: rows 4m..4m+3 at column 4k + q (q = 0..3).
        Vector512<float> t0 = Avx512F.UnpackLow(Row(0), Row(1)), t1 = Avx512F.UnpackHigh(Row(0), Row(1));
        Vector512<float> t2 = Avx512F.UnpackLow(Row(2), Row(3)), t3 = Avx512F.UnpackHigh(Row(2), Row(3));
        Vector512<float> t4 = Avx512F.UnpackLow(Row(4), Row(5)), t5 = Avx512F.UnpackHigh(Row(4), Row(5));
        Vector512<float> t6 = Avx512F.UnpackLow(Row(6), Row(7)), t7 = Avx512F.UnpackHigh(Row(6), Row(7));
        Vector512<float> t8 = Avx512F.UnpackLow(Row(8), Row(9)), t9 = Avx512F.UnpackHigh(Row(8), Row(9));
        Vector512<float> t10 = Avx512F.UnpackLow(Row(10), Row(11)), t11 = Avx512F.UnpackHigh(Row(10), Row(11));
        Vector512<float> t12 = Avx512F.UnpackLow(Row(12), Row(13)), t13 = Avx512F.UnpackHigh(Row(12), Row(13));
        Vector512<float> t14 = Avx512F.UnpackLow(Row(14), Row(15)), t15 = Avx512F.UnpackHigh(Row(14), Row(15));
        Vector512<float> u0 = Low(t0, t2), u1 = High(t0, t2), u2 = Low(t1, t3), u3 = High(t1, t3);
        Vector512<float> u4 = Low(t4, t6), u5 = High(t4, t6), u6 = Low(t5, t7), u7 = High(t5, t7);
        Vector512<float> u8 = Low(t8, t10), u9 = High(t8, t10), u10 = Low(t9, t11), u11 = High(t9, t11);
        Vector512<float> u12 = Low(t12, t14), u13 = High(t12, t14), u14 = Low(t13, t15), u15 = High(t13, t15);

        // v: lanes (0, 2) or (1, 3) of two groups of four rows; then the same once more gives whole columns.
        const byte Even = 0x88, Odd = 0xDD;
        Vector512<float> v0 = Avx512F.Shuffle4x128(u0, u4, Even), v4 = Avx512F.Shuffle4x128(u0, u4, Odd);
        Vector512<float> v1 = Avx512F.Shuffle4x128(u1, u5, Even), v5 = Avx512F.Shuffle4x128(u1, u5, Odd);
        Vector512<float> v2 = Avx512F.Shuffle4x128(u2, u6, Even), v6 = Avx512F.Shuffle4x128(u2, u6, Odd);
        Vector512<float> v3 = Avx512F.Shuffle4x128(u3, u7, Even), v7 = Avx512F.Shuffle4x128(u3, u7, Odd);
        Vector512<float> v8 = Avx512F.Shuffle4x128(u8, u12, Even), v12 = Avx512F.Shuffle4x128(u8, u12, Odd);
        Vector512<float> v9 = Avx512F.Shuffle4x128(u9, u13, Even), v13 = Avx512F.Shuffle4x128(u9, u13, Odd);
        Vector512<float> v10 = Avx512F.Shuffle4x128(u10, u14, Even), v14 = Avx512F.Shuffle4x128(u10, u14, Odd);
        Vector512<float> v11 = Avx512F.Shuffle4x128(u11, u15, Even), v15 = Avx512F.Shuffle4x128(u11, u15, Odd);
        Store(0, Avx512F.Shuffle4x128(v0, v8, Even));
        Store(1, Avx512F.Shuffle4x128(v1, v9, Even));
        Store(2, Avx512F.Shuffle4x128(v2, v10, Even));
        Store(3, Avx512F.Shuffle4x128(v3, v11, Even));
        Store(4, Avx512F.Shuffle4x128(v4, v12, Even));
        Store(5, Avx512F.Shuffle4x128(v5, v13, Even));
        Store(6, Avx512F.Shuffle4x128(v6, v14, Even));
        Store(7, Avx512F.Shuffle4x128(v7, v15, Even));
        Store(8, Avx512F.Shuffle4x128(v0, v8, Odd));
        Store(9, Avx512F.Shuffle4x128(v1, v9, Odd));
        Store(10, Avx512F.Shuffle4x128(v2, v10, Odd));
        Store(11, Avx512F.Shuffle4x128(v3, v11, Odd));
        Store(12, Avx512F.Shuffle4x128(v4, v12, Odd));
        Store(13, Avx512F.Shuffle4x128(v5, v13, Odd));
        Store(14, Avx512F.Shuffle4x128(v6, v14, Odd));
        Store(15, Avx512F.Shuffle4x128(v7, v15, Odd));

        void Store(int j, Vector512<float> column)
        {
            if (j < outputs)
            {
                column.Store(dst + (j * dstStride));
            }
        }
    }

    private static Vector512<float> Low(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackLow(a.AsDouble(), b.AsDouble()).AsSingle();

    private static Vector512<float> High(Vector512<float> a, Vector512<float> b) => Avx512F.UnpackHigh(a.AsDouble(), b.AsDouble()).AsSingle();

    /// <summary>Positions converted together: 256 x 16 floats = 16 KiB of the blocked side, well inside L1.</summary>
    private const int Chunk = 256;

    private static void Check(int nchw, int nchwNeeded, int blocked, int blockedNeeded)
    {
        if (nchw < nchwNeeded || blocked < blockedNeeded)
        {
            throw new ArgumentException($"blocked layout: needs {nchwNeeded} NCHW floats and {blockedNeeded} blocked floats, got {nchw} and {blocked}");
        }
    }
}
