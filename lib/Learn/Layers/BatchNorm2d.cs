using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>
/// PyTorch <c>nn.BatchNorm2d</c> in eval mode: parameters <c>weight</c>, <c>bias</c>; buffers <c>running_mean</c>,
/// <c>running_var</c> (all [C]). Initialised as PyTorch does: weight 1, bias 0, mean 0, var 1.
/// </summary>
public class BatchNorm2d : Module
{
    /// <summary>Creates the layer for <paramref name="numFeatures"/> channels.</summary>
    public BatchNorm2d(int numFeatures, double eps = 1e-5)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        NumFeatures = numFeatures;
        Eps = eps;
        Weight = RegisterParameter("weight", Ones(numFeatures));
        Bias = RegisterParameter("bias", Tensor.Zeros(numFeatures));
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(numFeatures));
        RunningVar = RegisterBuffer("running_var", Ones(numFeatures));
    }

    /// <summary>Channels C.</summary>
    public int NumFeatures { get; }

    /// <summary>The epsilon added to the variance.</summary>
    public double Eps { get; }

    /// <summary>PyTorch <c>weight</c> (gamma).</summary>
    public Tensor Weight { get; }

    /// <summary>PyTorch <c>bias</c> (beta).</summary>
    public Tensor Bias { get; }

    /// <summary>PyTorch <c>running_mean</c>.</summary>
    public Tensor RunningMean { get; }

    /// <summary>PyTorch <c>running_var</c>.</summary>
    public Tensor RunningVar { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Ops.BatchNorm.Forward(x, RunningMean, RunningVar, Weight, Bias, Eps);

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Length < 2 || input.Shape[1] != NumFeatures)
        {
            throw new ArgumentException($"{name}: {TypeName} expects {NumFeatures} channels, got {input.ShapeString}");
        }

        return input.Elementwise();
    }

    internal static Tensor Ones(int n)
    {
        var t = Tensor.Zeros(n);
        Array.Fill(t.Data, 1f);
        return t;
    }
}

/// <summary>PyTorch <c>nn.BatchNorm1d</c> in eval mode, for [N, C] (OSNet's fc) or [N, C, L]: the same tensors as <see cref="BatchNorm2d"/>.</summary>
public sealed class BatchNorm1d : BatchNorm2d
{
    /// <summary>Creates the layer for <paramref name="numFeatures"/> features.</summary>
    public BatchNorm1d(int numFeatures, double eps = 1e-5)
        : base(numFeatures, eps)
    {
    }
}
