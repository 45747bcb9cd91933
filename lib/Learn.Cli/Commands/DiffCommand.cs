using System.Globalization;
using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Models;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn diff</c>: a port's activation dump against the reference's, layer by layer in the order PyTorch runs
/// them, with error propagation (against the reference run end to end) and, given the checkpoint, without it
/// (each layer recomputed from the port's own inputs), under the per-layer rule of <see cref="PortTolerance"/>.
/// </summary>
internal static class DiffCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "diff",
        Summary = "compare a port's activation dump with the reference's and name the layer that goes wrong; exit 1 if any does",
        Description =
            "PORT_DIR holds <layer>.npy files from your port, named by PyTorch's module names (conv1.conv,\n" +
            "conv2.0.conv2b.1.conv2, conv2.0.gate@2 ...; input for the image); any subset of the layers. REF_DIR is\n" +
            "a dump by learn osnet --activations, whose activations.json gives each layer's shape and float32 noise.\n" +
            "With error propagation: each layer against the reference run end to end, |a - e| <= 8*noise + 2u|e|\n" +
            "(u = 2^-24; noise: the reference re-run with simulated float32 rounding, recorded per layer).\n" +
            "Without (--weights and --variant): the reference recomputes each layer from the port's own dumped inputs\n" +
            "and allows that layer's own rounding only, 8u((sqrt(K) + s)*M + |y|), M = sum |x||w| per output; so the\n" +
            "layer that introduces an error is named even where earlier rounding piled up. The table lists the\n" +
            "compared layers; the worst element is the one with the largest error/tolerance. A port file the\n" +
            "reference lacks, a shape that differs, NaN or infinity: one line, exit 1.",
        Arguments =
        [
            new("PORT_DIR", "the dump under test"),
            new("REF_DIR", "the reference dump (learn osnet --activations)"),
        ],
        Options =
        [
            new("--weights", "FILE", "the checkpoint both ran: adds the isolated check (needs --variant)"),
            new("--variant", "NAME", string.Join("|", OSNet.VariantNames) + " (with --weights)"),
            new("--atol", "X", "with error propagation: this absolute tolerance for every layer (e.g. a float16 port)", Default: "the rule per layer"),
            new("--rtol", "X", "with error propagation: this tolerance relative to |e| for every layer", Default: "the rule per layer"),
            new("--json", null, "print the report as JSON (for CI) instead of the table"),
            new("--html", "FILE", "also write an HTML page with the per-layer error chart"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        string port = args.Argument("PORT_DIR")!, reference = args.Argument("REF_DIR")!;
        string? weights = args.Text("--weights");
        if (weights is not null != args.Has("--variant"))
        {
            throw CliError.Usage(weights is null ? "--variant" : "--weights", "--weights and --variant go together (the isolated check needs the model)");
        }

        string? html = args.Text("--html");
        if (html is not null)
        {
            TensorFiles.CheckOutput(html);
        }

        foreach (string folder in new[] { port, reference })
        {
            if (!Directory.Exists(folder))
            {
                throw CliError.Failure(folder, File.Exists(folder) ? "is a file, expected an activation folder" : "no such folder");
            }
        }

        OSNet? model = null;
        if (weights is not null)
        {
            string variant = OSNetWeights.Variant(args);
            StateDict stateDict = OSNetWeights.Load(weights);
            model = OSNetWeights.Build(variant, stateDict);
            StateDictMatch match = model.LoadStateDict(stateDict, strict: false);
            if (!match.IsExact)
            {
                throw CliError.Failure(weights,
                    $"not a checkpoint of {variant}: {match.Missing.Count} missing, {match.Unexpected.Count} unexpected, {match.Mismatched.Count} mis-shaped tensors (learn osnet --variant {variant} --weights {weights} lists them)");
            }
        }

        Tolerance? fixedTolerance = args.Has("--atol") || args.Has("--rtol")
            ? new Tolerance(args.Value("--atol", ParsedArgs.Convert.NonNegative, 0), args.Value("--rtol", ParsedArgs.Convert.NonNegative, 0))
            : null;
        PortReport report = PortCheck.Run(port, reference, model, fixedTolerance); // InvalidDataException naming the file: exit 1
        if (html is not null)
        {
            DiffReportHtml.Write(html, port, reference, report);
        }

        if (args.Has("--json"))
        {
            context.Out.Write(DiffReportJson.Of(port, reference, report));
        }
        else
        {
            WriteText(context.Out, port, reference, report);
        }

        return report.Passed ? ExitCode.Ok : ExitCode.DataFailure;
    }

    private static void WriteText(TextWriter o, string port, string reference, PortReport report)
    {
        o.WriteLine($"port:      {port}");
        o.WriteLine($"reference: {reference}");
        o.WriteLine($"order:     {report.Order}");
        o.WriteLine(report.FixedTolerance is Tolerance t
            ? $"with error propagation:    |a - e| <= {Number(t.Atol)} + {Number(t.Rtol)}*|e| for every layer (--atol/--rtol)"
            : report.HasNoise
            ? "with error propagation:    |a - e| <= 8*noise + 2u|e| per layer (noise recorded by the reference), u = 2^-24"
            : "with error propagation:    |a - e| <= 4u*K*(1 + |e|) per layer (the reference recorded no noise: dump it again for the per-layer rule)");
        o.WriteLine(report.Isolated
            ? "without error propagation: each layer from the port's own inputs, |a - y| <= 8u((sqrt(K) + s)*M + |y|), M = sum |x||w|"
            : "without error propagation: not checked (give --weights and --variant)");

        WriteLayers(o, report);
        foreach (string line in Verdicts(report))
        {
            o.WriteLine(line);
        }
    }

    /// <summary>The verdict lines: the first layer diverging with error propagation, and without it (when checked).</summary>
    internal static IEnumerable<string> Verdicts(PortReport report)
    {
        yield return report.FirstPropagated is PortLayer p
            ? $"with error propagation: {report.Layers.Count(l => l.Propagated is { Close: false })} of {report.Layers.Count} layers diverge; the first is {Printable.Escape(p.Key)}: {Detail(p.Propagated!)}"
            : $"with error propagation: all {report.Layers.Count(l => l.Propagated is not null)} compared layers are within tolerance";
        if (report.Isolated)
        {
            yield return report.FirstIsolated is PortLayer i
                ? $"without error propagation: the error is introduced at {Printable.Escape(i.Key)} ({i.IsolatedHow}): {Detail(i.Isolated!)}"
                : $"without error propagation: all {report.Layers.Count(l => l.Isolated is not null)} layers checked in isolation are within tolerance";
        }
    }

    /// <summary>The table of compared layers, then the layers not compared and those not checked in isolation, one line each.</summary>
    internal static void WriteLayers(TextWriter o, PortReport report)
    {
        var rows = new List<string[]>();
        foreach (PortLayer layer in report.Layers)
        {
            string result = layer.Propagated is { Close: false } ? "DIVERGES" : "ok";
            if (layer.Isolated is { Close: false })
            {
                result = "INTRODUCES ERROR";
            }

            rows.Add([
                Printable.Escape(layer.Key), // layer names come from the dumps' files
                Shape(layer.Shape),
                layer.Propagated is null ? "-" : Number(layer.Propagated.MaxAbsError),
                layer.Propagated is null ? "-" : Ratio(layer.Propagated.WorstRatio),
                layer.Isolated is null ? "-" : Ratio(layer.Isolated.WorstRatio),
                result,
            ]);
        }

        WriteTable(o, ["layer", "shape", "max abs err", "err/tol", "isolated err/tol", "result"], rows);
        if (report.Missing.Count > 0)
        {
            o.WriteLine($"not in the port's dump, not compared: {report.Missing.Count} layers ({Printable.Escape(report.Missing[0])} ... {Printable.Escape(report.Missing[^1])})");
        }

        int notIsolated = report.Layers.Count(l => l.Isolated is null && l.Key != OSNetGraph.InputKey);
        if (report.Isolated && notIsolated > 0)
        {
            PortLayer example = report.Layers.First(l => l.Isolated is null && l.Key != OSNetGraph.InputKey);
            o.WriteLine($"not checked in isolation: {notIsolated} layers (e.g. {Printable.Escape(example.Key)}: {example.IsolatedHow})");
        }
    }

    internal static string Detail(LayerVerdict v) =>
        $"{v.Outside} of {Count(v.Shape)} outside; worst at {v.WorstAt}: port = {Value(v.Port)}, expected = {Value(v.Expected)}, " +
        $"error {Number(v.MaxAbsError)} max, {Ratio(v.WorstRatio)} x the tolerance {Number(v.ToleranceAtWorst)} there";

    private static long Count(IReadOnlyList<int> shape) => shape.Aggregate(1L, (p, d) => p * d);

    private static void WriteTable(TextWriter o, string[] header, List<string[]> rows)
    {
        var width = new int[header.Length];
        foreach (string[] row in rows.Prepend(header))
        {
            for (int i = 0; i < row.Length; i++)
            {
                width[i] = Math.Max(width[i], row[i].Length);
            }
        }

        foreach (string[] row in rows.Prepend(header))
        {
            var cells = new string[row.Length];
            for (int i = 0; i < row.Length; i++)
            {
                bool numeric = i is 2 or 3 or 4;
                cells[i] = i == row.Length - 1 ? row[i] : numeric ? row[i].PadLeft(width[i]) : row[i].PadRight(width[i]);
            }

            o.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    internal static string Shape(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    internal static string Number(double value) => value.ToString("0.00e+00", CultureInfo.InvariantCulture);

    internal static string Ratio(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : value.ToString(value >= 100 ? "0" : value >= 0.01 ? "0.00" : "0.0e+0", CultureInfo.InvariantCulture);

    // G9 round-trips float32, so the printed values are the stored ones.
    internal static string Value(float value) => value.ToString("G9", CultureInfo.InvariantCulture);
}
