using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// The gradient of <see cref="AdaptiveAvgPool2d"/>: output cell (oh, ow) spreads dL/dy / (window size) over its
/// window [floor(o*I/O), ceil((o+1)*I/O)) on each axis; overlapping windows add up. For output 1x1 (global
/// average pooling) every input cell gets dL/dy / (H*W).
/// </summary>
public static class AdaptiveAvgPool2dBackward
{
    /// <summary>dL/dx from the forward's input shape and dL/dy [.., outHeight, outWidth].</summary>
    public static Tensor Backward(Tensor x, Tensor gradOutput)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (x.Rank is not (3 or 4) || gradOutput.Rank != x.Rank || !x.Shape.AsSpan(0, x.Rank - 2).SequenceEqual(gradOutput.Shape.AsSpan(0, x.Rank - 2)))
        {
            throw new ArgumentException($"adaptive_avg_pool2d backward: grad_output of size {gradOutput.ShapeString} does not fit input of size {x.ShapeString}");
        }

        int height = x.Size(-2), width = x.Size(-1), outHeight = gradOutput.Size(-2), outWidth = gradOutput.Size(-1);
        var sums = new double[x.Length];
        int planes = x.Length / Math.Max(1, height * width);
        int yi = 0;
        for (int p = 0; p < planes; p++)
        {
            int plane = p * height * width;
            for (int oh = 0; oh < outHeight; oh++)
            {
                int h0 = AdaptiveAvgPool2d.Start(oh, height, outHeight), h1 = AdaptiveAvgPool2d.End(oh, height, outHeight);
                for (int ow = 0; ow < outWidth; ow++)
                {
                    int w0 = AdaptiveAvgPool2d.Start(ow, width, outWidth), w1 = AdaptiveAvgPool2d.End(ow, width, outWidth);
                    double share = gradOutput.Data[yi++] / (double)((h1 - h0) * (w1 - w0));
                    for (int ih = h0; ih < h1; ih++)
                    {
                        for (int iw = w0; iw < w1; iw++)
                        {
                            sums[plane + ih * width + iw] += share;
                        }
                    }
                }
            }
        }

        return new Tensor(x.Shape, sums.Select(v => (float)v).ToArray());
    }
}
