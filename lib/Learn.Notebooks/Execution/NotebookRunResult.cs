using Learn.Notebooks.Format;

namespace Learn.Notebooks.Execution;

/// <summary>The result of executing one notebook.</summary>
/// <param name="Path">The notebook file.</param>
/// <param name="Executed">The executed copy: outputs up to and including the failing cell, which is marked.</param>
/// <param name="Succeeded">True if every code cell ran without error.</param>
/// <param name="FailedCell">The 1-based number of the failing cell, or 0.</param>
/// <param name="FailedLine">The 1-based line in that cell, or 0 if unknown.</param>
/// <param name="Message">A one-line description of the failure, or null.</param>
/// <param name="TimedOut">True if the failing cell ran past the timeout and was stopped.</param>
public sealed record NotebookRunResult(string Path, Notebook Executed, bool Succeeded, int FailedCell, int FailedLine, string? Message, bool TimedOut)
{
    /// <summary>"path: cell N, line L: message", the line the summary prints for a failure.</summary>
    public string Describe() => Succeeded
        ? $"{Path}: ok"
        : $"{Path}: cell {FailedCell}{(FailedLine > 0 ? $", line {FailedLine}" : "")}: {Message}";
}
