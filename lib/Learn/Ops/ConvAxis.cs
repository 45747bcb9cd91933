namespace Learn.Ops;

/// <summary>
/// One spatial axis of a convolution or pooling window: input size, kernel, stride, dilation and the
/// padding before and after. The output size is
/// <c>out = floor((in + pad_before + pad_after - dilation*(kernel-1) - 1) / stride) + 1</c>.
/// </summary>
/// <param name="Input">Input size along the axis.</param>
/// <param name="Kernel">Kernel size k.</param>
/// <param name="Stride">Stride s.</param>
/// <param name="Dilation">Dilation d; the kernel spans d*(k-1)+1 input cells.</param>
/// <param name="PadBefore">Padding before the first input cell.</param>
/// <param name="PadAfter">Padding after the last input cell.</param>
public readonly record struct ConvAxis(int Input, int Kernel, int Stride, int Dilation, int PadBefore, int PadAfter)
{
    /// <summary>The span of the dilated kernel: d*(k-1)+1.</summary>
    public int EffectiveKernel => EffectiveKernelSize(Kernel, Dilation);

    /// <summary>floor((in + pad_before + pad_after - d*(k-1) - 1) / s) + 1.</summary>
    public int Output => (int)((((long)Input + PadBefore + PadAfter - EffectiveKernel) / Stride) + 1);

    /// <summary>The input coordinate (possibly in the padding) read by output position o and tap t: o*s - pad_before + t*d.</summary>
    public int InputIndex(int o, int t) => o * Stride - PadBefore + t * Dilation;

    /// <summary>The span of a kernel of size k with dilation d: d*(k-1)+1.</summary>
    public static int EffectiveKernelSize(int kernel, int dilation) => dilation * (kernel - 1) + 1;
}
