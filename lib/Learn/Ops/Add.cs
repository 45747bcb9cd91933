using Learn.Tensors;

namespace Learn.Ops;

/// <summary>Element-wise sum <c>y = a + b</c> with broadcasting over size-1 dimensions (residual connections).</summary>
public static class Add
{
    /// <summary>Adds two tensors of equal rank.</summary>
    public static Tensor Forward(Tensor a, Tensor b) => Broadcast.Apply("add", a, b, (x, y) => x + y);
}
