using Learn.Cli.CommandLine;
using Learn.Notebooks;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn notebooks run|check|export|clear</c>. The options are declared here, so the lessons get the same parser,
/// help and errors as every verb; each then calls the lesson runner's entry point
/// (<see cref="NotebookCommand.Run"/>) with an argument list rebuilt from the parsed options.
/// </summary>
internal static class NotebooksCommand
{
    private static readonly ArgumentSpec Paths =
        new("PATHS", "notebooks or folders of them (default: the repository's notebooks/)", Variadic: true);

    public static Verb Verb { get; } = new()
    {
        Name = "notebooks",
        Summary = "run, check, export or clear the lessons (C# notebooks in notebooks/)",
        Subverbs =
        [
            new Verb
            {
                Name = "run",
                Summary = "execute the lessons; write the executed copies and their HTML pages",
                Description =
                    "A notebook stops at its first failing cell; the command names notebook, cell and line and exits 1.\n" +
                    "The executed copy keeps the outputs up to the failing cell. The source notebook is rewritten only\n" +
                    "with --inplace, after a complete run (learn notebooks clear removes those outputs again).\n" +
                    "Example: learn notebooks run notebooks/00-sample.ipynb --out lessons",
                Arguments = [Paths],
                Options =
                [
                    new("--out", "DIR", "where the executed notebooks and pages go", Default: "docs/lessons"),
                    new("--inplace", null, "also write the outputs into the source notebooks, after a complete run"),
                    new("--timeout", "SECONDS", "time limit per cell", Default: NotebookCommand.DefaultTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                ],
                Run = (args, context) => Runner(args, context, ["run"], ["--out", "--timeout"], ["--inplace"]),
            },
            new Verb
            {
                Name = "check",
                Summary = "nbformat 4.5 schema, Polyglot metadata, no stored outputs, directives the runner accepts",
                Description = "Exit 1 when any notebook has a problem; each problem is one line on stderr.\n" +
                    "Example: learn notebooks check notebooks/00-sample.ipynb",
                Arguments = [Paths],
                Run = (args, context) => Runner(args, context, ["check"], [], []),
            },
            new Verb
            {
                Name = "export",
                Summary = "a notebook as a .NET 10 file-based app (dotnet run FILE.cs)",
                Description = "Example: learn notebooks export notebooks/00-sample.ipynb --to cs --out sample.cs",
                Arguments = [new("NOTEBOOK", "the .ipynb to export")],
                Options =
                [
                    new("--to", "cs", "the format: cs, a C# file-based app", Required: true),
                    new("--out", "FILE", "where to write it", Default: "NOTEBOOK with the extension .cs"),
                ],
                Run = (args, context) => Runner(args, context, ["export", Positional(args.Argument("NOTEBOOK")!)], ["--to", "--out"], []),
            },
            new Verb
            {
                Name = "clear",
                Summary = "remove stored outputs and execution counts (what check refuses), in place",
                Description = "Rewrites only the notebooks that had outputs, atomically; the rest of each file is kept.\n" +
                    "Example: learn notebooks clear notebooks/00-sample.ipynb",
                Arguments = [Paths],
                Run = (args, context) => Runner(args, context, ["clear"], [], []),
            },
        ],
    };

    // The runner's entry point parses these words itself; it gets exactly what the specs above accepted.
    // Its usage errors (a missing path, say) are two lines, message and synopsis: only the message is passed on,
    // as "learn: ..." like every usage error here.
    private static int Runner(ParsedArgs args, CliContext context, string[] head, string[] valueOptions, string[] flags)
    {
        var argv = new List<string>(head);
        if (head[0] != "export")
        {
            argv.AddRange(args.Arguments("PATHS").Select(Positional));
        }

        foreach (string option in valueOptions)
        {
            if (args.Text(option) is { } value)
            {
                argv.Add(option);
                argv.Add(value);
            }
        }

        argv.AddRange(flags.Where(args.Has));
        using var stderr = new StringWriter();
        int code = NotebookCommand.Run([.. argv], context.Out, stderr);
        string errors = stderr.ToString();
        if (code == ExitCode.Usage)
        {
            string first = errors.Split('\n', 2)[0].Trim();
            const string Prefix = "learn notebooks: ";
            throw CliError.Usage(null, first.StartsWith(Prefix, StringComparison.Ordinal) ? first[Prefix.Length..] : first);
        }

        context.Error.Write(errors);
        return code;
    }

    // The runner would take "-x" for an unknown option; after "--" it is a file name.
    private static string Positional(string path) => path.StartsWith('-') ? "./" + path : path;
}
