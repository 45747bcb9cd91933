using System.Text;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>A key whose tensor has another shape than the module's.</summary>
/// <param name="Key">The state_dict key.</param>
/// <param name="Expected">The module's shape.</param>
/// <param name="Actual">The shape found in the state_dict.</param>
public sealed record ShapeMismatch(string Key, int[] Expected, int[] Actual)
{
    /// <inheritdoc />
    public override string ToString() => $"{Key}: expected {Tensor.Format(Expected)}, got {Tensor.Format(Actual)}";
}

/// <summary>What <see cref="Module.LoadStateDict"/> found: keys missing from the file, keys the module does not have, shape mismatches.</summary>
/// <param name="Missing">Module keys absent from the state_dict (module order).</param>
/// <param name="Unexpected">State_dict keys the module does not have (sorted; <c>num_batches_tracked</c> excluded).</param>
/// <param name="Mismatched">Keys present in both with different shapes (module order).</param>
/// <param name="Loaded">How many tensors matched by name and shape (and were copied, unless a strict load failed).</param>
public sealed record StateDictReport(
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<ShapeMismatch> Mismatched,
    int Loaded)
{
    /// <summary>True when nothing is missing, unexpected or mis-shaped.</summary>
    public bool IsClean => Missing.Count == 0 && Unexpected.Count == 0 && Mismatched.Count == 0;

    /// <summary>The full report, one key per line (every key, not a sample).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append($"{Loaded} tensors matched; {Missing.Count} missing, {Unexpected.Count} unexpected, {Mismatched.Count} with another shape");
        foreach (string key in Missing)
        {
            text.Append("\n  missing: ").Append(key);
        }

        foreach (string key in Unexpected)
        {
            text.Append("\n  unexpected: ").Append(key);
        }

        foreach (ShapeMismatch m in Mismatched)
        {
            text.Append("\n  shape: ").Append(m);
        }

        return text.ToString();
    }
}

/// <summary>A strict state_dict load found missing, unexpected or mis-shaped keys; nothing was loaded.</summary>
public sealed class StateDictException : Exception
{
    /// <summary>Creates the exception for <paramref name="report"/>; the message lists every problem.</summary>
    public StateDictException(StateDictReport report)
        : base("state_dict does not match the model: " + (report ?? throw new ArgumentNullException(nameof(report))))
    {
        Report = report;
    }

    /// <summary>Creates an exception with a message only.</summary>
    public StateDictException(string message)
        : base(message)
    {
        Report = new StateDictReport([], [], [], 0);
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public StateDictException(string message, Exception innerException)
        : base(message, innerException)
    {
        Report = new StateDictReport([], [], [], 0);
    }

    /// <summary>Creates an exception with no details.</summary>
    public StateDictException()
        : this("state_dict does not match the model")
    {
    }

    /// <summary>The problems found.</summary>
    public StateDictReport Report { get; }
}
