using Learn.Analysis;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>PyTorch <c>nn.ReLU</c>: max(0, x). No tensors.</summary>
public sealed class ReLU : Module
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Ops.Relu.Forward(x);

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input) =>
        (input ?? throw new ArgumentNullException(nameof(input))).Elementwise();
}

/// <summary>PyTorch <c>nn.Sigmoid</c>: 1 / (1 + exp(-x)). No tensors.</summary>
public sealed class Sigmoid : Module
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Ops.Sigmoid.Forward(x);

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input) =>
        (input ?? throw new ArgumentNullException(nameof(input))).Elementwise();
}

/// <summary>PyTorch <c>nn.SiLU</c>: x * sigmoid(x), the YOLO family's activation. No tensors.</summary>
public sealed class SiLU : Module
{
    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x) => Ops.Silu.Forward(x);

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input) =>
        (input ?? throw new ArgumentNullException(nameof(input))).Elementwise();
}
