using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// The YOLO family's <c>DWConv</c> (YOLOX): a depthwise k x k conv (groups = C_in, any kernel and stride) + BN + SiLU,
/// then a pointwise 1x1 conv C_in -> C_out + BN + SiLU. Children <c>dconv</c>, <c>pconv</c> (each a
/// <see cref="ConvBnAct"/>). Parameters: C_in*k*k + C_in*C_out (+ BN) against C_in*C_out*k*k for one full conv.
/// </summary>
public sealed class DWConv : Module
{
    /// <summary>Creates the block.</summary>
    public DWConv(int inChannels, int outChannels, int kernelSize, int stride = 1, Activation activation = Activation.SiLU)
    {
        Dconv = RegisterModule("dconv", new ConvBnAct(inChannels, inChannels, kernelSize, stride, groups: inChannels, activation: activation));
        Pconv = RegisterModule("pconv", new ConvBnAct(inChannels, outChannels, 1, activation: activation));
    }

    /// <summary>PyTorch <c>dconv</c>: depthwise.</summary>
    public ConvBnAct Dconv { get; }

    /// <summary>PyTorch <c>pconv</c>: pointwise.</summary>
    public ConvBnAct Pconv { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Pconv.Forward(Dconv.Forward(x));
}
