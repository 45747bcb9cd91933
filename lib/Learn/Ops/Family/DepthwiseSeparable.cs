using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Ops.Family;

/// <summary>
/// Depthwise-separable convolution in MobileNet's order: a depthwise k x k convolution (spatial filtering,
/// per channel) followed by a pointwise 1x1 convolution (channel mixing). The pointwise step consumes the
/// depthwise output, so the two run one after the other. With M input channels, N output channels, a
/// D_K x D_K kernel and a D_F x D_F output:
/// <code>
/// standard:  D_K*D_K*M*N*D_F*D_F  MACs
/// separable: D_K*D_K*M*D_F*D_F + M*N*D_F*D_F  MACs,   ratio = 1/N + 1/D_K^2
/// </code>
/// </summary>
public static class DepthwiseSeparable
{
    /// <summary>Depthwise (weight [K*C, 1, kh, kw]) then pointwise (weight [N, K*C, 1, 1]).</summary>
    public static Tensor Conv2d(Tensor x, Tensor depthwiseWeight, Tensor pointwiseWeight, ConvOptions? depthwiseOptions = null,
        Tensor? depthwiseBias = null, Tensor? pointwiseBias = null, Implementation impl = Implementation.Naive)
    {
        Tensor spatial = Depthwise.Conv2d(x, depthwiseWeight, depthwiseBias, depthwiseOptions, impl);
        return Pointwise.Conv2d(spatial, pointwiseWeight, pointwiseBias, impl: impl);
    }

    /// <summary>Cost of depthwise (D_K x D_K over M channels) plus pointwise (M to N), at D_F x D_F output.</summary>
    public static Cost Cost(int inChannels, int outChannels, int kernel, int outHeight, int outWidth) =>
        Depthwise.Cost(inChannels, 1, kernel, kernel, outHeight, outWidth) + Pointwise.Cost(inChannels, outChannels, outHeight, outWidth);

    /// <summary>The closed-form ratio separable/standard MACs: 1/N + 1/D_K^2.</summary>
    public static double CostRatio(int outChannels, int kernel) => 1.0 / outChannels + 1.0 / (kernel * kernel);
}
