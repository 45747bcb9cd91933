using System.Text.Json;
using Learn.Cli.CommandLine;
using Learn.Ops;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary><c>learn verify</c>: the committed operator and OSNet stage fixtures through the library, as one table.</summary>
internal static class VerifyCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "verify",
        Summary = "run every committed PyTorch fixture (operators and OSNet stages) through the library and print a table; exit 1 if any fails",
        Description =
            "Each case's output is compared with PyTorch's under the project's one tolerance rule,\n" +
            "|a - e| <= atol + rtol*|e| with atol = rtol = 4 * 2^-24 * K (K: the reduction length behind the value).\n" +
            "It covers every fixture under the folder: the operator cases of manifest.json (conv2d, pooling,\n" +
            "batch norm ...) and, when the folder has osnet/manifest.json, every OSNet variant stage by stage\n" +
            "(conv1 ... fc, then the feature and the logits; K along the longest path, from the model's trace),\n" +
            "with the weights rebuilt by the generator of export_osnet.py (Learn.Verification.OSNetFixtureWeights).\n" +
            "The OSNet variants run on the reference loops, one forward pass each, one variant per core: about\n" +
            "two minutes of CPU in all, shared out over the cores; the operators take under a second.\n" +
            "Not covered: the gradient fixtures of gradients/ (dotnet test --filter FullyQualifiedName~GradientGolden).\n" +
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
        string coverage = $"{cases.Count} operator cases ({FixtureSuite.ManifestFileName})";
        if (OSNetFixtureSuite.FindIn(folder) is { } osnetFolder)
        {
            OSNetFixtureSuite osnet;
            try
            {
                osnet = OSNetFixtureSuite.Load(osnetFolder); // InvalidDataException naming the file for anything malformed
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliError.Failure(osnetFolder, $"cannot load the OSNet fixtures: {Cli.OneLine(e)}");
            }

            cases.AddRange(osnet.Cases.Select(c => new VerifyCase(c.Name, "osnet", c.ReductionLength, c.Run, c.Variant)));
            coverage += $", {osnet.Cases.Count} OSNet stage cases ({OSNetFixtureSuite.FolderName}/{FixtureSuite.ManifestFileName}: " +
                $"{string.Join(", ", osnet.Variants)})";
        }
        else
        {
            coverage += $"; no {OSNetFixtureSuite.FolderName}/{FixtureSuite.ManifestFileName}, so no OSNet stage cases";
        }

        return ProgressDisplay.Run(context, "verify", cases.Count,
            progress => VerifyReport.Write(context.Out, folder, suite.TorchVersion, cases, impl, progress, coverage));
    }
}
