using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// The gradient of <see cref="MaxPool2d"/>: each output's dL/dy goes to the one input cell that won its window
/// (the first maximum in scan order, as the forward and PyTorch pick it); overlapping windows add up.
/// <c>dL/dx[n, c, i, j] = sum over outputs (oh, ow) whose argmax is (i, j) of dL/dy[n, c, oh, ow]</c>.
/// </summary>
public static class MaxPool2dBackward
{
    /// <summary>dL/dx from the forward's input, its options and dL/dy.</summary>
    public static Tensor Backward(Tensor x, Tensor gradOutput, PoolOptions options)
    {
        var (ah, aw) = PoolGeometry.Resolve("max_pool2d", x, options, allowDilation: true);
        Shapes.CheckOutput(PoolGeometry.OutputShape(x, ah, aw), gradOutput, "max_pool2d");
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
                    float max = float.NegativeInfinity;
                    int winner = -1;
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
                            if (winner < 0 || v > max || float.IsNaN(v))
                            {
                                max = v;
                                winner = plane + ih * aw.Input + iw;
                            }
                        }
                    }

                    if (winner >= 0)
                    {
                        sums[winner] += gradOutput.Data[yi];
                    }

                    yi++;
                }
            }
        }

        return new Tensor(x.Shape, sums.Select(v => (float)v).ToArray());
    }
}
