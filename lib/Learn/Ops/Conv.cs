using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Convolution as PyTorch defines it (a cross-correlation: the kernel is not flipped), in 1, 2 and 3
/// spatial dimensions, with stride, padding (sizes, same, valid), padding modes, dilation and groups.
/// </summary>
/// <remarks>
/// For each output position, with g = co / (C_out/G) the group of output channel co:
/// <code>
/// y[n, co, o] = b[co] + sum over ci &lt; C_in/G, taps t of  x[n, g*(C_in/G) + ci, o*s - p + t*d] * w[co, ci, t]
/// </code>
/// where o, t, s, p and d are per-axis (depth, height, width). Along each axis
/// <c>out = floor((in + p_before + p_after - d*(k-1) - 1) / s) + 1</c>.
/// Depthwise is G = C_in (with C_out = K*C_in for a channel multiplier K); pointwise is k = 1.
/// The reference sums in double and rounds once to float32.
/// </remarks>
public static class Conv
{
    /// <summary>PyTorch <c>conv1d</c>: input [N, C_in, L] (or [C_in, L]), weight [C_out, C_in/G, k].</summary>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Run(1, input, weight, bias, options, impl);

    /// <summary>PyTorch <c>conv2d</c>: input [N, C_in, H, W] (or [C_in, H, W]), weight [C_out, C_in/G, kh, kw].</summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Run(2, input, weight, bias, options, impl);

    /// <summary>PyTorch <c>conv3d</c>: input [N, C_in, D, H, W] (or unbatched), weight [C_out, C_in/G, kd, kh, kw].</summary>
    public static Tensor Conv3d(Tensor input, Tensor weight, Tensor? bias = null, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Run(3, input, weight, bias, options, impl);

    private static Tensor Run(int spatialDims, Tensor input, Tensor weight, Tensor? bias, ConvOptions? options, Implementation impl)
    {
        options ??= ConvOptions.Default;
        ConvGeometry geometry = ConvGeometry.Resolve(spatialDims, input, weight, bias, options);
        return impl switch
        {
            Implementation.Naive => Reference(geometry, input.Data, weight.Data, bias?.Data, options.PaddingMode),
            Implementation.Fast => FastConv.Forward(geometry, input.Data, weight.Data, bias?.Data, options.PaddingMode),
            _ => throw new ArgumentOutOfRangeException(nameof(impl), impl, "unknown implementation"),
        };
    }

    /// <summary>The specification: the formula above as a plain loop nest over (depth, height, width).</summary>
    internal static Tensor Reference(ConvGeometry g, float[] x, float[] w, float[]? b, PaddingMode mode)
    {
        ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
        int cinG = g.InPerGroup, coutG = g.OutPerGroup;
        var y = Tensor.Zeros(g.OutputShape());
        int yi = 0;
        for (int n = 0; n < g.Batch; n++)
        {
            for (int co = 0; co < g.OutChannels; co++)
            {
                int group = co / coutG;
                for (int od = 0; od < ad.Output; od++)
                {
                    for (int oh = 0; oh < ah.Output; oh++)
                    {
                        for (int ow = 0; ow < aw.Output; ow++)
                        {
                            double sum = b is null ? 0.0 : b[co];
                            for (int ci = 0; ci < cinG; ci++)
                            {
                                int c = group * cinG + ci;
                                for (int kd = 0; kd < ad.Kernel; kd++)
                                {
                                    int id = PaddingModes.SourceIndex(ad.InputIndex(od, kd), ad.Input, mode);
                                    for (int kh = 0; kh < ah.Kernel; kh++)
                                    {
                                        int ih = PaddingModes.SourceIndex(ah.InputIndex(oh, kh), ah.Input, mode);
                                        for (int kw = 0; kw < aw.Kernel; kw++)
                                        {
                                            int iw = PaddingModes.SourceIndex(aw.InputIndex(ow, kw), aw.Input, mode);
                                            if (id < 0 || ih < 0 || iw < 0)
                                            {
                                                continue; // zero padding contributes nothing
                                            }

                                            float xv = x[(((n * g.InChannels + c) * ad.Input + id) * ah.Input + ih) * aw.Input + iw];
                                            float wv = w[(((co * cinG + ci) * ad.Kernel + kd) * ah.Kernel + kh) * aw.Kernel + kw];
                                            sum += (double)xv * wv;
                                        }
                                    }
                                }
                            }

                            y.Data[yi++] = (float)sum;
                        }
                    }
                }
            }
        }

        return y;
    }
}
