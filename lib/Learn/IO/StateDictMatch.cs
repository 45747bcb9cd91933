using Learn.Tensors;

namespace Learn.IO;

/// <summary>A tensor a model expects: its state_dict name and shape.</summary>
/// <param name="Name">The PyTorch state_dict name, e.g. <c>conv1.conv.weight</c>.</param>
/// <param name="Shape">The shape the model needs.</param>
public sealed record TensorSpec(string Name, IReadOnlyList<int> Shape);

/// <summary>A name both sides have, with different shapes.</summary>
/// <param name="Name">The state_dict name.</param>
/// <param name="Expected">The shape the model needs.</param>
/// <param name="Actual">The shape the checkpoint has.</param>
public sealed record MismatchedShape(string Name, IReadOnlyList<int> Expected, IReadOnlyList<int> Actual);

/// <summary>
/// How a checkpoint's state_dict lines up with what a model expects: missing, unexpected and mis-shaped
/// names. PyTorch's <c>load_state_dict(strict=True)</c> fails on the first two; torchreid's loader silently
/// skips all three. Here strict (the default) fails with the full report, and non-strict returns it so
/// the caller can load what matches and print the rest.
/// </summary>
public sealed class StateDictMatch
{
    /// <summary>At most this many names are listed per category in <see cref="Report"/>.</summary>
    public const int ListedPerCategory = 25;

    private StateDictMatch(IReadOnlyList<string> matched, IReadOnlyList<TensorSpec> missing, IReadOnlyList<TensorSpec> unexpected, IReadOnlyList<MismatchedShape> mismatched, string? source)
    {
        Matched = matched;
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
        Source = source;
    }

    /// <summary>Names present on both sides with equal shapes, in the model's order.</summary>
    public IReadOnlyList<string> Matched { get; }

    /// <summary>Tensors the model expects that the checkpoint lacks, in the model's order.</summary>
    public IReadOnlyList<TensorSpec> Missing { get; }

    /// <summary>Tensors the checkpoint has that the model does not expect, in the checkpoint's order.</summary>
    public IReadOnlyList<TensorSpec> Unexpected { get; }

    /// <summary>Names on both sides whose shapes differ, in the model's order.</summary>
    public IReadOnlyList<MismatchedShape> Mismatched { get; }

    /// <summary>The checkpoint's file name, when known (used in the report).</summary>
    public string? Source { get; }

    /// <summary>True when every expected tensor is present with its shape and nothing else is.</summary>
    public bool IsExact => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>A readable report: <see cref="Summary"/>, then <see cref="Details"/>, one line each.</summary>
    public string Report => string.Join('\n', Details.Prepend(Summary));

    /// <summary>The report's first line: whether the checkpoint matches, and how many names are off in each way.</summary>
    public string Summary
    {
        get
        {
            int expected = Matched.Count + Missing.Count + Mismatched.Count;
            string from = Source is null ? "the checkpoint" : Source;
            return IsExact
                ? $"{from} matches the model: all {expected} tensors present with their shapes"
                : $"{from} does not match the model: {Missing.Count} missing, {Unexpected.Count} unexpected, " +
                  $"{Mismatched.Count} with the wrong shape; {Matched.Count} of {expected} expected tensors match";
        }
    }

    /// <summary>
    /// One indented line per missing, unexpected or mis-shaped name (at most <see cref="ListedPerCategory"/> per
    /// category, then a count of the rest); empty when the match is exact.
    /// </summary>
    public IReadOnlyList<string> Details
    {
        get
        {
            var lines = new List<string>();
            List(lines, "missing    ", Missing.Select(m => $"{Printable.Escape(m.Name)} {Tensor.Format(m.Shape)}"));
            List(lines, "unexpected ", Unexpected.Select(u => $"{Printable.Escape(u.Name)} {Tensor.Format(u.Shape)}"));
            List(lines, "wrong shape", Mismatched.Select(m => $"{Printable.Escape(m.Name)}: model {Tensor.Format(m.Expected)}, checkpoint {Tensor.Format(m.Actual)}"));
            return lines;
        }
    }

    /// <inheritdoc />
    public override string ToString() => Report;

    /// <summary>Compares <paramref name="expected"/> with <paramref name="actual"/>; never throws on a mismatch.</summary>
    /// <param name="expected">The model's tensors, in its order.</param>
    /// <param name="actual">The checkpoint's state_dict (normally <see cref="StateDict.Normalized"/>), enumerated in its order.</param>
    /// <param name="source">The checkpoint's file name for the report, if any.</param>
    public static StateDictMatch Compare(IEnumerable<TensorSpec> expected, IReadOnlyDictionary<string, Tensor> actual, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        var matched = new List<string>();
        var missing = new List<TensorSpec>();
        var mismatched = new List<MismatchedShape>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorSpec spec in expected)
        {
            if (!wanted.Add(spec.Name))
            {
                throw new ArgumentException($"the model lists '{spec.Name}' twice", nameof(expected));
            }

            if (!actual.TryGetValue(spec.Name, out Tensor? tensor))
            {
                missing.Add(spec);
            }
            else if (!tensor.Shape.AsSpan().SequenceEqual(spec.Shape.ToArray()))
            {
                mismatched.Add(new MismatchedShape(spec.Name, spec.Shape, tensor.Shape));
            }
            else
            {
                matched.Add(spec.Name);
            }
        }

        var unexpected = actual.Where(kv => !wanted.Contains(kv.Key)).Select(kv => new TensorSpec(kv.Key, kv.Value.Shape)).ToList();
        return new StateDictMatch(matched, missing, unexpected, mismatched, source);
    }

    /// <summary>
    /// Compares and, when <paramref name="strict"/> and the match is not exact, throws with the report.
    /// Non-strict returns the report for the caller to print, loading only <see cref="Matched"/>.
    /// </summary>
    /// <exception cref="StateDictMismatchException">Strict, and something is missing, unexpected or mis-shaped.</exception>
    public static StateDictMatch Check(IEnumerable<TensorSpec> expected, IReadOnlyDictionary<string, Tensor> actual, bool strict = true, string? source = null)
    {
        StateDictMatch match = Compare(expected, actual, source);
        if (strict && !match.IsExact)
        {
            throw new StateDictMismatchException(match);
        }

        return match;
    }

    private static void List(List<string> lines, string label, IEnumerable<string> items)
    {
        int n = 0;
        foreach (string item in items)
        {
            if (n++ < ListedPerCategory)
            {
                lines.Add($"  {label}  {item}");
            }
        }

        if (n > ListedPerCategory)
        {
            lines.Add($"  {label}  ... and {n - ListedPerCategory} more");
        }
    }
}
