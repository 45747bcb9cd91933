using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The rectifier, <c>relu(x) = max(0, x)</c> (PyTorch <c>nn.ReLU</c>; NaN stays NaN).</summary>
public static class Relu
{
    /// <summary>Applies max(0, x) element-wise.</summary>
    public static Tensor Forward(Tensor x) => Elementwise.Map(x, v => v > 0 || float.IsNaN(v) ? v : 0f);
}
