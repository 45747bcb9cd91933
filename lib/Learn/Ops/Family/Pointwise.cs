using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Ops.Family;

/// <summary>
/// Pointwise (1x1) convolution: no spatial extent, only channel mixing. At every pixel it is the same
/// matrix-vector product, y[n, :, h, w] = W x[n, :, h, w] + b, with W = weight[:, :, 0, 0] of shape [C_out, C_in].
/// </summary>
public static class Pointwise
{
    /// <summary>1x1 conv2d of x [N, C_in, H, W] with weight [C_out, C_in/G, 1, 1].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int groups = 1, Implementation impl = Implementation.Naive)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 4 || weight.Size(2) != 1 || weight.Size(3) != 1)
        {
            throw new ArgumentException($"pointwise weight must be [C_out, C_in/G, 1, 1], but got {weight.ShapeString}");
        }

        return Conv.Conv2d(x, weight, bias, ConvOptions.Default with { Groups = groups }, impl);
    }

    /// <summary>Cost: a C_out x C_in matrix applied at every output pixel.</summary>
    public static Cost Cost(int inChannels, int outChannels, int outHeight, int outWidth, bool bias = false) =>
        ConvCost.Conv2d(inChannels, outChannels, 1, 1, 1, outHeight, outWidth, bias);
}
