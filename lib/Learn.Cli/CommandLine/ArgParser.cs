namespace Learn.Cli.CommandLine;

/// <summary>
/// Checks the tokens after a verb against its specification: <c>--name VALUE</c>, <c>--name=VALUE</c>, flags,
/// positionals and <c>--</c> (everything after it is positional). Every problem is a usage error naming the
/// option or argument: unknown or repeated option, missing value, missing required option, missing or extra
/// positional.
/// </summary>
internal static class ArgParser
{
    /// <summary>True when the tokens ask for help (<c>-h</c> or <c>--help</c> before any <c>--</c>).</summary>
    public static bool WantsHelp(IEnumerable<string> tokens) =>
        tokens.TakeWhile(t => t != "--").Any(t => t is "-h" or "--help");

    /// <summary>Parses <paramref name="tokens"/> for <paramref name="verb"/>; <paramref name="commandPath"/> (e.g. <c>learn conv2d</c>) is quoted in hints.</summary>
    public static ParsedArgs Parse(Verb verb, string commandPath, IReadOnlyList<string> tokens)
    {
        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        var positionals = new List<string>();
        bool onlyPositionals = false;
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (onlyPositionals || !LooksLikeOption(token))
            {
                positionals.Add(token);
                continue;
            }

            if (token == "--")
            {
                onlyPositionals = true;
                continue;
            }

            int equals = token.IndexOf('=', StringComparison.Ordinal);
            string name = equals > 0 ? token[..equals] : token;
            string? inline = equals > 0 ? token[(equals + 1)..] : null;
            OptionSpec spec = verb.Options.FirstOrDefault(o => o.Name == name)
                ?? throw CliError.Usage(name, $"unknown option ({commandPath} --help lists the options)");
            if (options.ContainsKey(name))
            {
                throw CliError.Usage(name, "given more than once");
            }

            if (spec.IsFlag)
            {
                if (inline is not null)
                {
                    throw CliError.Usage(name, "is a flag and takes no value");
                }

                options[name] = null;
                continue;
            }

            string? value = inline;
            if (value is null && i + 1 < tokens.Count && !tokens[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = tokens[++i];
            }

            if (string.IsNullOrEmpty(value))
            {
                throw CliError.Usage(name, $"needs a value ({spec.ValueName})");
            }

            options[name] = value;
        }

        OptionSpec? missing = verb.Options.FirstOrDefault(o => o.Required && !options.ContainsKey(o.Name));
        if (missing is not null)
        {
            throw CliError.Usage(missing.Name, "required option missing");
        }

        return new ParsedArgs(options, AssignPositionals(verb, positionals));
    }

    private static Dictionary<string, IReadOnlyList<string>> AssignPositionals(Verb verb, List<string> positionals)
    {
        var arguments = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        int next = 0;
        foreach (ArgumentSpec spec in verb.Arguments)
        {
            if (spec.Variadic)
            {
                arguments[spec.Name] = positionals[next..];
                next = positionals.Count;
            }
            else if (next < positionals.Count)
            {
                arguments[spec.Name] = [positionals[next++]];
            }
            else if (!spec.Optional)
            {
                throw CliError.Usage(spec.Name, "missing argument");
            }
        }

        if (next < positionals.Count)
        {
            throw CliError.Usage(positionals[next], "unexpected argument");
        }

        return arguments;
    }

    // "-" alone (stdin by convention) and negative numbers are values, not options.
    private static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-' && !char.IsAsciiDigit(token[1]) && token[1] != '.';
}
