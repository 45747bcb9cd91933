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
    public static void FromNchw(ReadOnlySpan<float> x, int n, int c, int h, int w, Span<float> blocked)
    {
        int cb = Blocks(c), hw = h * w;
        Check(x.Length, n * c * hw, blocked.Length, Length(n, c, h, w));
        for (int img = 0; img < n; img++)
        {
            for (int b = 0; b < cb; b++)
            {
                Span<float> plane = blocked.Slice(((img * cb) + b) * hw * Block, hw * Block);
                for (int lane = 0; lane < Block; lane++)
                {
                    int ch = (b * Block) + lane;
                    if (ch >= c)
                    {
                        for (int p = 0; p < hw; p++)
                        {
                            plane[(p * Block) + lane] = 0;
                        }

                        continue;
                    }

                    ReadOnlySpan<float> src = x.Slice(((img * c) + ch) * hw, hw);
                    for (int p = 0; p < hw; p++)
                    {
                        plane[(p * Block) + lane] = src[p];
                    }
                }
            }
        }
    }

    /// <summary>Writes the logical channels of <paramref name="blocked"/> into <paramref name="x"/> [n, c, h, w] (NCHW).</summary>
    public static void ToNchw(ReadOnlySpan<float> blocked, int n, int c, int h, int w, Span<float> x)
    {
        int cb = Blocks(c), hw = h * w;
        Check(x.Length, n * c * hw, blocked.Length, Length(n, c, h, w));
        for (int img = 0; img < n; img++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                ReadOnlySpan<float> plane = blocked.Slice(((img * cb) + (ch / Block)) * hw * Block, hw * Block);
                Span<float> dst = x.Slice(((img * c) + ch) * hw, hw);
                int lane = ch % Block;
                for (int p = 0; p < hw; p++)
                {
                    dst[p] = plane[(p * Block) + lane];
                }
            }
        }
    }

    private static void Check(int nchw, int nchwNeeded, int blocked, int blockedNeeded)
    {
        if (nchw < nchwNeeded || blocked < blockedNeeded)
        {
            throw new ArgumentException($"blocked layout: needs {nchwNeeded} NCHW floats and {blockedNeeded} blocked floats, got {nchw} and {blocked}");
        }
    }
}
