using System.Reflection;
using System.Text;

namespace Learn.Cli.CommandLine;

/// <summary>The --help and --version texts, derived from the verb table so that they cannot drift from the parser.</summary>
internal static class Help
{
    private const int Column = 26;

    /// <summary><c>learn --help</c>: what the tool is, the verbs, the exit codes.</summary>
    public static string TopLevel(IReadOnlyList<Verb> verbs)
    {
        var text = new StringBuilder();
        text.AppendLine("learn - the convolution family and OSNet, checked against PyTorch");
        text.AppendLine();
        text.AppendLine("Usage: learn VERB [options]");
        text.AppendLine("       learn VERB --help      options of one verb (also: learn help VERB)");
        text.AppendLine("       learn completion bash|zsh   shell completion: source <(learn completion bash)");
        text.AppendLine("       learn --version");
        text.AppendLine();
        text.AppendLine("Verbs:");
        AppendList(text, verbs.Select(v => (v.Name, v.Summary)));
        text.AppendLine();
        text.AppendLine("Tensors are NumPy .npy files: float32 (or float64, converted) little-endian, C order.");
        text.AppendLine(ExitCode.Table);
        return text.ToString();
    }

    /// <summary><c>learn VERB --help</c>: usage line, description, arguments, options, exit codes.</summary>
    public static string ForVerb(Verb verb, string commandPath)
    {
        ArgumentNullException.ThrowIfNull(verb);
        var text = new StringBuilder();
        AppendWrapped(text, "Usage: ", UsageParts(verb, commandPath));
        text.AppendLine();
        text.AppendLine(verb.Summary);
        if (verb.Description is not null)
        {
            text.AppendLine();
            text.AppendLine(verb.Description.TrimEnd());
        }

        if (verb.Subverbs.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Sub-verbs:");
            AppendList(text, verb.Subverbs.Select(v => (v.Name, v.Summary)));
        }

        if (verb.Arguments.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Arguments:");
            AppendList(text, verb.Arguments.Select(a => (a.Name, a.Description)));
        }

        text.AppendLine();
        text.AppendLine("Options:");
        AppendList(text, verb.Options.Select(o => (
            o.IsFlag ? o.Name : $"{o.Name} {o.ValueName}",
            o.Description + (o.Required ? " (required)" : o.Default is null ? "" : $" (default {o.Default})"))));
        AppendList(text, [("-h, --help", "show this help")]);
        text.AppendLine();
        text.AppendLine(ExitCode.Table);
        return text.ToString();
    }

    /// <summary>The one-line synopsis, e.g. <c>learn compare A.npy B.npy [--atol X] [--rtol X]</c>.</summary>
    public static string Usage(Verb verb, string commandPath) => string.Join(' ', UsageParts(verb, commandPath));

    // The synopsis in unbreakable pieces: the command, then one piece per argument or option.
    private static List<string> UsageParts(Verb verb, string commandPath)
    {
        ArgumentNullException.ThrowIfNull(verb);
        var parts = new List<string> { commandPath };
        if (verb.Subverbs.Count > 0)
        {
            parts.Add("SUBVERB");
        }

        foreach (ArgumentSpec a in verb.Arguments)
        {
            string name = a.Variadic ? $"{a.Name}..." : a.Name;
            parts.Add(a.Optional || a.Variadic ? $"[{name}]" : name);
        }

        foreach (OptionSpec o in verb.Options)
        {
            string option = o.IsFlag ? o.Name : $"{o.Name} {o.ValueName}";
            parts.Add(o.Required ? option : $"[{option}]");
        }

        return parts;
    }

    /// <summary>The version line, e.g. <c>learn 0.1.0+abc123</c>.</summary>
    public static string Version()
    {
        Assembly assembly = typeof(Help).Assembly;
        string version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
        return $"learn {version}";
    }

    // Breaks a long synopsis between its words, continuing under the command: "Usage: learn conv2d ...".
    private static void AppendWrapped(StringBuilder text, string lead, List<string> parts, int width = 100)
    {
        string indent = new(' ', lead.Length + parts[0].Length + 1);
        string current = lead;
        foreach (string part in parts)
        {
            if (current.Length + part.Length + 1 > width && current.Trim().Length > 0 && current != lead)
            {
                text.AppendLine(current.TrimEnd());
                current = indent;
            }

            current += part + " ";
        }

        text.AppendLine(current.TrimEnd());
    }

    private static void AppendList(StringBuilder text, IEnumerable<(string Name, string Description)> rows)
    {
        foreach ((string name, string description) in rows)
        {
            text.AppendLine(name.Length + 2 < Column
                ? $"  {name.PadRight(Column - 2)}{description}"
                : $"  {name}\n{new string(' ', Column)}{description}");
        }
    }
}
