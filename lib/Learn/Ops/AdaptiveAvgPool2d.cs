using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Adaptive average pooling (PyTorch <c>nn.AdaptiveAvgPool2d</c>): output cell o along an axis of input size
/// I and output size O averages input cells [floor(o*I/O), ceil((o+1)*I/O)). Windows may overlap when O
/// does not divide I. With O = 1 it is global average pooling (OSNet's final pooling).
/// </summary>
public static class AdaptiveAvgPool2d
{
    /// <summary>Pools [N, C, H, W] or [C, H, W] to [.., outHeight, outWidth].</summary>
    public static Tensor Forward(Tensor x, int outHeight, int outWidth)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank is not (3 or 4))
        {
            throw new ArgumentException($"adaptive_avg_pool2d: Expected 3D or 4D tensor, but got input of size: {x.ShapeString}");
        }

        if (outHeight <= 0 || outWidth <= 0)
        {
            throw new ArgumentException($"adaptive_avg_pool2d: output_size must be positive, but got ({outHeight}, {outWidth})");
        }

        int height = x.Size(-2), width = x.Size(-1);
        int[] shape = x.Shape;
        shape[^2] = outHeight;
        shape[^1] = outWidth;
        var y = Tensor.Zeros(shape);
        int planes = x.Length / Math.Max(1, height * width);
        int yi = 0;
        for (int p = 0; p < planes; p++)
        {
            int plane = p * height * width;
            for (int oh = 0; oh < outHeight; oh++)
            {
                int h0 = Start(oh, height, outHeight), h1 = End(oh, height, outHeight);
                for (int ow = 0; ow < outWidth; ow++)
                {
                    int w0 = Start(ow, width, outWidth), w1 = End(ow, width, outWidth);
                    double sum = 0;
                    for (int ih = h0; ih < h1; ih++)
                    {
                        for (int iw = w0; iw < w1; iw++)
                        {
                            sum += x.Data[plane + ih * width + iw];
                        }
                    }

                    y.Data[yi++] = (float)(sum / ((h1 - h0) * (w1 - w0)));
                }
            }
        }

        return y;
    }

    /// <summary>floor(o*I/O): the first input cell of output cell o.</summary>
    public static int Start(int o, int input, int output) => (int)((long)o * input / output);

    /// <summary>ceil((o+1)*I/O): one past the last input cell of output cell o.</summary>
    public static int End(int o, int input, int output) => (int)(((long)(o + 1) * input + output - 1) / output);
}
