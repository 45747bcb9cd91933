namespace Learn.Ops.Fast.Blocked;

/// <summary>
/// A 1x1 convolution's weights [C_out, C_in] and bias, packed once for <see cref="BlockedPointwise"/>:
/// zero-padded to whole blocks of 16 on both sides, so padding channels stay 0.
/// </summary>
internal sealed class BlockedPointwiseWeights
{
    private BlockedPointwiseWeights(int outChannels, int inChannels, float[] weights, float[] bias)
    {
        OutChannels = outChannels;
        InChannels = inChannels;
        Weights = weights;
        Bias = bias;
    }

    /// <summary>C_out (logical).</summary>
    public int OutChannels { get; }

    /// <summary>C_in (logical).</summary>
    public int InChannels { get; }

    /// <summary>The packed weights (layout private to <see cref="BlockedPointwise"/>).</summary>
    internal float[] Weights { get; }

    /// <summary>The bias padded to whole blocks (zeros past C_out).</summary>
    internal float[] Bias { get; }

    /// <summary>Packs <paramref name="w"/> [C_out, C_in] (a 1x1 conv's weight, groups 1) and an optional bias.</summary>
    public static BlockedPointwiseWeights Pack(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int outChannels, int inChannels)
    {
        if (w.Length != outChannels * inChannels || (bias.Length != 0 && bias.Length != outChannels))
        {
            throw new ArgumentException($"pointwise weights: expected [{outChannels}, {inChannels}] and a bias of {outChannels}, got {w.Length} and {bias.Length}");
        }

        int mp = BlockedLayout.Blocks(outChannels) * BlockedLayout.Block, kp = BlockedLayout.Blocks(inChannels) * BlockedLayout.Block;
        var packed = new float[mp * kp]; // [C_out padded, C_in padded], row-major (the first, plain layout)
        for (int co = 0; co < outChannels; co++)
        {
            w.Slice(co * inChannels, inChannels).CopyTo(packed.AsSpan(co * kp, inChannels));
        }

        var b = new float[mp];
        bias.CopyTo(b);
        return new BlockedPointwiseWeights(outChannels, inChannels, packed, b);
    }
}

/// <summary>
/// 1x1 convolution (stride 1, no padding, groups 1) on blocked maps (<see cref="BlockedLayout"/>):
/// <c>y[n, co, p] = act(b[co] + sum over ci of w[co, ci] * x[n, ci, p] (+ r[n, co, p]))</c> over the positions p,
/// the sum taken in ci order from the bias, then the residual, then the ReLU.
/// </summary>
internal static class BlockedPointwise
{
    /// <summary>
    /// y = act(conv1x1(x) + b [+ residual]) for <paramref name="batch"/> images of <paramref name="positions"/> positions;
    /// x, y and residual are blocked maps of C_in, C_out and C_out channels.
    /// </summary>
    public static void Forward(BlockedPointwiseWeights w, float[] x, int batch, int positions, float[] y, bool relu, float[]? residual, int threads)
    {
        const int B = BlockedLayout.Block;
        int kb = BlockedLayout.Blocks(w.InChannels), mb = BlockedLayout.Blocks(w.OutChannels), kp = kb * B;
        for (int n = 0; n < batch; n++)
        {
            for (int ob = 0; ob < mb; ob++)
            {
                for (int p = 0; p < positions; p++)
                {
                    for (int lane = 0; lane < B; lane++)
                    {
                        int co = (ob * B) + lane;
                        float s = w.Bias[co];
                        for (int ci = 0; ci < kp; ci++)
                        {
                            s += w.Weights[(co * kp) + ci] * x[((((n * kb) + (ci / B)) * positions) + p) * B + (ci % B)];
                        }

                        long at = ((((long)n * mb) + ob) * positions + p) * B + lane;
                        if (residual is not null)
                        {
                            s += residual[at];
                        }

                        y[at] = relu && s < 0 ? 0 : s;
                    }
                }
            }
        }
    }
}
