using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// The gradient of <see cref="Relu"/>: <c>dL/dx = dL/dy where x &gt; 0, else 0</c> (PyTorch's threshold_backward:
/// at x = 0 the gradient is 0).
/// </summary>
public static class ReluBackward
{
    /// <summary>dL/dx from the forward's input and dL/dy.</summary>
    public static Tensor Backward(Tensor x, Tensor gradOutput)
    {
        Shapes.CheckSame(x, gradOutput, "relu");
        var dx = Tensor.Zeros(x.Shape);
        for (int i = 0; i < x.Length; i++)
        {
            dx.Data[i] = x.Data[i] > 0 ? gradOutput.Data[i] : 0f;
        }

        return dx;
    }
}
