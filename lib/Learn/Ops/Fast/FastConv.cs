using Learn.Tensors;

namespace Learn.Ops.Fast;

/// <summary>
/// The fast convolution: picks one kernel by the shape of the call and says which (<see cref="KernelFor"/>).
/// Every kernel is tested equal to <see cref="Conv"/>'s reference within the tolerance rule.
/// <list type="bullet">
/// <item><term>depthwise</term><description>one input channel per group: <see cref="DepthwiseConv"/>, vectorised along the width.</description></item>
/// <item><term>pointwise</term><description>every kernel size 1, stride 1, no padding: <see cref="PointwiseGemm"/>, the packed GEMM on the input as it is.</description></item>
/// <item><term>indirect</term><description>everything else whose output rows fill whole GEMM panels: <see cref="IndirectConv"/>, the packed GEMM reading B in place from a padded copy of the input.</description></item>
/// <item><term>im2col</term><description>everything else, 1-D, 2-D and 3-D: <see cref="Im2colConv"/>, implicit im2col (panels gathered on the fly) + the packed GEMM.</description></item>
/// </list>
/// </summary>
public static class FastConv
{
    /// <summary>
    /// conv2d on the fast path, with an optional fused epilogue; writes into <paramref name="output"/> when
    /// given (it must have the output's shape), so a steady-state caller allocates nothing large.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, ConvOptions? options = null,
        Epilogue epilogue = Epilogue.None, Tensor? output = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        options ??= ConvOptions.Default;
        ConvGeometry g = ConvGeometry.Resolve(2, input, weight, bias, options);
        return Forward(g, input.Data, weight.Data, bias?.Data, options.PaddingMode, epilogue, output);
    }

    /// <summary>The name of the kernel that computes a convolution of this geometry: depthwise, pointwise, indirect or im2col.</summary>
    public static string KernelFor(ConvGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return DepthwiseConv.Applies(geometry) ? "depthwise"
            : PointwiseGemm.Applies(geometry) ? "pointwise"
            : IndirectConv.Applies(geometry) ? "indirect"
            : "im2col";
    }

    /// <summary>Runs the kernel <see cref="KernelFor"/> names.</summary>
    internal static Tensor Forward(ConvGeometry g, float[] x, float[] w, float[]? b, PaddingMode mode, Epilogue epilogue = Epilogue.None, Tensor? output = null)
    {
        g.RequireFastKernelBounds(); // the kernels below assume this envelope and index with int
        int[] shape = g.OutputShape();
        Tensor y;
        if (output is null)
        {
            y = Tensor.Zeros(shape);
        }
        else if (output.Shape.SequenceEqual(shape))
        {
            y = output;
        }
        else
        {
            throw new ArgumentException($"output has shape {output.ShapeString} but the convolution produces {Tensor.Format(shape)}", nameof(output));
        }

        bool relu = epilogue switch
        {
            Epilogue.None => false,
            Epilogue.Relu => true,
            _ => throw new ArgumentOutOfRangeException(nameof(epilogue), epilogue, "unknown epilogue"),
        };

        switch (KernelFor(g))
        {
            case "depthwise":
                DepthwiseConv.Forward(g, x, w, b, y.Data, mode, relu);
                break;
            case "pointwise":
                PointwiseGemm.Forward(g, x, w, b, y.Data, relu);
                break;
            case "indirect":
                IndirectConv.Forward(g, x, w, b, y.Data, mode, relu);
                break;
            default:
                Im2colConv.Forward(g, x, w, b, y.Data, mode, relu);
                break;
        }

        return y;
    }
}
