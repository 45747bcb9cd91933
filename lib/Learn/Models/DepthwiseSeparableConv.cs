using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// MobileNet's depthwise-separable block: depthwise k x k conv (groups = C_in, optional stride and dilation) + BN +
/// ReLU, then pointwise 1x1 conv C_in -> C_out + BN + ReLU. Children <c>depthwise</c>, <c>pointwise</c> (each a
/// <see cref="ConvBnAct"/>). The pointwise conv consumes the depthwise output, so the two run one after the other,
/// never in parallel. Cost ratio to a full k x k conv: 1/C_out + 1/k^2.
/// </summary>
public sealed class DepthwiseSeparableConv : Module
{
    /// <summary>Creates the block (MobileNet v1 uses k = 3).</summary>
    public DepthwiseSeparableConv(int inChannels, int outChannels, int kernelSize = 3, int stride = 1, int dilation = 1)
    {
        Depthwise = RegisterModule("depthwise", new ConvBnAct(inChannels, inChannels, kernelSize, stride, groups: inChannels, dilation: dilation, activation: Activation.ReLU));
        Pointwise = RegisterModule("pointwise", new ConvBnAct(inChannels, outChannels, 1, activation: Activation.ReLU));
    }

    /// <summary>PyTorch <c>depthwise</c>.</summary>
    public ConvBnAct Depthwise { get; }

    /// <summary>PyTorch <c>pointwise</c>.</summary>
    public ConvBnAct Pointwise { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Pointwise.Forward(Depthwise.Forward(x));
}
