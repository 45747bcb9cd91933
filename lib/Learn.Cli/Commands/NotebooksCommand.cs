using Learn.Cli.CommandLine;
using Learn.Notebooks;

namespace Learn.Cli.Commands;

/// <summary><c>learn notebooks run|check|export</c>: the lesson runner, which parses its own arguments.</summary>
internal static class NotebooksCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "notebooks",
        Summary = "run, check or export the lessons (learn notebooks --help)",
        RunUnparsed = (args, context) => NotebookCommand.Run(args, context.Out, context.Error),
    };
}
