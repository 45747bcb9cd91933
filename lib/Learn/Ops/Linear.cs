using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// A fully connected layer (PyTorch <c>nn.Linear</c>): <c>y[.., o] = bias[o] + sum_i x[.., i] * weight[o, i]</c>,
/// over the last dimension of x. Summed in double, rounded once.
/// </summary>
public static class Linear
{
    /// <summary>Applies x W^T + b; weight is [out_features, in_features].</summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Rank != 2)
        {
            throw new ArgumentException($"linear: weight must be [out_features, in_features], but got weight of size {weight.ShapeString}");
        }

        int outFeatures = weight.Size(0), inFeatures = weight.Size(1);
        if (x.Rank < 1 || x.Size(-1) != inFeatures)
        {
            throw new ArgumentException(
                $"linear: mat1 and mat2 shapes cannot be multiplied (input {x.ShapeString} has last dimension {(x.Rank < 1 ? 0 : x.Size(-1))}, weight {weight.ShapeString} expects {inFeatures})");
        }

        if (bias is not null && (bias.Rank != 1 || bias.Length != outFeatures))
        {
            throw new ArgumentException($"linear: bias should have {outFeatures} elements, but got bias of size {bias.ShapeString}");
        }

        int[] shape = x.Shape;
        shape[^1] = outFeatures;
        var y = Tensor.Zeros(shape);
        int rows = x.Length / Math.Max(1, inFeatures);
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias?.Data[o] ?? 0.0;
                for (int i = 0; i < inFeatures; i++)
                {
                    sum += (double)x.Data[r * inFeatures + i] * weight.Data[o * inFeatures + i];
                }

                y.Data[r * outFeatures + o] = (float)sum;
            }
        }

        return y;
    }
}
