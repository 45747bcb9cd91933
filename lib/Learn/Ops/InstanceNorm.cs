using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Instance normalisation (PyTorch <c>InstanceNorm2d</c> with the default <c>track_running_stats=False</c>, so
/// eval and train agree): each (n, c) plane is normalised by its own mean and biased variance,
/// <code>y = (x - mean_nc) / sqrt(var_nc + eps) * weight[c] + bias[c]</code>
/// for inputs [N, C, H, W] or unbatched [C, H, W]. OSNet's IBN variant uses it in its early layers.
/// </summary>
public static class InstanceNorm
{
    /// <summary>Applies instance normalisation. Missing weight/bias mean 1 and 0 (PyTorch's affine=False).</summary>
    public static Tensor Forward(Tensor x, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank is not (3 or 4))
        {
            throw new ArgumentException($"Expected 3D (unbatched) or 4D (batched) input to instance_norm2d, but got input of size: {x.ShapeString}");
        }

        int channels = x.Size(-3);
        Channelwise.CheckParameter(weight, channels, "weight", x);
        Channelwise.CheckParameter(bias, channels, "bias", x);
        int plane = x.Size(-2) * x.Size(-1);
        int planes = x.Length / Math.Max(1, plane);
        var y = Tensor.Zeros(x.Shape);
        for (int p = 0; p < planes; p++)
        {
            int c = p % channels;
            int start = p * plane;

            // mean = (1/HW) sum x;  var = (1/HW) sum (x - mean)^2  (biased, as PyTorch normalises)
            double mean = 0;
            for (int i = start; i < start + plane; i++)
            {
                mean += x.Data[i];
            }

            mean /= plane;
            double variance = 0;
            for (int i = start; i < start + plane; i++)
            {
                variance += (x.Data[i] - mean) * (x.Data[i] - mean);
            }

            variance /= plane;
            double scale = (weight?.Data[c] ?? 1.0) / Math.Sqrt(variance + eps);
            double shift = bias?.Data[c] ?? 0.0;
            for (int i = start; i < start + plane; i++)
            {
                y.Data[i] = (float)((x.Data[i] - mean) * scale + shift);
            }
        }

        return y;
    }
}
