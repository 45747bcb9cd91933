namespace Learn.Ops;

/// <summary>
/// The arguments of PyTorch's <c>MaxPool2d</c> and <c>AvgPool2d</c>. Kernel, stride, padding and dilation take
/// one value for both axes or one per axis (height, width); a missing stride means stride = kernel.
/// </summary>
public sealed record PoolOptions
{
    /// <summary>Window size (PyTorch <c>kernel_size</c>).</summary>
    public required IReadOnlyList<int> Kernel { get; init; }

    /// <summary>Step between windows (PyTorch <c>stride</c>); null means the kernel size, as in PyTorch.</summary>
    public IReadOnlyList<int>? Stride { get; init; }

    /// <summary>Implicit padding on both sides (PyTorch <c>padding</c>); at most half the kernel.</summary>
    public IReadOnlyList<int> Padding { get; init; } = [0];

    /// <summary>Spacing between window taps (PyTorch <c>dilation</c>; max pooling only).</summary>
    public IReadOnlyList<int> Dilation { get; init; } = [1];

    /// <summary>Round the output size up instead of down (PyTorch <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; init; }

    /// <summary>Average pooling divides by the whole window, padding included (PyTorch <c>count_include_pad</c>).</summary>
    public bool CountIncludePad { get; init; } = true;

    /// <summary>Pooling with a square window of <paramref name="kernel"/>, stride and padding as given.</summary>
    public static PoolOptions Square(int kernel, int? stride = null, int padding = 0) =>
        new() { Kernel = [kernel], Stride = stride is null ? null : [stride.Value], Padding = [padding] };
}
