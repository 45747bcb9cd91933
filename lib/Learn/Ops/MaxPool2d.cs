using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Max pooling (PyTorch <c>nn.MaxPool2d</c>): <c>y[n, c, oh, ow] = max over taps (i, j) of
/// x[n, c, oh*s - p + i*d, ow*s - p + j*d]</c>, taking only taps inside the input (padding never wins).
/// NaN propagates, as in PyTorch. Output size: see <see cref="PoolOptions"/>.
/// </summary>
public static class MaxPool2d
{
    /// <summary>Applies max pooling to [N, C, H, W] or [C, H, W].</summary>
    public static Tensor Forward(Tensor x, PoolOptions options)
    {
        var (ah, aw) = PoolGeometry.Resolve("max_pool2d", x, options, allowDilation: true);
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
                    float max = float.NegativeInfinity;
                    for (int i = 0; i < ah.Kernel; i++)
                    {
                        int ih = ah.InputIndex(oh, i);
                        for (int j = 0; j < aw.Kernel; j++)
                        {
                            int iw = aw.InputIndex(ow, j);
                            if (ih < 0 || ih >= ah.Input || iw < 0 || iw >= aw.Input)
                            {
                                continue;
                            }

                            float v = x.Data[plane + ih * aw.Input + iw];
                            if (v > max || float.IsNaN(v))
                            {
                                max = v;
                            }
                        }
                    }

                    y.Data[yi++] = max;
                }
            }
        }

        return y;
    }
}
