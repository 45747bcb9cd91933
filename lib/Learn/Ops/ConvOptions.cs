namespace Learn.Ops;

/// <summary>
/// The arguments of PyTorch's <c>nn.Conv{1,2,3}d</c> besides the tensors. Stride, padding sizes and dilation
/// take one value for every spatial dimension or one value per dimension.
/// </summary>
public sealed record ConvOptions
{
    /// <summary>The default: stride 1, no padding, dilation 1, one group.</summary>
    public static ConvOptions Default { get; } = new();

    /// <summary>Step between output positions (PyTorch <c>stride</c>).</summary>
    public IReadOnlyList<int> Stride { get; init; } = [1];

    /// <summary>Padding sizes, <c>same</c> or <c>valid</c> (PyTorch <c>padding</c>).</summary>
    public Padding Padding { get; init; } = Padding.Valid;

    /// <summary>What the padding reads (PyTorch <c>padding_mode</c>).</summary>
    public PaddingMode PaddingMode { get; init; } = PaddingMode.Zeros;

    /// <summary>Spacing between kernel taps (PyTorch <c>dilation</c>).</summary>
    public IReadOnlyList<int> Dilation { get; init; } = [1];

    /// <summary>Number of channel groups (PyTorch <c>groups</c>); groups = C_in is depthwise.</summary>
    public int Groups { get; init; } = 1;

    /// <inheritdoc />
    public override string ToString() =>
        $"stride={IntList.Format(Stride)} padding={Padding} padding_mode={PaddingMode.Name()} dilation={IntList.Format(Dilation)} groups={Groups}";

    /// <inheritdoc />
    public bool Equals(ConvOptions? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc />
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
