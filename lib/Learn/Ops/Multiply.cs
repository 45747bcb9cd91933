using Learn.Tensors;

namespace Learn.Ops;

/// <summary>Element-wise product <c>y = a * b</c> with broadcasting over size-1 dimensions (channel gates: x * g[N, C, 1, 1]).</summary>
public static class Multiply
{
    /// <summary>Multiplies two tensors of equal rank.</summary>
    public static Tensor Forward(Tensor a, Tensor b) => Broadcast.Apply("mul", a, b, (x, y) => x * y);
}
