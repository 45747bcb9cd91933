using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;

namespace Learn.Cli.CommandLine;

/// <summary>
/// The verb table as a System.CommandLine tree: one <see cref="Command"/> per <see cref="Verb"/>, one
/// <see cref="Option"/> per <see cref="OptionSpec"/>, one <see cref="Argument"/> per <see cref="ArgumentSpec"/>.
/// System.CommandLine tokenises and matches (<c>--name VALUE</c>, <c>--name=VALUE</c>, flags, positionals,
/// <c>--</c>), finds typo corrections and answers the <c>[suggest]</c> completion directive; this class turns its
/// result into <see cref="ParsedArgs"/> and its errors into the one-line <see cref="CliError"/>s the command has
/// always printed (System.CommandLine's own messages are several lines with help appended).
/// </summary>
internal sealed class CommandTree
{
    private readonly Dictionary<Command, Verb> _verbs = [];
    private readonly Dictionary<Command, string> _paths = [];
    private readonly Dictionary<Option, OptionSpec> _options = [];
    private readonly Dictionary<Argument, ArgumentSpec> _arguments = [];

    // Response files (@file) would read argument lists from any file named like one; bundling has no use
    // without short options. Both off, so that what is typed is what is parsed.
    private static readonly ParserConfiguration Configuration = new() { ResponseFileTokenReplacer = null, EnablePosixBundling = false };

    /// <summary>Builds the tree for <paramref name="verbs"/>.</summary>
    public CommandTree(IReadOnlyList<Verb> verbs)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        Verbs = verbs;
        Root = new RootCommand("learn - the convolution family and OSNet, checked against PyTorch");
        // --version is answered before parsing; the root keeps only --help and the [suggest] directive.
        // Its -?, /? and /h aliases are left out: they are not this command's conventions and would be completed.
        foreach (Option option in Root.Options.Where(o => o is VersionOption or HelpOption).ToList())
        {
            Root.Options.Remove(option);
        }

        Root.Options.Add(new HelpOption("--help", "-h") { Description = "show this help" });

