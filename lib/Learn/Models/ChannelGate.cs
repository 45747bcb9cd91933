using Learn.Analysis;
using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// torchreid's <c>ChannelGate</c> (OSNet's aggregation gate): a per-channel weight in (0, 1) computed from the input,
/// <code>gate(x) = x * sigmoid(fc2(relu(fc1(global_avgpool(x)))))</code>
/// with fc1 (C -> C/16) and fc2 (C/16 -> C) 1x1 convs with bias. Children <c>global_avgpool</c>, <c>fc1</c>, <c>relu</c>,
/// <c>fc2</c>, <c>gate_activation</c>. OSBlock applies one instance to all four streams (shared weights).
/// torchreid's options for a LayerNorm, ReLU or linear gate and returning the gates are not modelled (OSNet uses none).
/// </summary>
public sealed class ChannelGate : Module
{
    /// <summary>Creates the gate for <paramref name="inChannels"/> channels.</summary>
    public ChannelGate(int inChannels, int reduction = 16)
    {
        if (inChannels / reduction < 1)
        {
            throw new ArgumentException($"ChannelGate: {inChannels} channels / reduction {reduction} leaves no hidden units");
        }

        GlobalAvgPool = RegisterModule("global_avgpool", new AdaptiveAvgPool2d(1, 1));
        Fc1 = RegisterModule("fc1", new Conv2d(inChannels, inChannels / reduction, 1, bias: true));
        Relu = RegisterModule("relu", new ReLU());
        Fc2 = RegisterModule("fc2", new Conv2d(inChannels / reduction, inChannels, 1, bias: true));
        GateActivation = RegisterModule("gate_activation", new Layers.Sigmoid());
    }

    /// <summary>PyTorch <c>global_avgpool</c>.</summary>
    public AdaptiveAvgPool2d GlobalAvgPool { get; }

    /// <summary>PyTorch <c>fc1</c>: C -> C/reduction, with bias.</summary>
    public Conv2d Fc1 { get; }

    /// <summary>PyTorch <c>relu</c>.</summary>
    public ReLU Relu { get; }

    /// <summary>PyTorch <c>fc2</c>: C/reduction -> C, with bias.</summary>
    public Conv2d Fc2 { get; }

    /// <summary>PyTorch <c>gate_activation</c>.</summary>
    public Layers.Sigmoid GateActivation { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        Tensor g = GateActivation.Forward(Fc2.Forward(Relu.Forward(Fc1.Forward(GlobalAvgPool.Forward(x)))));
        return Ops.Multiply.Forward(x, g); // g is [N, C, 1, 1]: broadcast over H, W
    }

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Signal gate = base.Trace(context, name, input); // the chain pool -> fc1 -> relu -> fc2 -> sigmoid
        // The product keeps x's shape and local receptive field; its K is the longer of the two factors' paths.
        return input with { Reduction = Math.Max(input.Reduction, gate.Reduction) + 1 };
    }
}
