namespace Learn.Cli.CommandLine;

/// <summary>
/// An expected failure that becomes one line on stderr, <c>learn: SUBJECT: PROBLEM</c> (or
/// <c>learn VERB: PROBLEM</c> when no file or argument is to blame), and an exit code.
/// </summary>
internal sealed class CliError : Exception
{
    private CliError(string? subject, string problem, int exitCode)
        : base(subject is null ? problem : $"{subject}: {problem}")
    {
        Subject = subject;
        Problem = problem;
        ExitCode = exitCode;
    }

    /// <summary>The file or argument at fault, e.g. <c>--stride</c> or <c>W.npy</c>; null for the verb itself.</summary>
    public string? Subject { get; }

    /// <summary>What is wrong, one line.</summary>
    public string Problem { get; }

    /// <summary>The process exit code (<see cref="CommandLine.ExitCode"/>).</summary>
    public int ExitCode { get; }

    /// <summary>A usage error (exit 2) blamed on <paramref name="subject"/>.</summary>
    public static CliError Usage(string? subject, string problem) => new(subject, problem, CommandLine.ExitCode.Usage);

    /// <summary>A data failure (exit 1) blamed on <paramref name="subject"/>, or on the verb when null.</summary>
    public static CliError Failure(string? subject, string problem) => new(subject, problem, CommandLine.ExitCode.DataFailure);
}
