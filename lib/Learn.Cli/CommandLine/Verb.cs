namespace Learn.Cli.CommandLine;

/// <summary>
/// One verb of the <c>learn</c> command: its options and arguments (from which the parser, the usage line and
/// --help are derived) and the code that runs it. A verb either runs or groups sub-verbs
/// (<c>learn notebooks run</c>). Each verb lives in its own file under Commands/ and is listed once in
/// <see cref="Cli.Verbs"/>.
/// </summary>
internal sealed class Verb
{
    /// <summary>The word typed after <c>learn</c>, e.g. <c>conv2d</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One line for the verb list.</summary>
    public required string Summary { get; init; }

    /// <summary>Paragraphs shown by <c>learn VERB --help</c> after the usage line (optional).</summary>
    public string? Description { get; init; }

    /// <summary>The options, in the order help lists them.</summary>
    public IReadOnlyList<OptionSpec> Options { get; init; } = [];

    /// <summary>The positional arguments, in order.</summary>
    public IReadOnlyList<ArgumentSpec> Arguments { get; init; } = [];

    /// <summary>Sub-verbs, for a verb that only groups others; then <see cref="Run"/> is null.</summary>
    public IReadOnlyList<Verb> Subverbs { get; init; } = [];

    /// <summary>Runs the verb on parsed arguments and returns the exit code; throws <see cref="CliError"/> for expected failures.</summary>
    public Func<ParsedArgs, CliContext, int>? Run { get; init; }
}

/// <summary>Where a running verb writes, and its full name for messages (e.g. <c>learn conv2d</c>).</summary>
internal sealed record CliContext(TextWriter Out, TextWriter Error, string CommandPath);
