using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The three gradients of y = conv(x, w, b) with respect to its arguments, given dL/dy.</summary>
/// <param name="Input">dL/dx, shaped like x.</param>
/// <param name="Weight">dL/dw, shaped like w.</param>
/// <param name="Bias">dL/db [C_out] when the forward had a bias, else null.</param>
public sealed record ConvGradients(Tensor Input, Tensor Weight, Tensor? Bias);

/// <summary>
/// The backward pass of <see cref="Conv"/>: dL/dx, dL/dw and dL/db from dL/dy, for every stride, padding
/// (sizes, same, valid), padding mode, dilation and group count, in 1, 2 and 3 spatial dimensions.
/// </summary>
/// <remarks>
/// Differentiate the forward's indexing equation
/// <code>
/// y[n, co, o] = b[co] + sum over ci &lt; C_in/G, taps t of  x[n, g*(C_in/G) + ci, src(o*s - p + t*d)] * w[co, ci, t]
/// </code>
/// (src maps a padded coordinate to the input cell it reads, <see cref="PaddingModes.SourceIndex"/>; zero
/// padding reads nothing). Every term touches one x, one w and one y, so each gradient is the sum of dL/dy
/// times the other factor over the terms that touch it:
/// <code>
/// dL/dx[n, c, i]   = sum over co in c's group, o, t with src(o*s - p + t*d) = i  of  dy[n, co, o] * w[co, c - g*(C_in/G), t]
/// dL/dw[co, ci, t] = sum over n, o  of  x[n, g*(C_in/G) + ci, src(o*s - p + t*d)] * dy[n, co, o]
/// dL/db[co]        = sum over n, o  of  dy[n, co, o]
/// </code>
/// dL/dx is therefore a transposed convolution of dy with the same kernel (each output position scatters
/// w * dy back onto the cells it read), and the padding modes fold the gradient of the padded border back
/// onto the input cells the border copied: reflect and circular onto mirrored or wrapped cells, replicate
/// onto the edge. Input cells no (o, t) reads - the rows a stride skips, the tail the floor drops - get exact
/// zeros. dL/dw is a correlation of x with dy. The reference walks the forward's loop nest once, adds each
/// term into double accumulators and rounds each gradient once to float32.
/// </remarks>
public static class ConvBackward
{
    /// <summary>Gradients of <see cref="Conv.Conv1d"/>: input [N, C_in, L] (or [C_in, L]), weight [C_out, C_in/G, k], dL/dy shaped like y.</summary>
    public static ConvGradients Conv1d(Tensor input, Tensor weight, Tensor gradOutput, bool bias = false, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Run(1, input, weight, gradOutput, bias, options, impl);

    /// <summary>Gradients of <see cref="Conv.Conv2d"/>: input [N, C_in, H, W] (or [C_in, H, W]), weight [C_out, C_in/G, kh, kw], dL/dy shaped like y.</summary>
    /// <param name="input">The forward's input x.</param>
    /// <param name="weight">The forward's weight w.</param>
    /// <param name="gradOutput">dL/dy, of the forward output's shape.</param>
    /// <param name="bias">Whether the forward had a bias (dL/db does not depend on its value).</param>
    /// <param name="options">The forward's stride, padding, padding mode, dilation and groups.</param>
    /// <param name="impl">The reference loops or the fast path.</param>
    public static ConvGradients Conv2d(Tensor input, Tensor weight, Tensor gradOutput, bool bias = false, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Run(2, input, weight, gradOutput, bias, options, impl);

    /// <summary>Gradients of <see cref="Conv.Conv3d"/>: input [N, C_in, D, H, W] (or unbatched), weight [C_out, C_in/G, kd, kh, kw], dL/dy shaped like y.</summary>
    public static ConvGradients Conv3d(Tensor input, Tensor weight, Tensor gradOutput, bool bias = false, ConvOptions? options = null, Implementation impl = Implementation.Naive) =>
        Run(3, input, weight, gradOutput, bias, options, impl);

    /// <summary>
    /// Checks the forward's arguments as <see cref="Conv"/> does, then that dL/dy has the forward output's
    /// shape; returns the resolved geometry.
    /// </summary>
    public static ConvGeometry Resolve(int spatialDims, Tensor input, Tensor weight, Tensor gradOutput, ConvOptions options)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        ConvGeometry g = ConvGeometry.Resolve(spatialDims, input, weight, null, options);
        int[] expected = g.OutputShape();
        if (!gradOutput.Shape.SequenceEqual(expected))
        {
            throw new ArgumentException(
                $"grad_output of size {gradOutput.ShapeString} does not match the conv{spatialDims}d output of size {Tensor.Format(expected)} (input {input.ShapeString}, weight {weight.ShapeString}, {options})");
        }

        return g;
    }

    private static ConvGradients Run(int spatialDims, Tensor input, Tensor weight, Tensor gradOutput, bool bias, ConvOptions? options, Implementation impl)
    {
        options ??= ConvOptions.Default;
        ConvGeometry g = Resolve(spatialDims, input, weight, gradOutput, options);
        var dx = Tensor.Zeros(input.Shape);
        var dw = Tensor.Zeros(weight.Shape);
        Tensor? db = bias ? Tensor.Zeros(weight.Size(0)) : null;
        switch (impl)
        {
            case Implementation.Naive:
                Reference(g, input.Data, weight.Data, gradOutput.Data, options.PaddingMode, dx.Data, dw.Data, db?.Data);
                break;
            case Implementation.Fast:
                FastConvBackward.Backward(g, input.Data, weight.Data, gradOutput.Data, options.PaddingMode, dx.Data, dw.Data, db?.Data);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(impl), impl, "unknown implementation");
        }

        return new ConvGradients(dx, dw, db);
    }

    /// <summary>The specification: the forward's loop nest, each term's partial derivatives added where they belong.</summary>
    internal static void Reference(ConvGeometry g, float[] x, float[] w, float[] dy, PaddingMode mode, float[] dx, float[] dw, float[]? db)
    {
        ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
        int cinG = g.InPerGroup, coutG = g.OutPerGroup;
        var sumDx = new double[dx.Length];
        var sumDw = new double[dw.Length];
        var sumDb = new double[g.OutChannels];
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
                            double grad = dy[yi++];
                            sumDb[co] += grad;
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
                                                continue; // zero padding: the term is 0 * w, no gradient flows
                                            }

                                            int xi = (((n * g.InChannels + c) * ad.Input + id) * ah.Input + ih) * aw.Input + iw;
                                            int wi = (((co * cinG + ci) * ad.Kernel + kd) * ah.Kernel + kh) * aw.Kernel + kw;
                                            sumDx[xi] += grad * w[wi]; // d(x*w)/dx = w
                                            sumDw[wi] += grad * x[xi]; // d(x*w)/dw = x
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        Round(sumDx, dx);
        Round(sumDw, dw);
        if (db is not null)
        {
            Round(sumDb, db);
        }
    }

    private static void Round(double[] sums, float[] into)
    {
        for (int i = 0; i < sums.Length; i++)
        {
            into[i] = (float)sums[i];
        }
    }
}
