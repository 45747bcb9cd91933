using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Batch normalisation in inference mode (PyTorch <c>BatchNorm1d/2d/3d</c> after <c>eval()</c>): each channel c
/// is normalised with the running statistics gathered in training,
/// <code>y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]</code>
/// for inputs [N, C], [N, C, L], [N, C, H, W] or [N, C, D, H, W].
/// </summary>
public static class BatchNorm
{
    /// <summary>Applies inference-mode batch normalisation over dimension 1. Missing weight/bias mean 1 and 0.</summary>
    public static Tensor Forward(Tensor x, Tensor runningMean, Tensor runningVar, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2)
        {
            throw new ArgumentException($"batch_norm expects an input of at least 2 dimensions [N, C, ...], but got input of size {x.ShapeString}");
        }

        int channels = x.Size(1);
        Channelwise.CheckParameter(runningMean, channels, "running_mean", x);
        Channelwise.CheckParameter(runningVar, channels, "running_var", x);
        Channelwise.CheckParameter(weight, channels, "weight", x);
        Channelwise.CheckParameter(bias, channels, "bias", x);

        int batch = x.Size(0);
        int inner = x.Length / Math.Max(1, batch * channels); // H*W (or L, or D*H*W, or 1)
        var y = Tensor.Zeros(x.Shape);
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                double scale = (weight?.Data[c] ?? 1.0) / Math.Sqrt(runningVar.Data[c] + eps);
                double shift = bias?.Data[c] ?? 0.0;
                int start = (n * channels + c) * inner;
                for (int i = start; i < start + inner; i++)
                {
                    y.Data[i] = (float)((x.Data[i] - (double)runningMean.Data[c]) * scale + shift);
                }
            }
        }

        return y;
    }
}
