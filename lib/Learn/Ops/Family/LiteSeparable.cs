using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Ops.Family;

/// <summary>
/// OSNet's "lite" order, the reverse of MobileNet's: a pointwise 1x1 convolution (channel mixing, no
/// activation in between) followed by a depthwise k x k convolution. Mixing first lets the depthwise
/// kernels filter already-combined channels; OSNet's LightConv3x3 is this with k = 3 plus BN and ReLU.
/// </summary>
public static class LiteSeparable
{
    /// <summary>Pointwise (weight [N, C, 1, 1]) then depthwise (weight [N, 1, kh, kw]).</summary>
    public static Tensor Conv2d(Tensor x, Tensor pointwiseWeight, Tensor depthwiseWeight, ConvOptions? depthwiseOptions = null,
        Tensor? pointwiseBias = null, Tensor? depthwiseBias = null, Implementation impl = Implementation.Naive)
    {
        Tensor mixed = Pointwise.Conv2d(x, pointwiseWeight, pointwiseBias, impl: impl);
        return Depthwise.Conv2d(mixed, depthwiseWeight, depthwiseBias, depthwiseOptions, impl);
    }

    /// <summary>Cost of pointwise (M to N) then depthwise (D_K x D_K over N channels), at D_F x D_F output.</summary>
    public static Cost Cost(int inChannels, int outChannels, int kernel, int outHeight, int outWidth) =>
        Pointwise.Cost(inChannels, outChannels, outHeight, outWidth) + Depthwise.Cost(outChannels, 1, kernel, kernel, outHeight, outWidth);
}
