using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>The activation after a <see cref="ConvBnAct"/>.</summary>
public enum Activation
{
    /// <summary>x * sigmoid(x) (PyTorch <c>nn.SiLU</c>), the YOLO family's default.</summary>
    SiLU,

    /// <summary>max(0, x) (PyTorch <c>nn.ReLU</c>), MobileNet's.</summary>
    ReLU,
}

/// <summary>
/// conv (no bias) -> BatchNorm2d -> activation, with "same" padding d*(k-1)/2 for odd k: the YOLOX <c>BaseConv</c>
/// shape. Children <c>conv</c>, <c>bn</c>, <c>act</c>. (YOLOX sets BN eps to 1e-3 after construction; pass
/// <c>bnEps</c> to match a checkpoint trained that way.)
/// </summary>
public sealed class ConvBnAct : Module
{
    /// <summary>Creates the layer.</summary>
    public ConvBnAct(int inChannels, int outChannels, int kernelSize, int stride = 1, int groups = 1, int dilation = 1, Activation activation = Activation.SiLU, double bnEps = 1e-5)
    {
        Conv = RegisterModule("conv", new Conv2d(inChannels, outChannels, kernelSize, stride, dilation * (kernelSize - 1) / 2, dilation, groups, bias: false));
        Bn = RegisterModule("bn", new BatchNorm2d(outChannels, bnEps));
        Act = RegisterModule<Module>("act", activation == Activation.SiLU ? new SiLU() : new ReLU());
    }

    /// <summary>PyTorch <c>conv</c>.</summary>
    public Conv2d Conv { get; }

    /// <summary>PyTorch <c>bn</c>.</summary>
    public BatchNorm2d Bn { get; }

    /// <summary>PyTorch <c>act</c>.</summary>
    public Module Act { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Act.Forward(Bn.Forward(Conv.Forward(x)));
}
