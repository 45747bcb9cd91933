using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Ops.Family;

/// <summary>
/// Dilated (atrous) convolution: kernel taps spaced d apart, so a k x k kernel spans d*(k-1)+1 input cells
/// with only k*k weights: the same parameters and MACs as the undilated kernel, a larger receptive field.
/// It equals an ordinary convolution with the kernel zero-stuffed to d*(k-1)+1 taps.
/// </summary>
public static class Dilated
{
    /// <summary>Conv2d with the given dilation (one value or (dh, dw)).</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, int[] dilation, Tensor? bias = null, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Conv.Conv2d(x, weight, bias, (options ?? ConvOptions.Default) with { Dilation = dilation }, impl);

    /// <summary>The span of a dilated kernel: d*(k-1)+1.</summary>
    public static int EffectiveKernelSize(int kernel, int dilation) => ConvAxis.EffectiveKernelSize(kernel, dilation);

    /// <summary>Cost: dilation changes where the taps read, not how many there are.</summary>
    public static Cost Cost(int inChannels, int outChannels, int kernelHeight, int kernelWidth, int groups, int outHeight, int outWidth, bool bias = false) =>
        ConvCost.Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, groups, outHeight, outWidth, bias);
}
