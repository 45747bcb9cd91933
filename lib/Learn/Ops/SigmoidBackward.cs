using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The gradient of <see cref="Sigmoid"/>: <c>dL/dx = dL/dy * s * (1 - s)</c>, s = sigmoid(x) in double, rounded once.</summary>
public static class SigmoidBackward
{
    /// <summary>dL/dx from the forward's input and dL/dy.</summary>
    public static Tensor Backward(Tensor x, Tensor gradOutput)
    {
        Shapes.CheckSame(x, gradOutput, "sigmoid");
        var dx = Tensor.Zeros(x.Shape);
        for (int i = 0; i < x.Length; i++)
        {
            double s = Sigmoid.Of(x.Data[i]);
            dx.Data[i] = (float)(gradOutput.Data[i] * s * (1 - s));
        }

        return dx;
    }
}
