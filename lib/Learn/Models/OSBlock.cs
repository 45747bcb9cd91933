using Learn.Analysis;
using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// torchreid's <c>OSBlock</c>, the omni-scale residual bottleneck:
/// <code>
/// x1  = conv1(x)                                  1x1, C_in -> C_mid = C_out/4
/// x2  = gate(conv2a(x1)) + gate(conv2b(x1)) + gate(conv2c(x1)) + gate(conv2d(x1))
///                                                 streams of 1, 2, 3, 4 LightConv3x3: receptive fields 3, 5, 7, 9
/// out = relu(IN(conv3(x2) + shortcut(x)))         shortcut = downsample (1x1 + BN) when C_in != C_out, else x
/// </code>
/// Children, in registration (state_dict) order: <c>conv1</c>, <c>conv2a</c>, <c>conv2b</c>, <c>conv2c</c>, <c>conv2d</c>,
/// <c>gate</c>, <c>conv3</c>, <c>downsample</c> (if any), <c>IN</c> (if any).
/// </summary>
public sealed class OSBlock : Module
{
    /// <summary>Creates the block; <paramref name="instanceNorm"/> is torchreid's <c>IN</c> (an affine InstanceNorm2d on the sum).</summary>
    public OSBlock(int inChannels, int outChannels, bool instanceNorm = false, int bottleneckReduction = 4)
    {
        int mid = outChannels / bottleneckReduction;
        Conv1 = RegisterModule("conv1", new Conv1x1(inChannels, mid));
        Conv2a = RegisterModule("conv2a", new LightConv3x3(mid, mid));
        Conv2b = RegisterModule("conv2b", Stream(mid, 2));
        Conv2c = RegisterModule("conv2c", Stream(mid, 3));
        Conv2d = RegisterModule("conv2d", Stream(mid, 4));
        Gate = RegisterModule("gate", new ChannelGate(mid));
        Conv3 = RegisterModule("conv3", new Conv1x1Linear(mid, outChannels));
        Downsample = inChannels != outChannels ? RegisterModule("downsample", new Conv1x1Linear(inChannels, outChannels)) : null;
        IN = instanceNorm ? RegisterModule("IN", new InstanceNorm2d(outChannels, affine: true)) : null;
    }

    /// <summary>PyTorch <c>conv1</c>: the 1x1 reduction to C_out/4 channels.</summary>
    public Conv1x1 Conv1 { get; }

    /// <summary>PyTorch <c>conv2a</c>: one LightConv3x3 (receptive field 3).</summary>
    public LightConv3x3 Conv2a { get; }

    /// <summary>PyTorch <c>conv2b</c>: two LightConv3x3 (receptive field 5).</summary>
    public Sequential Conv2b { get; }

    /// <summary>PyTorch <c>conv2c</c>: three LightConv3x3 (receptive field 7).</summary>
    public Sequential Conv2c { get; }

    /// <summary>PyTorch <c>conv2d</c>: four LightConv3x3 (receptive field 9).</summary>
    public Sequential Conv2d { get; }

    /// <summary>PyTorch <c>gate</c>: one gate shared by the four streams.</summary>
    public ChannelGate Gate { get; }

    /// <summary>PyTorch <c>conv3</c>: the 1x1 expansion back to C_out, no activation.</summary>
    public Conv1x1Linear Conv3 { get; }

    /// <summary>PyTorch <c>downsample</c>: the shortcut projection, or null when C_in = C_out.</summary>
    public Conv1x1Linear? Downsample { get; }

    /// <summary>PyTorch <c>IN</c>, or null.</summary>
    public InstanceNorm2d? IN { get; }

    private IEnumerable<Module> Streams => [Conv2a, Conv2b, Conv2c, Conv2d];

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        Tensor x1 = Conv1.Forward(x);
        var streams = Streams.Select(s => s.Forward(x1)).ToList(); // all streams, then the gates, as torchreid orders them
        Tensor? x2 = null;
        foreach (Tensor stream in streams)
        {
            Tensor gated = Gate.Forward(stream);
            x2 = x2 is null ? gated : Ops.Add.Forward(x2, gated);
        }

        Tensor shortcut = Downsample is null ? x : Downsample.Forward(x);
        Tensor output = Ops.Add.Forward(Conv3.Forward(x2!), shortcut);
        if (IN is not null)
        {
            output = IN.Forward(output);
        }

        return Ops.Relu.Forward(output);
    }

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Signal x1 = TraceChild(context, name, Conv1, input);
        var streams = Streams.Select(s => TraceChild(context, name, s, x1)).ToList();
        var gated = streams.Select(s => TraceChild(context, name, Gate, s)).ToList();
        Signal x2 = Signal.Merge(gated[0].Shape, gated);
        Signal x3 = TraceChild(context, name, Conv3, x2);
        Signal shortcut = Downsample is null ? input : TraceChild(context, name, Downsample, input);
        Signal output = Signal.Merge(x3.Shape, [x3, shortcut]);
        if (IN is not null)
        {
            output = TraceChild(context, name, IN, output);
        }

        return output.Elementwise(); // the final relu
    }

    private static Sequential Stream(int channels, int depth) =>
        new(Enumerable.Range(0, depth).Select(_ => (Module)new LightConv3x3(channels, channels)).ToArray());
}
