using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// The gradient of <see cref="AvgPool2d"/>: each output spreads dL/dy / divisor evenly over the input cells of
/// its window (the same window and divisor as the forward); overlapping windows add up.
/// </summary>
public static class AvgPool2dBackward
{
    /// <summary>dL/dx from the forward's input shape, its options and dL/dy.</summary>
    public static Tensor Backward(Tensor x, Tensor gradOutput, PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (ah, aw) = PoolGeometry.Resolve("avg_pool2d", x, options, allowDilation: false);
        Shapes.CheckOutput(PoolGeometry.OutputShape(x, ah, aw), gradOutput, "avg_pool2d");
        var sums = new double[x.Length];
        int planes = x.Length / (ah.Input * aw.Input);
        int yi = 0;
        for (int p = 0; p < planes; p++)
        {
            int plane = p * ah.Input * aw.Input;
            for (int oh = 0; oh < ah.Output; oh++)
            {
                for (int ow = 0; ow < aw.Output; ow++)
                {
                    int h0 = ah.InputIndex(oh, 0), w0 = aw.InputIndex(ow, 0);
                    int h1 = Math.Min(h0 + ah.Kernel, ah.Input + ah.PadBefore);
                    int w1 = Math.Min(w0 + aw.Kernel, aw.Input + aw.PadBefore);
                    int paddedCount = (h1 - h0) * (w1 - w0);
                    h0 = Math.Max(h0, 0);
                    w0 = Math.Max(w0, 0);
                    h1 = Math.Min(h1, ah.Input);
                    w1 = Math.Min(w1, aw.Input);
                    double grad = gradOutput.Data[yi++];
                    if (h0 >= h1 || w0 >= w1)
                    {
                        continue;
                    }

                    int divisor = options.CountIncludePad ? paddedCount : (h1 - h0) * (w1 - w0);
                    for (int ih = h0; ih < h1; ih++)
                    {
                        for (int iw = w0; iw < w1; iw++)
                        {
                            sums[plane + ih * aw.Input + iw] += grad / divisor;
                        }
                    }
                }
            }
        }

        return new Tensor(x.Shape, sums.Select(v => (float)v).ToArray());
    }
}
