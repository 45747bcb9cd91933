using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>PyTorch <c>nn.Linear</c>: parameters <c>weight</c> [out_features, in_features] and <c>bias</c> [out_features].</summary>
public sealed class Linear : Module
{
    /// <summary>Creates the layer with zero weights (load a state_dict to use it).</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));
        Bias = bias ? RegisterParameter("bias", Tensor.Zeros(outFeatures)) : null;
    }

    /// <summary>PyTorch <c>in_features</c>.</summary>
    public int InFeatures { get; }

    /// <summary>PyTorch <c>out_features</c>.</summary>
    public int OutFeatures { get; }

    /// <summary>PyTorch <c>weight</c>.</summary>
    public Tensor Weight { get; }

    /// <summary>PyTorch <c>bias</c>, or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Ops.Linear.Forward(x, Weight, Bias);

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        int[] shape = input.Shape;
        if (shape.Length < 1 || shape[^1] != InFeatures)
        {
            throw new ArgumentException($"{name}: Linear expects a last dimension of {InFeatures}, got {input.ShapeString}");
        }

        shape[^1] = OutFeatures;
        context.AddMacs(Tensor.CountOf(shape) * InFeatures);
        return input with { Shape = shape, Reduction = input.Reduction + InFeatures };
    }
}
