using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Average pooling (PyTorch <c>nn.AvgPool2d</c>): the sum of the window's taps inside the input divided by
/// the window size. With <c>count_include_pad</c> the divisor counts the window clipped to the padded input
/// (padding cells count, cells past the padding added by ceil_mode do not); without it, only the input cells.
/// </summary>
public static class AvgPool2d
{
    /// <summary>Applies average pooling to [N, C, H, W] or [C, H, W].</summary>
    public static Tensor Forward(Tensor x, PoolOptions options)
    {
        var (ah, aw) = PoolGeometry.Resolve("avg_pool2d", x, options, allowDilation: false);
        var y = Tensor.Zeros(PoolGeometry.OutputShape(x, ah, aw));
        int planes = x.Length / (ah.Input * aw.Input);
        int yi = 0;
        for (int p = 0; p < planes; p++)
        {
            int plane = p * ah.Input * aw.Input;
            for (int oh = 0; oh < ah.Output; oh++)
            {
                for (int ow = 0; ow < aw.Output; ow++)
                {
                    // Window [h0, h1) x [w0, w1), first clipped to the padded input, then to the input.
                    int h0 = ah.InputIndex(oh, 0), w0 = aw.InputIndex(ow, 0);
                    int h1 = Math.Min(h0 + ah.Kernel, ah.Input + ah.PadBefore);
                    int w1 = Math.Min(w0 + aw.Kernel, aw.Input + aw.PadBefore);
                    int paddedCount = (h1 - h0) * (w1 - w0);
                    h0 = Math.Max(h0, 0);
                    w0 = Math.Max(w0, 0);
                    h1 = Math.Min(h1, ah.Input);
                    w1 = Math.Min(w1, aw.Input);
                    if (h0 >= h1 || w0 >= w1)
                    {
                        y.Data[yi++] = 0f;
                        continue;
                    }

                    double sum = 0;
                    for (int ih = h0; ih < h1; ih++)
                    {
                        for (int iw = w0; iw < w1; iw++)
                        {
                            sum += x.Data[plane + ih * aw.Input + iw];
                        }
                    }

                    int divisor = options.CountIncludePad ? paddedCount : (h1 - h0) * (w1 - w0);
                    y.Data[yi++] = (float)(sum / divisor);
                }
            }
        }

        return y;
    }
}
