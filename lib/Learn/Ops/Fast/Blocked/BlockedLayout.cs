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
    /// Per block, <see cref="Chunk"/> positions at a time: each of the 16 channel rows is read contiguously and written
    /// with a stride of one block, into a chunk of the output (16 KiB) that stays in L1 until all 16 lanes are in.
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
                    for (int p0 = 0; p0 < hw; p0 += Chunk)
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
    /// <remarks>The mirror of <see cref="FromNchw"/>: a chunk of a block's positions is read from L1 once per lane, each channel row written contiguously.</remarks>
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
                    for (int p0 = 0; p0 < hw; p0 += Chunk)
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
