using System.Globalization;
using System.Text.Json;
using Learn.Cli.CommandLine;
using Learn.Cli.Onnx;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Verification;
using Microsoft.ML.OnnxRuntime;
using Tensor = Learn.Tensors.Tensor;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn diff-onnx</c>: a user's ONNX export of OSNet run by ONNX Runtime with every intermediate value exposed
/// as a graph output, each mapped to its module (<see cref="OnnxScopeMap"/>) and checked like a dump by
/// <see cref="PortCheck"/> against the reference run of the checkpoint it came from, at batch 1 and batch 2.
/// </summary>
internal static class DiffOnnxCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "diff-onnx",
        Summary = "run an ONNX export of OSNet with ONNX Runtime and name the layer where it leaves the checkpoint's reference; exit 1 if any does",
        Description =
            "MODEL.onnx is a torch.onnx export of OSNet (nodes named by module scope, e.g. /conv2/conv2.0/conv1/conv/Conv);\n" +
            "--weights is the checkpoint it was exported from. Every node's output is made a graph output, run by ONNX\n" +
            "Runtime and compared, under the name of its module, with the reference's activations, as learn diff does\n" +
            "(with error propagation, |a - e| <= 8*noise + 2u|e|; without, each layer recomputed from the export's own\n" +
            "inputs). A conv followed by a BatchNorm is compared at the fused boundary, under the BatchNorm's name,\n" +
            "where the export folded the pair (the conv's output is the pair's). A module the checkpoint runs with\n" +
            "no node in the export (a ReLU dropped) is listed as absent and fails the export. Per batch, the table\n" +
            "lists the compared layers, as learn diff's. Runs batch 1 (the first image of --input) and batch 2 (that\n" +
            "image and its mirror, or --input's batch if larger); an export that fails at batch 2 (a Reshape with the\n" +
            "batch size baked in) is reported. Prints the cosine similarity of the final embeddings. Nodes whose\n" +
            "scope names no module (or no scope at all, as before torch 1.13: not mapped by position), an export of\n" +
            "another variant, images of another size than the export's, or a file that is not ONNX: one line, exit 1.",
        Arguments = [new("MODEL.onnx", "the export under test")],
        Options =
        [
            new("--weights", "FILE", "the checkpoint the export came from", Required: true),
            OSNetWeights.VariantOption,
            new("--input", "X.npy", "images [N, 3, H, W] (or one [3, H, W]) at the size the export expects", Required: true),
            new("--json", null, "print the report as JSON (for CI) instead of the tables"),
            new("--html", "FILE", "also write an HTML page with the per-layer error chart of each batch"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        string onnxPath = args.Argument("MODEL.onnx")!;
        string weights = args.Required("--weights");
        string variant = OSNetWeights.Variant(args);
        string inputPath = args.Required("--input");
        string? html = args.Text("--html");
        if (html is not null)
        {
            TensorFiles.CheckOutput(html);
        }

        Tensor x = TensorFiles.Read(inputPath);
        if (x.Rank == 3)
        {
            x = x.Reshape(1, x.Size(0), x.Size(1), x.Size(2));
        }

        if (x.Rank != 4 || x.Size(1) != 3 || x.Size(0) == 0)
        {
            throw CliError.Failure(inputPath, $"shape {x.ShapeString}, expected images [N, 3, H, W]");
        }

        StateDict stateDict = OSNetWeights.Load(weights);
        OSNet model = OSNetWeights.Build(variant, stateDict);
        StateDictMatch match = model.LoadStateDict(stateDict, strict: false);
        if (!match.IsExact)
        {
            throw CliError.Failure(weights,
                $"not a checkpoint of {variant}: {match.Missing.Count} missing, {match.Unexpected.Count} unexpected, {match.Mismatched.Count} mis-shaped tensors (learn osnet --variant {variant} --weights {weights} lists them)");
        }

        string scratch = Path.Combine(Path.GetTempPath(), "learn-diff-onnx-" + Guid.NewGuid().ToString("N"));
        var runs = new List<OnnxBatchRun>();
        OnnxScopeMap map;
        IReadOnlyList<string> absent;
        try
        {
            using OnnxPortCheck check = OnnxPortCheck.Open(onnxPath, model, variant);
            check.CheckInput(x, inputPath);
            map = check.Map;
            absent = check.Absent;
            foreach (Tensor batch in OnnxPortCheck.Batches(x))
            {
                runs.Add(check.Run(batch, Path.Combine(scratch, "b" + batch.Size(0))));
            }
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        bool passed = absent.Count == 0 && runs.All(r => r.Report is { Passed: true } && r.Failure is null);
        if (html is not null)
        {
            var sections = runs.Select(r => new DiffReportHtml.Section($"batch {r.Batch}", r.Report, r.Failure)).ToList();
            DiffReportHtml.Write(html, "learn diff-onnx", [$"export: {onnxPath}", $"reference: {variant}, the checkpoint {weights}", Fused(map), .. AbsentLines(absent)], sections);
        }

        if (args.Has("--json"))
        {
            context.Out.Write(Json(onnxPath, variant, map, absent, runs, passed));
        }
        else
        {
            WriteText(context.Out, onnxPath, variant, map, absent, runs);
        }

        return passed ? ExitCode.Ok : ExitCode.DataFailure;
    }

    private static string Fused(OnnxScopeMap map) => map.Fused.Count == 0
        ? "fused:     none (every BatchNorm is a node of its own)"
        : $"fused:     {map.Fused.Count} BatchNorms folded into their conv, compared at the fused boundary (the conv's output as the BatchNorm's): {OnnxPortCheck.List(map.Fused)}";

    private static IEnumerable<string> AbsentLines(IReadOnlyList<string> absent) => absent.Count == 0
        ? []
        : [$"absent:    the export has no node for {absent.Count} module call{(absent.Count == 1 ? "" : "s")} the checkpoint runs (an op dropped): {OnnxPortCheck.List(absent)}; the first is {Printable.Escape(absent[0])}"];

    private static void WriteText(TextWriter o, string onnxPath, string variant, OnnxScopeMap map, IReadOnlyList<string> absent, List<OnnxBatchRun> runs)
    {
        o.WriteLine($"export:    {Printable.Escape(onnxPath)} (ONNX Runtime {OrtEnv.Instance().GetVersionString()}), {map.Values.Count} module outputs mapped by scope name");
        o.WriteLine($"reference: {variant}, the checkpoint's weights");
        o.WriteLine(Fused(map));
        foreach (string line in AbsentLines(absent))
        {
            o.WriteLine(line);
        }

        foreach (OnnxBatchRun run in runs)
        {
            if (run.Report is not PortReport report)
            {
                o.WriteLine($"batch {run.Batch}: FAILS: {run.Failure}");
                continue;
            }

            o.WriteLine($"batch {run.Batch}:");
            DiffCommand.WriteLayers(o, report);
            foreach (string line in DiffCommand.Verdicts(report))
            {
                o.WriteLine($"batch {run.Batch}: {line}");
            }

            o.WriteLine($"batch {run.Batch}: cosine similarity of the final embeddings: {string.Join(", ", run.Cosine.Select(c => c.ToString("0.000000000", CultureInfo.InvariantCulture)))}");
        }
    }

    private static string Json(string onnxPath, string variant, OnnxScopeMap map, IReadOnlyList<string> absent, List<OnnxBatchRun> runs, bool passed)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("export", onnxPath);
            w.WriteString("variant", variant);
            w.WriteBoolean("passed", passed);
            w.WriteNumber("mapped", map.Values.Count);
            w.WriteStartArray("fused_at_boundary");
            foreach (string f in map.Fused)
            {
                w.WriteStringValue(f);
            }

            w.WriteEndArray();
            w.WriteStartArray("absent");
            foreach (string a in absent)
            {
                w.WriteStringValue(a);
            }

            w.WriteEndArray();
            w.WriteStartArray("batches");
            foreach (OnnxBatchRun run in runs)
            {
                w.WriteStartObject();
                w.WriteNumber("batch", run.Batch);
                w.WriteString("failure", run.Failure);
                if (run.Report is PortReport r)
                {
                    w.WriteNumber("compared", r.Layers.Count);
                    w.WriteString("first_diverging", r.FirstPropagated?.Key);
                    w.WriteString("first_introduced", r.FirstIsolated?.Key);
                }

                w.WriteStartArray("cosine");
                foreach (double c in run.Cosine)
                {
                    w.WriteNumberValue(c);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
