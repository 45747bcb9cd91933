using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The logistic function, <c>sigmoid(x) = 1 / (1 + exp(-x))</c> (PyTorch <c>nn.Sigmoid</c>).</summary>
public static class Sigmoid
{
    /// <summary>Applies 1 / (1 + exp(-x)) element-wise, in double, rounded once.</summary>
    public static Tensor Forward(Tensor x) => Elementwise.Map(x, v => (float)Of(v));

    /// <summary>1 / (1 + exp(-x)) in double.</summary>
    public static double Of(double x) => 1.0 / (1.0 + Math.Exp(-x));
}
