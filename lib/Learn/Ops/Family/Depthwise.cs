using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Ops.Family;

/// <summary>
/// Depthwise convolution: groups = C_in, so each input channel is convolved with its own k x k kernel(s) and
/// channels never mix. With a channel multiplier K there are K kernels per channel and C_out = K*C_in
/// (Keras' depth_multiplier); output channel c*K + j comes from input channel c. Weight: [K*C_in, 1, kh, kw].
/// </summary>
public static class Depthwise
{
    /// <summary>Depthwise conv2d of x [N, C, H, W] with weight [K*C, 1, kh, kw].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, ConvOptions? options = null, Implementation impl = Implementation.Naive)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4 || weight.Size(1) != 1)
        {
            throw new ArgumentException($"depthwise weight must be [K*C_in, 1, kh, kw], but got {weight.ShapeString}");
        }

        int channels = x.Size(-3);
        return Conv.Conv2d(x, weight, bias, (options ?? ConvOptions.Default) with { Groups = channels }, impl);
    }

    /// <summary>Cost: K*C kernels of kh*kw taps, each used at every output position.</summary>
    public static Cost Cost(int channels, int multiplier, int kernelHeight, int kernelWidth, int outHeight, int outWidth, bool bias = false) =>
        ConvCost.Conv2d(channels, multiplier * channels, kernelHeight, kernelWidth, channels, outHeight, outWidth, bias);
}
