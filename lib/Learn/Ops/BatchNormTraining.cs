using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The gradients of training-mode batch normalisation.</summary>
/// <param name="Input">dL/dx, shaped like x.</param>
/// <param name="Weight">dL/dgamma [C].</param>
/// <param name="Bias">dL/dbeta [C].</param>
public sealed record BatchNormGradients(Tensor Input, Tensor Weight, Tensor Bias);

/// <summary>
/// Batch normalisation in training mode (PyTorch <c>BatchNorm</c> after <c>train()</c>): each channel c is
/// normalised with the statistics of the batch itself, over the M = N * (spatial size) values of the channel,
/// <code>
/// mu = mean(x[:, c]),  var = mean((x[:, c] - mu)^2)  (biased),  xhat = (x - mu) / sqrt(var + eps),  y = gamma[c] * xhat + beta[c]
/// </code>
/// and its backward, differentiating through mu and var as well:
/// <code>
/// dL/dbeta[c]  = sum dy
/// dL/dgamma[c] = sum dy * xhat
/// dL/dx        = gamma[c] / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat))
/// </code>
/// Sums in double, each result rounded once. (The running-statistics update does not affect the gradients and
/// is not modelled here.)
/// </summary>
public static class BatchNormTraining
{
    /// <summary>y = gamma * (x - mu) / sqrt(var + eps) + beta with the batch's own statistics per channel.</summary>
    public static Tensor Forward(Tensor x, Tensor weight, Tensor bias, double eps = 1e-5)
    {
        var (mean, invStd, batch, channels, inner) = Statistics(x, weight, bias, eps);
        var y = Tensor.Zeros(x.Shape);
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (n * channels + c) * inner;
                for (int i = start; i < start + inner; i++)
                {
                    y.Data[i] = (float)(((x.Data[i] - mean[c]) * invStd[c] * weight.Data[c]) + bias.Data[c]);
                }
            }
        }

        return y;
    }

    /// <summary>dL/dx, dL/dgamma and dL/dbeta from the forward's input and parameters and dL/dy.</summary>
    public static BatchNormGradients Backward(Tensor x, Tensor weight, Tensor bias, Tensor gradOutput, double eps = 1e-5)
    {
        var (mean, invStd, batch, channels, inner) = Statistics(x, weight, bias, eps);
        Shapes.CheckSame(x, gradOutput, "batch_norm");
        double count = (double)batch * inner;
        var sumDy = new double[channels];
        var sumDyXhat = new double[channels];
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (n * channels + c) * inner;
                for (int i = start; i < start + inner; i++)
                {
                    sumDy[c] += gradOutput.Data[i];
                    sumDyXhat[c] += gradOutput.Data[i] * (x.Data[i] - mean[c]) * invStd[c];
                }
            }
        }

        var dx = Tensor.Zeros(x.Shape);
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (n * channels + c) * inner;
                for (int i = start; i < start + inner; i++)
                {
                    double xhat = (x.Data[i] - mean[c]) * invStd[c];
                    dx.Data[i] = (float)(weight.Data[c] * invStd[c] * (gradOutput.Data[i] - (sumDy[c] / count) - (xhat * sumDyXhat[c] / count)));
                }
            }
        }

        return new BatchNormGradients(dx, new Tensor([channels], sumDyXhat.Select(v => (float)v).ToArray()), new Tensor([channels], sumDy.Select(v => (float)v).ToArray()));
    }

    private static (double[] Mean, double[] InvStd, int Batch, int Channels, int Inner) Statistics(Tensor x, Tensor weight, Tensor bias, double eps)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2)
        {
            throw new ArgumentException($"batch_norm expects an input of at least 2 dimensions [N, C, ...], but got input of size {x.ShapeString}");
        }

        int batch = x.Size(0), channels = x.Size(1);
        Channelwise.CheckParameter(weight, channels, "weight", x);
        Channelwise.CheckParameter(bias, channels, "bias", x);
        int inner = x.Length / Math.Max(1, batch * channels);
        if ((long)batch * inner < 2)
        {
            throw new ArgumentException($"Expected more than 1 value per channel when training, got input size {x.ShapeString}");
        }

        var mean = new double[channels];
        var invStd = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double sum = 0, squares = 0;
            for (int n = 0; n < batch; n++)
            {
                int start = (n * channels + c) * inner;
                for (int i = start; i < start + inner; i++)
                {
                    sum += x.Data[i];
                }
            }

            mean[c] = sum / ((double)batch * inner);
            for (int n = 0; n < batch; n++)
            {
                int start = (n * channels + c) * inner;
                for (int i = start; i < start + inner; i++)
                {
                    double d = x.Data[i] - mean[c];
                    squares += d * d;
                }
            }

            invStd[c] = 1.0 / Math.Sqrt((squares / ((double)batch * inner)) + eps);
        }

        return (mean, invStd, batch, channels, inner);
    }
}
