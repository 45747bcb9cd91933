using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Ops.Family;

/// <summary>
/// Grouped convolution: the C_in input channels are split into G groups, and output group g sees only
/// input group g. Equivalent to G independent convolutions concatenated along channels; the weight is
/// block-diagonal over (C_out, C_in), so it has 1/G of a full convolution's parameters and MACs.
/// Both C_in and C_out must divide by G.
/// </summary>
public static class Grouped
{
    /// <summary>Conv2d with <paramref name="groups"/> groups; weight [C_out, C_in/G, kh, kw].</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, int groups, Tensor? bias = null, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Conv.Conv2d(x, weight, bias, (options ?? ConvOptions.Default) with { Groups = groups }, impl);

    /// <summary>Cost of a grouped kh x kw convolution.</summary>
    public static Cost Cost(int inChannels, int outChannels, int kernelHeight, int kernelWidth, int groups, int outHeight, int outWidth, bool bias = false) =>
        ConvCost.Conv2d(inChannels, outChannels, kernelHeight, kernelWidth, groups, outHeight, outWidth, bias);
}
