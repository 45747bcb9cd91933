using System.CommandLine;
using Learn.Cli.CommandLine;
using Learn.Cli.Commands;

namespace Learn.Cli;

/// <summary>
/// The <c>learn</c> command in process: finds the verb, parses its arguments, runs it, and turns every failure
/// into one line on stderr and an exit code (see <c>learn --help</c>). Never prints a stack trace.
/// </summary>
public static class Cli
{
    /// <summary>The verb table: one entry per verb, each defined in its own file under Commands/.</summary>
    /// <remarks>
    /// Adding a verb: write Commands/XCommand.cs with a static <see cref="Verb"/> (options, arguments, Run), list it
    /// here. Help, usage and argument checking follow from the specification. In Run, throw
    /// <see cref="CliError"/> for what the user can fix, map the library's expected exceptions to it, and let
    /// anything else through (it ends as "internal error", exit 70). Check outputs with
    /// <see cref="TensorFiles.CheckOutput"/> before doing work and write them atomically, last.
    /// </remarks>
    internal static IReadOnlyList<Verb> Verbs { get; } =
    [
        Conv2dCommand.Verb,
        Conv2dBackwardCommand.Verb,
        CompareCommand.Verb,
        VerifyCommand.Verb,
        OSNetCommand.Verb,
        CostCommand.Verb,
        DiffCommand.Verb,
        DiffOnnxCommand.Verb,
        ConvertCommand.Verb,
        BenchCommand.Verb,
        NotebooksCommand.Verb,
    ];

    /// <summary>Runs <c>learn</c> with <paramref name="args"/>, writing to the given streams; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(Verbs, args, stdout, stderr);

    /// <summary>Runs against a given verb table (tests use their own).</summary>
    internal static int Run(IReadOnlyList<Verb> verbs, string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(verbs);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        string commandPath = "learn";
        try
        {
            if (args.Length == 0)
            {
                throw CliError.Usage(null, "missing verb (learn --help lists them)");
            }

            if (args[0] == "--version")
            {
                stdout.WriteLine(Help.Version());
                return ExitCode.Ok;
            }

            var tree = new CommandTree(verbs);
            if (args[0] == "help")
            {
                return HelpVerb(tree, args[1..], stdout);
            }

            if (args[0] == "completion")
            {
                return Completion.Write(args[1..], stdout);
            }

            ParseResult result = tree.Parse(args);
            if (CommandTree.IsSuggestion(result))
            {
                return CommandTree.WriteSuggestions(result, stdout, stderr);
            }

            commandPath = tree.PathOf(result);
            Verb? verb = tree.VerbOf(result);
            if (tree.WantsHelp(result))
            {
                stdout.Write(verb is null ? Help.TopLevel(verbs) : Help.ForVerb(verb, commandPath));
                return ExitCode.Ok;
            }

            ParsedArgs parsed = tree.ToParsedArgs(result, args);
            Func<ParsedArgs, CliContext, int> run = verb?.Run
                ?? throw new InvalidOperationException($"verb '{commandPath}' has neither sub-verbs nor code to run");
            return run(parsed, new CliContext(stdout, stderr, commandPath));
        }
        catch (CliError e)
        {
            stderr.WriteLine(e.Subject is null ? $"{commandPath}: {OneLine(e.Problem)}" : $"learn: {OneLine(e.Subject)}: {OneLine(e.Problem)}");
            return e.ExitCode;
        }
        catch (InvalidDataException e)
        {
            // The readers name the file at the start of their messages ("W.npy: big-endian data ...").
            stderr.WriteLine($"learn: {OneLine(e.Message)}");
            return ExitCode.DataFailure;
        }
#pragma warning disable CA1031 // The last resort: a bug must still end as one line and exit 70, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            stderr.WriteLine($"learn: internal error: {e.GetType().Name}: {OneLine(e.Message)}");
            return ExitCode.InternalError;
        }
    }

    // learn help [VERB [SUB-VERB]]: the same text as learn VERB --help.
    private static int HelpVerb(CommandTree tree, string[] words, TextWriter stdout)
    {
        if (words.Length == 0)
        {
            stdout.Write(Help.TopLevel(tree.Verbs));
            return ExitCode.Ok;
        }

        ParseResult result = tree.Parse([.. words, "--help"]);
        if (result.UnmatchedTokens.Count > 0 || tree.VerbOf(result) is not { } verb)
        {
            // The same error as learn WORD would give, suggestion included.
            tree.ToParsedArgs(tree.Parse(words), words);
            throw CliError.Usage(words[0], "unknown verb (learn --help lists them)");
        }

        stdout.Write(Help.ForVerb(verb, tree.PathOf(result)));
        return ExitCode.Ok;
    }

    /// <summary>
    /// An exception message as one line: without ArgumentException's " (Parameter 'x')" suffix, newlines
    /// folded into "; ".
    /// </summary>
    internal static string OneLine(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        string message = e.Message;
        if (e is ArgumentException { ParamName: { } name })
        {
            message = message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal);
        }

        return OneLine(message);
    }

    /// <remarks>
    /// Every one-line error passes here, so this is where names from files (a tensor or global name holding an
    /// escape sequence) are made printable (<see cref="Learn.IO.Printable.Escape"/>).
    /// </remarks>
    internal static string OneLine(string message) =>
        string.Join("; ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Learn.IO.Printable.Escape));
}
