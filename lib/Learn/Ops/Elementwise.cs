using Learn.Tensors;

namespace Learn.Ops;

/// <summary>Applies a scalar function to every element; the shared loop of the activations.</summary>
internal static class Elementwise
{
    public static Tensor Map(Tensor x, Func<float, float> f)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = Tensor.Zeros(x.Shape);
        for (int i = 0; i < x.Length; i++)
        {
            y.Data[i] = f(x.Data[i]);
        }

        return y;
    }
}
