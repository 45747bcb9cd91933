using Learn.Analysis;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>
/// PyTorch <c>nn.Conv2d</c> with a square kernel: parameters <c>weight</c> [C_out, C_in/groups, k, k] and, when
/// <c>bias</c> is true, <c>bias</c> [C_out]. groups = C_in is depthwise; k = 1 is pointwise.
/// </summary>
public sealed class Conv2d : Module
{
    /// <summary>Creates the layer with zero weights (load a state_dict to use it), as PyTorch's arguments.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelSize <= 0 || stride <= 0 || padding < 0 || dilation <= 0 || groups <= 0)
        {
            throw new ArgumentException(
                $"Conv2d: sizes must be positive (padding non-negative), got in={inChannels} out={outChannels} kernel={kernelSize} stride={stride} padding={padding} dilation={dilation} groups={groups}");
        }

        if (inChannels % groups != 0)
        {
            throw new ArgumentException($"Conv2d: in_channels must be divisible by groups (in_channels={inChannels}, groups={groups})");
        }

        if (outChannels % groups != 0)
        {
            throw new ArgumentException($"Conv2d: out_channels must be divisible by groups (out_channels={outChannels}, groups={groups})");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        Weight = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels / groups, kernelSize, kernelSize));
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros(outChannels)) : null;
    }

    /// <summary>Input channels (PyTorch <c>in_channels</c>).</summary>
    public int InChannels { get; }

    /// <summary>Output channels (PyTorch <c>out_channels</c>).</summary>
    public int OutChannels { get; }

    /// <summary>Kernel size k (square).</summary>
    public int KernelSize { get; }

    /// <summary>Stride along both axes.</summary>
    public int Stride { get; }

    /// <summary>Zero padding on every side.</summary>
    public int Padding { get; }

    /// <summary>Dilation along both axes.</summary>
    public int Dilation { get; }

    /// <summary>Channel groups.</summary>
    public int Groups { get; }

    /// <summary>PyTorch <c>weight</c>, [C_out, C_in/groups, k, k].</summary>
    public Tensor Weight { get; }

    /// <summary>PyTorch <c>bias</c>, [C_out], or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Which implementation of <see cref="Conv.Conv2d"/> runs (the reference by default).</summary>
    public Implementation Implementation { get; set; } = Implementation.Naive;

    /// <summary>The options passed to <see cref="Conv.Conv2d"/>.</summary>
    public ConvOptions Options => new() { Stride = [Stride], Padding = Ops.Padding.Of(Padding), Dilation = [Dilation], Groups = Groups };

    /// <summary>The reduction length of one output value: (C_in/groups)*k*k.</summary>
    public long ReductionLength => (long)(InChannels / Groups) * KernelSize * KernelSize;

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Conv.Conv2d(x, Weight, Bias, Options, Implementation);

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        int[] s = input.Shape;
        if (s.Length != 4 || s[1] != InChannels)
        {
            throw new ArgumentException($"{name}: Conv2d expects [N, {InChannels}, H, W], got {input.ShapeString}");
        }

        int span = ConvAxis.EffectiveKernelSize(KernelSize, Dilation);
        int outH = (s[2] + 2 * Padding - span) / Stride + 1, outW = (s[3] + 2 * Padding - span) / Stride + 1;
        if (outH <= 0 || outW <= 0)
        {
            throw new ArgumentException($"{name}: input {input.ShapeString} is smaller than the kernel span {span}");
        }

        int[] shape = [s[0], OutChannels, outH, outW];
        context.AddMacs(Tensor.CountOf(shape) * ReductionLength);
        return new Signal(
            shape,
            input.Height.Through(KernelSize, Stride, Padding, Dilation),
            input.Width.Through(KernelSize, Stride, Padding, Dilation),
            input.Reduction + ReductionLength);
    }
}
