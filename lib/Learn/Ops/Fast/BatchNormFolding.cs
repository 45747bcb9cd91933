namespace Learn.Ops.Fast;

/// <summary>
/// Folds an eval-mode BatchNorm into the convolution before it, so the pair costs one convolution.
/// </summary>
/// <remarks>
/// In eval mode BatchNorm is an affine map per output channel c: with s_c = gamma_c / sqrt(var_c + eps),
/// <code>
/// bn(y)_c = (y_c - mean_c) * s_c + beta_c,   y_c = sum_k w_ck * x_k + b_c
///         = sum_k (w_ck * s_c) * x_k + ((b_c - mean_c) * s_c + beta_c)
/// </code>
/// so conv(x; w', b') with <c>w'_ck = w_ck * s_c</c> and <c>b'_c = (b_c - mean_c) * s_c + beta_c</c> (b = 0 when the
/// conv has no bias) equals conv then BN up to rounding: w' is rounded to float once per weight, which adds one
/// rounding per product, inside the tolerance rule for the conv's K plus one for the BN. Valid only with the
/// running statistics (eval mode), and only when nothing sits between the conv and the BN.
/// </remarks>
public static class BatchNormFolding
{
    /// <summary>
    /// The folded weight [C_out, ...] (same layout as <paramref name="weight"/>) and bias [C_out]; the scale is
    /// computed in double and each product rounded once.
    /// </summary>
    public static (float[] Weight, float[] Bias) Fold(float[] weight, float[]? bias, float[] runningMean, float[] runningVar,
        float[]? gamma, float[]? beta, double eps)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        int outChannels = runningMean.Length;
        if (runningVar.Length != outChannels || weight.Length % outChannels != 0
            || (bias is not null && bias.Length != outChannels) || (gamma is not null && gamma.Length != outChannels)
            || (beta is not null && beta.Length != outChannels))
        {
            throw new ArgumentException($"BatchNorm folding: {outChannels} channels in running_mean do not match the conv weight ({weight.Length} values) or the other per-channel tensors");
        }

        int perChannel = weight.Length / outChannels;
        var w = new float[weight.Length];
        var b = new float[outChannels];
        for (int c = 0; c < outChannels; c++)
        {
            double s = (gamma?[c] ?? 1.0) / Math.Sqrt(runningVar[c] + eps); // s_c = gamma_c / sqrt(var_c + eps)
            for (int k = c * perChannel; k < (c + 1) * perChannel; k++)
            {
                w[k] = (float)(weight[k] * s);                                  // w'_ck = w_ck * s_c
            }

            b[c] = (float)((((double?)bias?[c] ?? 0.0) - runningMean[c]) * s + (beta?[c] ?? 0.0)); // b'_c
        }

        return (w, b);
    }
}
