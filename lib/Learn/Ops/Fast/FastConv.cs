using Learn.Tensors;

namespace Learn.Ops.Fast;

/// <summary>
/// The fast convolution: picks one kernel (<see cref="ConvKernel"/>) by the shape of the call and says which
/// (<see cref="Choose"/>), or runs the one a caller forces. Every kernel is tested equal to <see cref="Conv"/>'s
/// reference within the tolerance rule on every case it accepts.
/// <list type="bullet">
/// <item><term>depthwise</term><description>one input channel per group: <see cref="DepthwiseConv"/>, vectorised along the width.</description></item>
/// <item><term>pointwise</term><description>every kernel size 1, stride 1, no padding: <see cref="PointwiseGemm"/>, the packed GEMM on the input as it is.</description></item>
/// <item><term>indirect</term><description>chosen when the output rows fill whole GEMM panels: <see cref="IndirectConv"/>, the packed GEMM reading B in place from a padded copy of the input.</description></item>
/// <item><term>im2col</term><description>everything else, 1-D, 2-D and 3-D: <see cref="Im2colConv"/>, implicit im2col (panels gathered on the fly) + the packed GEMM.</description></item>
/// </list>
/// </summary>
public static class FastConv
{
    /// <summary>
    /// conv2d on the fast path, with an optional fused epilogue; writes into <paramref name="output"/> when
    /// given (it must have the output's shape), so a steady-state caller allocates nothing large.
    /// <paramref name="kernel"/> forces a kernel; one that does not accept the call throws <see cref="NotSupportedException"/>.
    /// </summary>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, ConvOptions? options = null,
        Epilogue epilogue = Epilogue.None, Tensor? output = null, ConvKernel kernel = ConvKernel.Auto)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        options ??= ConvOptions.Default;
        ConvGeometry g = ConvGeometry.Resolve(2, input, weight, bias, options);
        return Forward(g, input.Data, weight.Data, bias?.Data, options.PaddingMode, epilogue, output, kernel);
    }

    /// <summary>The kernel <see cref="Choose"/> picks, by name: depthwise, pointwise, indirect or im2col.</summary>
    public static string KernelFor(ConvGeometry geometry) => Choose(geometry).Name();

    /// <summary>The kernel that computes a convolution of this geometry when none is forced.</summary>
    public static ConvKernel Choose(ConvGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return DepthwiseConv.Applies(geometry) ? ConvKernel.Depthwise
            : PointwiseGemm.Applies(geometry) ? ConvKernel.Pointwise
            : IndirectConv.Applies(geometry) ? ConvKernel.Indirect
            : ConvKernel.Im2col;
    }

    /// <summary>
    /// True when <paramref name="kernel"/> computes this convolution: depthwise needs one input channel per group
    /// (1-D or 2-D), pointwise a 1x1 stride-1 unpadded kernel, indirect a padded copy whose offsets fit an int;
    /// im2col takes everything. <see cref="ConvKernel.Auto"/> accepts everything.
    /// </summary>
    public static bool Accepts(ConvKernel kernel, ConvGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(geometry);
        return kernel switch
        {
            ConvKernel.Auto or ConvKernel.Im2col => true,
            ConvKernel.Depthwise => DepthwiseConv.Applies(geometry),
            ConvKernel.Pointwise => PointwiseGemm.Applies(geometry),
            ConvKernel.Indirect => IndirectConv.Fits(geometry),
            _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown kernel"),
        };
    }

    /// <summary>Runs the kernel <see cref="Choose"/> picks, or the forced one.</summary>
    internal static Tensor Forward(ConvGeometry g, float[] x, float[] w, float[]? b, PaddingMode mode, Epilogue epilogue = Epilogue.None,
        Tensor? output = null, ConvKernel kernel = ConvKernel.Auto, int threads = 0)
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

        if (!Accepts(kernel, g))
        {
            throw new NotSupportedException($"the {kernel.Name()} kernel does not compute this convolution (output {Tensor.Format(g.OutputShape())}, " +
                $"{g.InPerGroup} input channels per group, kernel {g.Axes[1].Kernel}x{g.Axes[2].Kernel}, stride {g.Axes[1].Stride},{g.Axes[2].Stride}); " +
                $"it computes {Describe(kernel)}");
        }

        switch (kernel == ConvKernel.Auto ? Choose(g) : kernel)
        {
            case ConvKernel.Depthwise:
                DepthwiseConv.Forward(g, x, w, b, y.Data, mode, relu, threads);
                break;
            case ConvKernel.Pointwise:
                PointwiseGemm.Forward(g, x, w, b, y.Data, relu, threads);
                break;
            case ConvKernel.Indirect:
                IndirectConv.Forward(g, x, w, b, y.Data, mode, relu, threads);
                break;
            default:
                Im2colConv.Forward(g, x, w, b, y.Data, mode, relu, threads);
                break;
        }

        return y;
    }

    private static string Describe(ConvKernel kernel) => kernel switch
    {
        ConvKernel.Depthwise => "1-D and 2-D convolutions with one input channel per group",
        ConvKernel.Pointwise => "1x1 convolutions with stride 1 and no padding",
        ConvKernel.Indirect => "convolutions whose padded input copy fits 2^30 floats",
        _ => "every convolution",
    };
}
