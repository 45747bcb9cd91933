using System.Text.Json;
using Learn.Cli.CommandLine;
using Learn.Ops;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary><c>learn verify</c>: the committed operator fixtures through the library, as a table.</summary>
internal static class VerifyCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "verify",
        Summary = "run the committed PyTorch operator fixtures through the library and print a table; exit 1 if any fails",
        Description =
            "Each case's output is compared with PyTorch's under the project's one tolerance rule,\n" +
            "|a - e| <= atol + rtol*|e| with atol = rtol = 4 * 2^-24 * K (K: the reduction length behind the value).\n" +
            "It covers the operator cases of reference-weights/manifest.json (conv2d, pooling, batch norm ...).\n" +
            "Not covered: the OSNet stage fixtures in reference-weights/osnet. Their weights are not stored but\n" +
            "generated (see export_osnet.py), and the generator's C# twin lives in the test suite, which checks them:\n" +
            "dotnet test tests/Learn.Tests -c Release --filter FullyQualifiedName~OSNetGoldenTests\n" +
            "Regenerate the fixtures with the scripts in reference-weights/ (see its README).",
        Options =
        [
            new("--fixtures", "DIR", "the fixture folder", Default: "the committed reference-weights folder"),
            new("--impl", "naive|fast", "implementation: the reference loops or the fast path", Default: "naive"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        Implementation impl = args.Value("--impl", ParsedArgs.Convert.Choice(
            ("naive", Implementation.Naive), ("fast", Implementation.Fast)), Implementation.Naive);
        string? folder = args.Text("--fixtures");
        if (folder is null)
        {
            folder = FixtureSuite.FindDefaultDirectory()
                ?? throw CliError.Usage("--fixtures", "no reference-weights folder found; pass --fixtures DIR");
        }
        else if (!Directory.Exists(folder))
        {
            throw CliError.Failure(folder, "no such folder");
        }

        FixtureSuite suite;
        try
        {
            suite = FixtureSuite.Load(folder); // InvalidDataException naming the file for anything malformed
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw CliError.Failure(folder, $"cannot load the fixtures: {Cli.OneLine(e)}");
        }

        var cases = suite.Cases.Select(c => new VerifyCase(c.Name, c.Op, c.ReductionLength, c.Run)).ToList();
        return ProgressDisplay.Run(context, "verify", cases.Count,
            progress => VerifyReport.Write(context.Out, folder, suite.TorchVersion, cases, impl, progress));
    }
}
