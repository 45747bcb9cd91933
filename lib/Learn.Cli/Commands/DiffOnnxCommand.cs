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
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
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
            "inputs). A BatchNorm folded into its conv by the export is compared at the fused boundary: the conv's\n" +
            "output is the BatchNorm's. Runs batch 1 (the first image of --input) and batch 2 (that image and its\n" +
            "mirror, or --input's batch if larger); an export that fails at batch 2 (a Reshape with the batch size\n" +
            "baked in) is reported. Prints the cosine similarity of the final embeddings. Nodes whose scope names\n" +
            "no module, an export of another variant, or a file that is not ONNX: one line, exit 1.",
        Arguments = [new("MODEL.onnx", "the export under test")],
        Options =
        [
            new("--weights", "FILE", "the checkpoint the export came from", Required: true),
            OSNetWeights.VariantOption,
            new("--input", "X.npy", "images [N, 3, H, W] (or one [3, H, W]) at the size the export expects", Required: true),
            new("--json", null, "print the report as JSON (for CI) instead of text"),
        ],
        Run = Run,
    };

    /// <summary>One batch size's run: the report, or why it could not run.</summary>
    internal sealed record BatchRun(int Batch, PortReport? Report, string? Failure, double[] Cosine);

    private static int Run(ParsedArgs args, CliContext context)
    {
        string onnxPath = args.Argument("MODEL.onnx")!;
        string weights = args.Required("--weights");
        string variant = OSNetWeights.Variant(args);
        if (!File.Exists(onnxPath))
        {
            throw CliError.Failure(onnxPath, Directory.Exists(onnxPath) ? "is a folder, expected an .onnx file" : "no such file");
        }

        Tensor x = TensorFiles.Read(args.Required("--input"));
        if (x.Rank == 3)
        {
            x = x.Reshape(1, x.Size(0), x.Size(1), x.Size(2));
        }

        if (x.Rank != 4 || x.Size(1) != 3 || x.Size(0) == 0)
        {
            throw CliError.Failure(args.Required("--input"), $"shape {x.ShapeString}, expected images [N, 3, H, W]");
        }

        StateDict stateDict = OSNetWeights.Load(weights);
        OSNet model = OSNetWeights.Build(variant, stateDict);
        StateDictMatch match = model.LoadStateDict(stateDict, strict: false);
        if (!match.IsExact)
        {
            throw CliError.Failure(weights,
                $"not a checkpoint of {variant}: {match.Missing.Count} missing, {match.Unexpected.Count} unexpected, {match.Mismatched.Count} mis-shaped tensors (learn osnet --variant {variant} --weights {weights} lists them)");
        }

        OnnxModelFile file;
        try
        {
            file = OnnxModelFile.Parse(File.ReadAllBytes(onnxPath));
        }
        catch (InvalidDataException e)
        {
            throw CliError.Failure(onnxPath, e.Message);
        }

        if (file.Inputs.Count != 1 || file.Outputs.Count != 1)
        {
            throw CliError.Failure(onnxPath, $"not an OSNet export: {file.Inputs.Count} inputs and {file.Outputs.Count} outputs, OSNet has one of each");
        }

        OnnxScopeMap map = OnnxScopeMap.Of(file, model);
        if (map.Values.Count == 0)
        {
            throw CliError.Failure(onnxPath, $"not an OSNet export of {variant}: no node's scope names one of its modules (first nodes: {string.Join(", ", file.Nodes.Take(3).Select(n => Printable.Escape(n.Name)))})");
        }

        if (map.Gaps.Count > 0)
        {
            throw CliError.Failure(onnxPath, $"{map.Gaps.Count} node{(map.Gaps.Count == 1 ? "" : "s")} whose scope names no module of {variant}, not mapped: {List(map.Gaps)}");
        }

        byte[] exposed = file.WithOutputs(map.Values.Values.Distinct().Where(v => !file.Outputs.Contains(v)));
        string scratch = Path.Combine(Path.GetTempPath(), "learn-diff-onnx-" + Guid.NewGuid().ToString("N"));
        var runs = new List<BatchRun>();
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            // The model is given as bytes (edited), so external data (weights beside the .onnx) is found from here.
            options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(Path.GetFullPath(onnxPath))!);
            InferenceSession session;
            try
            {
                session = new InferenceSession(exposed, options);
            }
            catch (OnnxRuntimeException e)
            {
                throw CliError.Failure(onnxPath, "ONNX Runtime cannot load it: " + OneLine(e.Message));
            }

            using (session)
            {
                Tensor first = Slice(x, 1);
                Tensor second = x.Size(0) > 1 ? x : Concat(first, Mirror(first));
                foreach (Tensor batch in new[] { first, second })
                {
                    runs.Add(RunBatch(session, file, map, model, batch, Path.Combine(scratch, "b" + batch.Size(0)), onnxPath));
                }
            }
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }

        bool passed = runs.All(r => r.Report is { Passed: true } && r.Failure is null);
        if (args.Has("--json"))
        {
            context.Out.Write(Json(onnxPath, variant, map, runs, passed));
        }
        else
        {
            WriteText(context.Out, onnxPath, variant, map, runs);
        }

        return passed ? ExitCode.Ok : ExitCode.DataFailure;
    }

    private static BatchRun RunBatch(InferenceSession session, OnnxModelFile file, OnnxScopeMap map, OSNet model, Tensor x, string folder, string onnxPath)
    {
        int n = x.Size(0);
        string refDir = Path.Combine(folder, "reference"), portDir = Path.Combine(folder, "export");
        Directory.CreateDirectory(refDir);
        Directory.CreateDirectory(portDir);
        Tensor expected = PortReference.Dump(model, x, new ActivationDirectory(refDir));
        var index = ActivationDirectory.ReadIndex(refDir)!.ToDictionary(e => e.Key, StringComparer.Ordinal);
        string[] strangers = map.Values.Keys.Where(k => !index.ContainsKey(k)).ToArray();
        if (strangers.Length > 0)
        {
            throw CliError.Failure(onnxPath, $"{strangers.Length} scopes name no module call the reference makes, not mapped: {List(strangers)}");
        }

        Dictionary<string, Tensor> values;
        try
        {
            var feed = new[] { NamedOnnxValue.CreateFromTensor(file.Inputs[0], new DenseTensor(x.Data.ToArray(), x.Shape)) };
            string[] wanted = map.Values.Values.Append(file.Outputs[0]).Distinct().ToArray();
            using var results = session.Run(feed, wanted);
            values = results.ToDictionary(r => r.Name, r => ToTensor(r.AsTensor<float>()), StringComparer.Ordinal);
        }
        catch (OnnxRuntimeException e)
        {
            string baked = BakedReshapes(file);
            return new BatchRun(n, null, $"ONNX Runtime fails at batch {n}: {OneLine(e.Message)}{baked}", []);
        }

        Tensor output = values[file.Outputs[0]];
        if (output.Rank != 2 || output.Size(0) != n)
        {
            return new BatchRun(n, null, $"at batch {n} the export's output is {output.ShapeString}, expected [{n}, {expected.Size(1)}]{BakedReshapes(file)}", []);
        }

        foreach (var (key, value) in map.Values)
        {
            Tensor t = values[value];
            if (!t.Shape.SequenceEqual(index[key].Shape))
            {
                throw CliError.Failure(onnxPath, $"node output {Printable.Escape(value)} ({key}) is {t.ShapeString}, the checkpoint's {key} is {Tensor.Format(index[key].Shape.ToArray())} (an export of another variant, or another input size?)");
            }

            Npy.Write(Path.Combine(portDir, key + ".npy"), t);
        }

        PortReport report = PortCheck.Run(portDir, refDir, model);
        double[] cosine = new double[n];
        int d = expected.Length / n;
        for (int i = 0; i < n; i++)
        {
            double dot = 0, aa = 0, bb = 0;
            for (int j = i * d; j < (i + 1) * d; j++)
            {
                dot += (double)output.Data[j] * expected.Data[j];
                aa += (double)output.Data[j] * output.Data[j];
                bb += (double)expected.Data[j] * expected.Data[j];
            }

            cosine[i] = dot / Math.Sqrt(aa * bb);
        }

        return new BatchRun(n, report, null, cosine);
    }

    // Reshape nodes whose target shape is a constant of the file: where a batch size gets baked in.
    private static string BakedReshapes(OnnxModelFile file)
    {
        var constants = new HashSet<string>(file.Initializers, StringComparer.Ordinal);
        constants.UnionWith(file.Nodes.Where(n => n.OpType == "Constant").SelectMany(n => n.Outputs));
        string[] reshapes = file.Nodes.Where(n => n.OpType == "Reshape" && n.Inputs.Count > 1 && constants.Contains(n.Inputs[1])).Select(n => Printable.Escape(n.Name)).ToArray();
        return reshapes.Length == 0 ? "" : $" (a Reshape with a constant shape, where the batch size is baked in: {string.Join(", ", reshapes)}; export with flatten(1) or view(x.size(0), -1))";
    }

    private static Tensor ToTensor(Microsoft.ML.OnnxRuntime.Tensors.Tensor<float> t) =>
        new(t.Dimensions.ToArray(), t.ToArray());

    private static Tensor Slice(Tensor x, int n)
    {
        int per = x.Length / x.Size(0);
        return new Tensor([n, x.Size(1), x.Size(2), x.Size(3)], x.Data.AsSpan(0, n * per).ToArray());
    }

    // The image flipped left-right: a second, different image of the same size.
    private static Tensor Mirror(Tensor x)
    {
        var data = new float[x.Length];
        int w = x.Size(3);
        for (int i = 0; i < data.Length; i++)
        {
            int col = i % w;
            data[i] = x.Data[i - col + (w - 1 - col)];
        }

        return new Tensor(x.Shape, data);
    }

    private static Tensor Concat(Tensor a, Tensor b)
    {
        int[] shape = a.Shape;
        shape[0] = a.Size(0) + b.Size(0);
        return new Tensor(shape, [.. a.Data, .. b.Data]);
    }

    private static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(8).Select(Printable.Escape)) + (names.Count > 8 ? $" and {names.Count - 8} more" : "");

    private static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static void WriteText(TextWriter o, string onnxPath, string variant, OnnxScopeMap map, List<BatchRun> runs)
    {
        o.WriteLine($"export:    {Printable.Escape(onnxPath)} (ONNX Runtime {OrtEnv.Instance().GetVersionString()}), {map.Values.Count} module outputs mapped by scope name");
        o.WriteLine($"reference: {variant}, the checkpoint's weights");
        o.WriteLine(map.Fused.Count == 0
            ? "fused:     none (every BatchNorm is a node of its own)"
            : $"fused:     {map.Fused.Count} BatchNorms folded into their conv, compared at the fused boundary (the conv's output as the BatchNorm's): {List(map.Fused)}");
        foreach (BatchRun run in runs)
        {
            if (run.Report is not PortReport report)
            {
                o.WriteLine($"batch {run.Batch}: FAILS: {run.Failure}");
                continue;
            }

            int compared = report.Layers.Count;
            o.WriteLine(report.FirstPropagated is PortLayer p
                ? $"batch {run.Batch}: with error propagation: {report.Layers.Count(l => l.Propagated is { Close: false })} of {compared} layers diverge; the first is {Printable.Escape(p.Key)}: {DiffCommand.Detail(p.Propagated!)}"
                : $"batch {run.Batch}: with error propagation: all {compared} compared layers are within tolerance");
            o.WriteLine(report.FirstIsolated is PortLayer i
                ? $"batch {run.Batch}: without error propagation: the error is introduced at {Printable.Escape(i.Key)} ({i.IsolatedHow}): {DiffCommand.Detail(i.Isolated!)}"
                : $"batch {run.Batch}: without error propagation: all {report.Layers.Count(l => l.Isolated is not null)} layers checked in isolation are within tolerance");
            o.WriteLine($"batch {run.Batch}: cosine similarity of the final embeddings: {string.Join(", ", run.Cosine.Select(c => c.ToString("0.000000000", CultureInfo.InvariantCulture)))}");
        }
    }

    private static string Json(string onnxPath, string variant, OnnxScopeMap map, List<BatchRun> runs, bool passed)
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
            w.WriteStartArray("batches");
            foreach (BatchRun run in runs)
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
