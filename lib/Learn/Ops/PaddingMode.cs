namespace Learn.Ops;

/// <summary>
/// What a convolution reads outside the input (PyTorch's <c>padding_mode</c>). For an input row
/// a b c d and two cells of padding on each side:
/// <list type="bullet">
/// <item><term>Zeros</term><description>0 0 | a b c d | 0 0</description></item>
/// <item><term>Reflect</term><description>c b | a b c d | c b (mirror, edge not repeated; padding &lt; size)</description></item>
/// <item><term>Replicate</term><description>a a | a b c d | d d (edge repeated)</description></item>
/// <item><term>Circular</term><description>c d | a b c d | a b (wrap around; padding &lt;= size)</description></item>
/// </list>
/// </summary>
public enum PaddingMode
{
    /// <summary>Read zeros outside the input (PyTorch <c>'zeros'</c>, the default).</summary>
    Zeros,

    /// <summary>Mirror the input without repeating the edge (PyTorch <c>'reflect'</c>).</summary>
    Reflect,

    /// <summary>Repeat the edge value (PyTorch <c>'replicate'</c>).</summary>
    Replicate,

    /// <summary>Wrap around to the other side (PyTorch <c>'circular'</c>).</summary>
    Circular,
}

/// <summary>Maps a coordinate that may lie in the padding back to the input, per <see cref="PaddingMode"/>.</summary>
public static class PaddingModes
{
    /// <summary>
    /// The input index that padded coordinate <paramref name="i"/> reads (i may be negative or &gt;= size),
    /// or -1 when it reads a zero.
    /// </summary>
    public static int SourceIndex(int i, int size, PaddingMode mode)
    {
        if (i >= 0 && i < size)
        {
            return i;
        }

        return mode switch
        {
            PaddingMode.Zeros => -1,
            PaddingMode.Reflect => i < 0 ? -i : 2 * (size - 1) - i,
            PaddingMode.Replicate => i < 0 ? 0 : size - 1,
            PaddingMode.Circular => ((i % size) + size) % size,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown padding mode"),
        };
    }

    /// <summary>Parses PyTorch's spelling: zeros, reflect, replicate, circular.</summary>
    public static PaddingMode Parse(string text) => text switch
    {
        "zeros" => PaddingMode.Zeros,
        "reflect" => PaddingMode.Reflect,
        "replicate" => PaddingMode.Replicate,
        "circular" => PaddingMode.Circular,
        _ => throw new ArgumentException($"padding_mode must be one of zeros, reflect, replicate, circular, but got '{text}'", nameof(text)),
    };

    /// <summary>PyTorch's spelling of a mode.</summary>
    public static string Name(this PaddingMode mode) => mode switch
    {
        PaddingMode.Zeros => "zeros",
        PaddingMode.Reflect => "reflect",
        PaddingMode.Replicate => "replicate",
        PaddingMode.Circular => "circular",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown padding mode"),
    };
}
