namespace Learn.Ops;

/// <summary>
/// Convolution padding as PyTorch accepts it: explicit sizes (one for all spatial dimensions or one
/// per dimension, applied on both sides), <c>'valid'</c> (no padding) or <c>'same'</c> (output size
/// equals input size at stride 1; the total d*(k-1) is split with the extra cell at the end, as PyTorch does).
/// </summary>
public sealed record Padding
{
    private Padding(string kind, int[] sizes)
    {
        Kind = kind;
        Sizes = sizes;
    }

    /// <summary>"explicit", "same" or "valid".</summary>
    public string Kind { get; }

    /// <summary>For explicit padding: one size for every dimension, or one per dimension.</summary>
    public IReadOnlyList<int> Sizes { get; }

    /// <summary>No padding (PyTorch <c>padding=0</c> or <c>'valid'</c>).</summary>
    public static Padding Valid { get; } = new("valid", [0]);

    /// <summary>PyTorch <c>padding='same'</c>; only allowed at stride 1.</summary>
    public static Padding Same { get; } = new("same", []);

    /// <summary>Explicit padding on both sides: one size for all dimensions, or one per dimension.</summary>
    public static Padding Of(params int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length == 0)
        {
            throw new ArgumentException("padding needs at least one size", nameof(sizes));
        }

        return new Padding("explicit", (int[])sizes.Clone());
    }

    /// <summary>Parses the CLI/PyTorch spellings: <c>p</c>, <c>ph,pw</c>, <c>same</c>, <c>valid</c>.</summary>
    public static Padding Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text switch
        {
            "same" => Same,
            "valid" => Valid,
            _ => Of(IntList.Parse(text, "padding")),
        };
    }

    /// <inheritdoc />
    public override string ToString() => Kind == "explicit" ? IntList.Format(Sizes) : Kind;

    /// <inheritdoc />
    public bool Equals(Padding? other) =>
        other is not null && Kind == other.Kind && Sizes.SequenceEqual(other.Sizes);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Sizes.Count);
}
