namespace Learn.Ops.Fast;

/// <summary>
/// The fast convolution kernels, by name: <see cref="FastConv.Choose"/> picks one by the shape of the call, and a
/// caller can force one (<see cref="FastConv.Conv2d"/>, <c>learn conv2d --impl fast --kernel NAME</c>) on any
/// convolution it accepts (<see cref="FastConv.Accepts"/>), which is how the tests run every kernel on every case.
/// </summary>
public enum ConvKernel
{
    /// <summary>Let <see cref="FastConv.Choose"/> pick.</summary>
    Auto,

    /// <summary>One input channel per group: <see cref="DepthwiseConv"/>, vectorised along the width over a padded plane copy.</summary>
    Depthwise,

    /// <summary>Every kernel size 1, stride 1, no padding: <see cref="PointwiseGemm"/>, the packed GEMM on the input as it is.</summary>
    Pointwise,

    /// <summary>The packed GEMM reading B in place from a padded copy of the input (<see cref="IndirectConv"/>).</summary>
    Indirect,

    /// <summary>Any convolution: implicit im2col (panels gathered on the fly) + the packed GEMM (<see cref="Im2colConv"/>).</summary>
    Im2col,
}

/// <summary>The command-line spelling of the kernel names.</summary>
public static class ConvKernelNames
{
    /// <summary>The names in enum order: auto, depthwise, pointwise, indirect, im2col.</summary>
    public static IReadOnlyList<string> All { get; } = Enum.GetValues<ConvKernel>().Select(Name).ToArray();

    /// <summary>The lower-case name (what <see cref="FastConv.KernelFor"/> returns and the bench prints).</summary>
    public static string Name(this ConvKernel kernel) => kernel switch
    {
        ConvKernel.Auto => "auto",
        ConvKernel.Depthwise => "depthwise",
        ConvKernel.Pointwise => "pointwise",
        ConvKernel.Indirect => "indirect",
        ConvKernel.Im2col => "im2col",
        _ => throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "unknown kernel"),
    };
}
