using System.Globalization;

namespace Learn.Cli.CommandLine;

/// <summary>
/// The options and positionals of one invocation, already checked against the verb's specification
/// (no unknown, repeated or missing required options). The typed getters turn a conversion failure into a
/// usage error that names the option.
/// </summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, string?> _options;
    private readonly Dictionary<string, IReadOnlyList<string>> _arguments;

    public ParsedArgs(Dictionary<string, string?> options, Dictionary<string, IReadOnlyList<string>> arguments)
    {
        _options = options;
        _arguments = arguments;
    }

    /// <summary>True when the option or flag was given.</summary>
    public bool Has(string option) => _options.ContainsKey(option);

    /// <summary>The raw text of an option, or null when absent.</summary>
    public string? Text(string option) => _options.GetValueOrDefault(option);

    /// <summary>The raw text of a required option (the parser has checked it is there).</summary>
    public string Required(string option) =>
        Text(option) ?? throw CliError.Usage(option, "required option missing");

    /// <summary>
    /// The option converted by <paramref name="convert"/>, or <paramref name="fallback"/> when absent.
    /// The converter throws <see cref="FormatException"/> with the problem; it becomes <c>learn: OPTION: problem</c>.
    /// </summary>
    public T Value<T>(string option, Func<string, T> convert, T fallback)
    {
        ArgumentNullException.ThrowIfNull(convert);
        string? text = Text(option);
        if (text is null)
        {
            return fallback;
        }

        try
        {
            return convert(text);
        }
        catch (FormatException e)
        {
            throw CliError.Usage(option, e.Message);
        }
    }

    /// <summary>A positional argument (the first value of a variadic one), or null when an optional one is absent.</summary>
    public string? Argument(string name) =>
        _arguments.TryGetValue(name, out IReadOnlyList<string>? values) && values.Count > 0 ? values[0] : null;

    /// <summary>All values of a variadic argument (empty when none were given).</summary>
    public IReadOnlyList<string> Arguments(string name) =>
        _arguments.TryGetValue(name, out IReadOnlyList<string>? values) ? values : [];

    /// <summary>Converters shared by verbs; each throws <see cref="FormatException"/> with a one-line problem.</summary>
    public static class Convert
    {
        /// <summary>An integer &gt;= <paramref name="min"/>.</summary>
        public static Func<string, int> Int(int min) => text =>
            int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) && value >= min
                ? value
                : throw new FormatException($"must be an integer >= {min}, got '{text}'");

        /// <summary>A finite number &gt;= 0 (tolerances).</summary>
        public static double NonNegative(string text) =>
            double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= 0
                ? value
                : throw new FormatException($"must be a finite number >= 0, got '{text}'");

        /// <summary>One of <paramref name="choices"/>, mapped to its value.</summary>
        public static Func<string, T> Choice<T>(params (string Name, T Value)[] choices) => text =>
        {
            foreach ((string name, T value) in choices)
            {
                if (text == name)
                {
                    return value;
                }
            }

            throw new FormatException($"must be one of {string.Join(", ", choices.Select(c => c.Name))}, got '{text}'");
        };
    }
}
