using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The sigmoid-weighted linear unit, <c>silu(x) = x * sigmoid(x)</c> (PyTorch <c>nn.SiLU</c>, YOLO's activation).</summary>
public static class Silu
{
    /// <summary>Applies x * sigmoid(x) element-wise, in double, rounded once.</summary>
    public static Tensor Forward(Tensor x) => Elementwise.Map(x, v => (float)(v * Sigmoid.Of(v)));
}
