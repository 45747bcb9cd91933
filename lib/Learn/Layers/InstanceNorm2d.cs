using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>
/// PyTorch <c>nn.InstanceNorm2d</c> (track_running_stats=False, so eval equals train): with <c>affine</c>,
/// parameters <c>weight</c> (1) and <c>bias</c> (0), [C]; no buffers.
/// </summary>
public sealed class InstanceNorm2d : Module
{
    /// <summary>Creates the layer; PyTorch's default is affine=False, OSNet uses affine=True.</summary>
    public InstanceNorm2d(int numFeatures, bool affine = false, double eps = 1e-5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        NumFeatures = numFeatures;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", BatchNorm2d.Ones(numFeatures));
            Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        }
    }

    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }

    /// <summary>The epsilon added to the variance.</summary>
    public double Eps { get; }

    /// <summary>PyTorch <c>weight</c>, or null without affine.</summary>
    public Tensor? Weight { get; }

    /// <summary>PyTorch <c>bias</c>, or null without affine.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        if (x.Size(-3) != NumFeatures)
        {
            throw new ArgumentException($"InstanceNorm2d expects {NumFeatures} channels, got input of size {x.ShapeString}");
        }

        return Ops.InstanceNorm.Forward(x, Weight, Bias, Eps);
    }

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int[] s = input.Shape;
        if (s.Length != 4 || s[1] != NumFeatures)
        {
            throw new ArgumentException($"{name}: InstanceNorm2d expects [N, {NumFeatures}, H, W], got {input.ShapeString}");
        }

        // Mean and variance reduce each H*W plane (their global context is not counted in the receptive field).
        return input with { Reduction = input.Reduction + (long)s[2] * s[3] + 1 };
    }
}
