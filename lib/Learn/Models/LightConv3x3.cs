using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// torchreid's <c>LightConv3x3</c>: a 1x1 conv (linear, no BN) then a depthwise 3x3 conv -> BN -> ReLU. Pointwise
/// first, depthwise second: the reverse of MobileNet's depthwise-separable block. Children <c>conv1</c>, <c>conv2</c>,
/// <c>bn</c>, <c>relu</c>.
/// </summary>
/// <remarks>
/// Cost per output cell: C_in*C_out (1x1) + 9*C_out (depthwise), against 9*C_in*C_out for a full 3x3 conv.
/// </remarks>
public sealed class LightConv3x3 : Module
{
    /// <summary>Creates the layer.</summary>
    public LightConv3x3(int inChannels, int outChannels)
    {
        Conv1 = RegisterModule("conv1", new Conv2d(inChannels, outChannels, 1, bias: false));
        Conv2 = RegisterModule("conv2", new Conv2d(outChannels, outChannels, 3, padding: 1, groups: outChannels, bias: false));
        Bn = RegisterModule("bn", new BatchNorm2d(outChannels));
        Relu = RegisterModule("relu", new ReLU());
    }

    /// <summary>PyTorch <c>conv1</c>: pointwise, C_in -> C_out.</summary>
    public Conv2d Conv1 { get; }

    /// <summary>PyTorch <c>conv2</c>: depthwise 3x3 (groups = C_out).</summary>
    public Conv2d Conv2 { get; }

    /// <summary>PyTorch <c>bn</c>.</summary>
    public BatchNorm2d Bn { get; }

    /// <summary>PyTorch <c>relu</c>.</summary>
    public ReLU Relu { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Relu.Forward(Bn.Forward(Conv2.Forward(Conv1.Forward(x))));
}
