namespace Learn.Analysis;

/// <summary>
/// Closed-form cost of a 2-D convolution from C_in to C_out channels with a kh x kw kernel in G groups,
/// producing an H_out x W_out map:
/// <code>
/// parameters = C_out * (C_in/G) * kh * kw  (+ C_out with bias)
/// MACs       = C_out * (C_in/G) * kh * kw * H_out * W_out      (per sample)
/// </code>
/// Every output value is one reduction of length (C_in/G)*kh*kw, including taps that read padding,
/// as PyTorch's and the papers' counts assume.
/// </summary>
public static class ConvCost
{
    /// <summary>Cost of one conv2d on one sample.</summary>
    public static Cost Conv2d(int inChannels, int outChannels, int kernelHeight, int kernelWidth, int groups, int outHeight, int outWidth, bool bias = false)
    {
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
        {
            throw new ArgumentException(
                $"in_channels ({inChannels}) and out_channels ({outChannels}) must be divisible by groups ({groups})");
        }

        long weights = (long)outChannels * (inChannels / groups) * kernelHeight * kernelWidth;
        return new Cost(weights + (bias ? outChannels : 0), weights * outHeight * outWidth);
    }
}