        _paths[Root] = "learn";
        foreach (Verb verb in verbs)
        {
            Root.Subcommands.Add(Build(verb, "learn"));
        }
    }

    /// <summary>The top of the tree (its name is <c>learn</c>'s).</summary>
    public RootCommand Root { get; }

    /// <summary>The verbs the tree was built from.</summary>
    public IReadOnlyList<Verb> Verbs { get; }

    private Command Build(Verb verb, string parentPath)
    {
        var command = new Command(verb.Name, verb.Summary);
        string path = $"{parentPath} {verb.Name}";
        _verbs[command] = verb;
        _paths[command] = path;
        foreach (OptionSpec spec in verb.Options)
        {
            Option option = spec.IsFlag
                ? new Option<bool>(spec.Name) { Arity = ArgumentArity.Zero }
                : new Option<string>(spec.Name) { Arity = ArgumentArity.ExactlyOne, HelpName = spec.ValueName };
            option.Description = spec.Description;
            // Required options are checked below, after the clearer errors (unknown words, missing values).
            _options[option] = spec;
            command.Options.Add(option);
        }

        foreach (ArgumentSpec spec in verb.Arguments)
        {
            Argument argument = spec.Variadic
                ? new Argument<string[]>(spec.Name) { Arity = ArgumentArity.ZeroOrMore }
                : new Argument<string>(spec.Name) { Arity = spec.Optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne };
            argument.Description = spec.Description;
            _arguments[argument] = spec;
            command.Arguments.Add(argument);
        }

        foreach (Verb subverb in verb.Subverbs)
        {
            command.Subcommands.Add(Build(subverb, path));
        }

        return command;
    }

    /// <summary>Parses <paramref name="args"/> (everything after <c>learn</c>).</summary>
    public ParseResult Parse(IReadOnlyList<string> args) => Root.Parse(args, Configuration);

    /// <summary>The verb a parse ended on, or null for the top level.</summary>
    public Verb? VerbOf(ParseResult result) => _verbs.GetValueOrDefault(result.CommandResult.Command);

    /// <summary>The full command of a parse, e.g. <c>learn notebooks run</c>.</summary>
    public string PathOf(ParseResult result) => _paths[result.CommandResult.Command];

    /// <summary>
    /// True when the parse asks for help (<c>-h</c>/<c>--help</c> anywhere before <c>--</c>); help wins over errors,
    /// except a mistyped verb (<c>learn conv --help</c>), which is named with its corrections.
    /// </summary>
    public bool WantsHelp(ParseResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Action is not HelpAction)
        {
            return false;
        }

        Verb? verb = VerbOf(result);
        string? stray = result.UnmatchedTokens.FirstOrDefault(t => !t.StartsWith('-'));
        if (stray is not null && result.CommandResult.Command.Subcommands.Count > 0 && verb?.Run is null)
        {
            ParseResult withoutHelp = Parse(result.Tokens.Select(t => t.Value).Where(t => t is not ("--help" or "-h")).ToList());
            throw Unmatched(withoutHelp, verb, PathOf(result), stray);
        }

        return true;
    }

    /// <summary>True when the parse is the <c>[suggest:N]</c> completion directive.</summary>
    public static bool IsSuggestion(ParseResult result) => result.Action?.GetType() == new SuggestDirective().Action?.GetType();

    /// <summary>Writes the completions of a <c>[suggest]</c> parse, one per line (what shell completion scripts read).</summary>
    public static int WriteSuggestions(ParseResult result, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
    }

    /// <summary>
    /// The checked options and positionals of a parse that ended on a runnable verb; throws the first usage error
    /// as a <see cref="CliError"/> naming the word at fault.
    /// </summary>
    public ParsedArgs ToParsedArgs(ParseResult result, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(args);
        CommandResult commandResult = result.CommandResult;
        Verb? verb = VerbOf(result);
        string path = PathOf(result);

        // System.CommandLine splits --flag=VALUE into two words; the value would be blamed as a stray argument.
        foreach (string arg in args.TakeWhile(a => a != "--"))
        {
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0 && verb?.Options.FirstOrDefault(o => o.Name == arg[..equals]) is { IsFlag: true } flag)
            {
                throw CliError.Usage(flag.Name, "is a flag and takes no value");
            }
        }

        if (result.UnmatchedTokens.Count > 0)
        {
            throw Unmatched(result, verb, path, result.UnmatchedTokens[0]);
        }

        var options = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (OptionResult optionResult in commandResult.Children.OfType<OptionResult>().Where(o => !o.Implicit))
        {
            if (!_options.TryGetValue(optionResult.Option, out OptionSpec? spec))
            {
                continue; // --help, handled before
            }

            if (optionResult.IdentifierTokenCount > 1)
            {
                throw CliError.Usage(spec.Name, "given more than once");
            }

            if (spec.IsFlag)
            {
                if (optionResult.Tokens.Count > 0)
                {
                    throw CliError.Usage(spec.Name, "is a flag and takes no value");
                }

                options[spec.Name] = null;
                continue;
            }

            // An option word is never taken as a value: "--atol --json" is a forgotten value, not atol = "--json".
            if (optionResult.Tokens.Count == 0 || optionResult.Tokens[0].Value.Length == 0
                || optionResult.Tokens[0].Value.StartsWith("--", StringComparison.Ordinal))
            {
                throw CliError.Usage(spec.Name, $"needs a value ({spec.ValueName})");
            }

            options[spec.Name] = optionResult.Tokens[0].Value;
        }

        if (verb is null || verb.Run is null && verb.Subverbs.Count > 0)
        {
            throw verb is null
                ? CliError.Usage(null, "missing verb (learn --help lists them)")
                : CliError.Usage(null, $"missing sub-verb: one of {string.Join(", ", verb.Subverbs.Select(v => v.Name))}");
        }

        OptionSpec? missing = verb.Options.FirstOrDefault(o => o.Required && !options.ContainsKey(o.Name));
        if (missing is not null)
        {
            throw CliError.Usage(missing.Name, "required option missing");
        }

        var arguments = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (Argument argument in commandResult.Command.Arguments)
        {
            ArgumentSpec spec = _arguments[argument];
            ArgumentResult? argumentResult = result.GetResult(argument);
            string[] values = argumentResult?.Tokens.Select(t => t.Value).ToArray() ?? [];
            if (values.Length == 0 && !spec.Optional && !spec.Variadic)
            {
                throw CliError.Usage(spec.Name, "missing argument");
            }

            if (values.Length > 0)
            {
                arguments[spec.Name] = values;
            }
            else if (spec.Variadic)
            {
                arguments[spec.Name] = [];
            }
        }

        // Anything System.CommandLine refused that the checks above did not name (none is known): its own words.
        if (result.Errors.Count > 0)
        {
            throw CliError.Usage(null, Cli.OneLine(result.Errors[0].Message));
        }

        return new ParsedArgs(options, arguments);
    }

    // A word nothing matched: an unknown verb or option (with System.CommandLine's typo corrections), an option of
    // the verb typed before it, or a positional too many.
    private static CliError Unmatched(ParseResult result, Verb? verb, string path, string token)
    {
        Command command = result.CommandResult.Command;
        bool isGroup = command.Subcommands.Count > 0;
        string suggestion = DidYouMean(result, token);
        if (token.StartsWith('-') && token.Length > 1 && !char.IsAsciiDigit(token[1]) && token[1] != '.')
        {
            if (command.Options.Any(o => o.Name == token) && result.Tokens.Count > 0 && result.Tokens[0].Value == token)
            {
                return CliError.Usage(token, "unknown option here; options go after the verb (learn --help)");
            }

            if (isGroup && verb?.Run is null)
            {
                string kind = verb is null ? "verb" : "sub-verb";
                return CliError.Usage(token, $"unknown option here; options go after the {kind} ({path} --help){suggestion}");
            }

            return CliError.Usage(token, $"unknown option ({path} --help lists the options){suggestion}");
        }

        if (isGroup && verb?.Run is null)
        {
            string kind = verb is null ? "verb" : "sub-verb";
            return CliError.Usage(token, $"unknown {kind} ({path} --help lists them){suggestion}");
        }

        return CliError.Usage(token, "unexpected argument");
    }

    /// <summary>
    /// "; did you mean conv2d?" from System.CommandLine's typo correction (Levenshtein distance over the names
    /// valid at that point), or "" when it has none. Its ParseErrorAction prints the corrections as lines; they
    /// are captured here and folded into the one-line error.
    /// </summary>
    private static string DidYouMean(ParseResult result, string token)
    {
        if (result.Action is not ParseErrorAction action)
        {
            return "";
        }

        action.ShowHelp = false;
        action.ShowTypoCorrections = true;
        using var output = new StringWriter();
        using var error = new StringWriter();
        result.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        var suggestions = new List<string>();
        bool inBlock = false;
        foreach (string line in output.ToString().Split('\n', StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith($"'{token}'", StringComparison.Ordinal))
            {
                inBlock = true;
            }
            else if (inBlock && line is "--help" or "-h")
            {
                // Help is not what a mistyped option meant.
            }
            else if (inBlock && line.Length > 0 && !line.StartsWith('\''))
            {
                suggestions.Add(line);
            }
            else
            {
                inBlock = false;
            }
        }

        return suggestions.Count == 0 ? "" : $"; did you mean {string.Join(" or ", suggestions)}?";
    }
}
