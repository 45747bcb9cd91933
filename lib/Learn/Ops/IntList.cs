using System.Globalization;

namespace Learn.Ops;

/// <summary>Reads and writes the comma-separated integer lists of the CLI and the fixture manifest ("2" or "2,1").</summary>
public static class IntList
{
    /// <summary>Parses "a" or "a,b,..." into integers; the message names <paramref name="what"/> when it fails.</summary>
    public static int[] Parse(string text, string what)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',');
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]))
            {
                throw new ArgumentException($"{what} must be an integer or a comma-separated list of integers, but got '{text}'");
            }
        }

        return values;
    }

    /// <summary>Formats as "a" or "a,b".</summary>
    public static string Format(IEnumerable<int> values) =>
        string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// Expands a one-value list to <paramref name="dims"/> values, as PyTorch does for stride, padding and
    /// dilation; refuses a list of another length with PyTorch's message.
    /// </summary>
    public static int[] Expand(IReadOnlyList<int> values, int dims, string what)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 1)
        {
            return Enumerable.Repeat(values[0], dims).ToArray();
        }

        if (values.Count != dims)
        {
            throw new ArgumentException(
                $"expected {what} to be a single integer value or a list of {dims} values to match the convolution dimensions, but got {what}=[{string.Join(", ", values)}]");
        }

        return values.ToArray();
    }
}
