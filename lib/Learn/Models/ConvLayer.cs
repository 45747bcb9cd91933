using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// torchreid's <c>ConvLayer</c>: conv (no bias) -> BatchNorm2d (InstanceNorm2d with affine in the IBN stem) -> ReLU.
/// Children <c>conv</c>, <c>bn</c>, <c>relu</c>; keys <c>conv.weight</c>, <c>bn.weight</c>, <c>bn.running_mean</c> ...
/// </summary>
public class ConvLayer : Module
{
    /// <summary>Creates the layer; <paramref name="instanceNorm"/> is torchreid's <c>IN</c> argument.</summary>
    public ConvLayer(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int groups = 1, bool instanceNorm = false)
    {
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, kernelSize, stride, padding, groups: groups, bias: false));
        Norm = RegisterModule<Module>("bn", instanceNorm ? new InstanceNorm2d(outChannels, affine: true) : new BatchNorm2d(outChannels));
        Relu = RegisterModule("relu", new ReLU());
    }

    /// <summary>PyTorch <c>conv</c>.</summary>
    public Conv2d Conv { get; }

    /// <summary>PyTorch <c>bn</c>: a <see cref="BatchNorm2d"/>, or an <see cref="InstanceNorm2d"/> when built with instanceNorm.</summary>
    public Module Norm { get; }

    /// <summary>PyTorch <c>relu</c>.</summary>
    public ReLU Relu { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Relu.Forward(Norm.Forward(Conv.Forward(x)));
}

/// <summary>torchreid's <c>Conv1x1</c>: 1x1 conv -> BN -> ReLU (children <c>conv</c>, <c>bn</c>, <c>relu</c>).</summary>
public sealed class Conv1x1 : ConvLayer
{
    /// <summary>Creates the layer.</summary>
    public Conv1x1(int inChannels, int outChannels, int stride = 1, int groups = 1)
        : base(inChannels, outChannels, 1, stride, 0, groups)
    {
    }
}

/// <summary>torchreid's <c>Conv3x3</c>: 3x3 conv (padding 1) -> BN -> ReLU (children <c>conv</c>, <c>bn</c>, <c>relu</c>).</summary>
public sealed class Conv3x3 : ConvLayer
{
    /// <summary>Creates the layer.</summary>
    public Conv3x3(int inChannels, int outChannels, int stride = 1, int groups = 1)
        : base(inChannels, outChannels, 3, stride, 1, groups)
    {
    }
}

/// <summary>
/// torchreid's <c>Conv1x1Linear</c>: 1x1 conv -> BN with no activation (the block's output projection and the
/// shortcut projection). Children <c>conv</c>, <c>bn</c>.
/// </summary>
public sealed class Conv1x1Linear : Module
{
    /// <summary>Creates the layer.</summary>
    public Conv1x1Linear(int inChannels, int outChannels, int stride = 1)
    {
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, 1, stride, bias: false));
        Bn = RegisterModule("bn", new BatchNorm2d(outChannels));
    }

    /// <summary>PyTorch <c>conv</c>.</summary>
    public Conv2d Conv { get; }

    /// <summary>PyTorch <c>bn</c>.</summary>
    public BatchNorm2d Bn { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Bn.Forward(Conv.Forward(x));
}
