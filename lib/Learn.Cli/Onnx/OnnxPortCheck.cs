using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Verification;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using Tensor = Learn.Tensors.Tensor;

namespace Learn.Cli.Onnx;

/// <summary>One batch size's run of an export: the report, or why it could not run, and the embeddings' cosines.</summary>
/// <param name="Batch">The batch size.</param>
/// <param name="Report">The layer-by-layer check, or null when ONNX Runtime could not run this batch.</param>
/// <param name="Failure">Why the batch could not run, or null.</param>
/// <param name="Cosine">Per image, the cosine similarity of the export's final embedding with the reference's.</param>
internal sealed record OnnxBatchRun(int Batch, PortReport? Report, string? Failure, double[] Cosine);

/// <summary>
/// The logic of <c>learn diff-onnx</c>: a torch.onnx export of OSNet opened with ONNX Runtime, every mapped node
/// output exposed as a graph output (<see cref="OnnxModelFile.WithOutputs"/>), its module calls mapped by scope
/// name (<see cref="OnnxScopeMap"/>), and each batch checked by <see cref="PortCheck"/> against the reference dump
/// of the checkpoint's model. Modules the model runs that have no node in the export and are not folded into a
/// fused boundary (a ReLU dropped) are listed as <see cref="Absent"/>: the export fails there. Bad input (not ONNX,
/// not OSNet, unmappable nodes, an input of the wrong shape) throws a one-line <see cref="CliError"/>.
/// </summary>
internal sealed class OnnxPortCheck : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OnnxModelFile _file;
    private readonly OSNet _model;
    private readonly string _onnxPath;

    private OnnxPortCheck(InferenceSession session, OnnxModelFile file, OnnxScopeMap map, OSNet model, string onnxPath, List<string> absent)
    {
        _session = session;
        _file = file;
        Map = map;
        _model = model;
        _onnxPath = onnxPath;
        Absent = absent;
    }

    /// <summary>How the export's nodes map onto the model's module calls.</summary>
    public OnnxScopeMap Map { get; }

    /// <summary>Module calls of the model (ops of their own) with no node in the export and not at a fused boundary, in the order PyTorch runs them.</summary>
    public IReadOnlyList<string> Absent { get; }

    /// <summary>Reads, maps and loads the export at <paramref name="onnxPath"/> for <paramref name="model"/> (weights loaded) of <paramref name="variant"/>.</summary>
    public static OnnxPortCheck Open(string onnxPath, OSNet model, string variant)
    {
        if (!File.Exists(onnxPath))
        {
            throw CliError.Failure(onnxPath, Directory.Exists(onnxPath) ? "is a folder, expected an .onnx file" : "no such file");
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
        if (!map.Scoped)
        {
            // Mapping by position (the n-th Conv is the n-th conv call) would be a guess the file cannot confirm.
            throw CliError.Failure(onnxPath, $"its nodes carry no module scope (names like {string.Join(", ", file.Nodes.Take(2).Select(n => Printable.Escape(n.Name)))}: torch.onnx before 1.13, or renamed), and diff-onnx maps nodes to modules by scope name only: export with torch 1.13 or later");
        }

        if (map.Values.Count == 0)
        {
            throw CliError.Failure(onnxPath, $"not an OSNet export of {variant}: no node's scope names one of its modules (first nodes: {string.Join(", ", file.Nodes.Take(3).Select(n => Printable.Escape(n.Name)))})");
        }

        if (map.Gaps.Count > 0)
        {
            throw CliError.Failure(onnxPath, $"{map.Gaps.Count} node{(map.Gaps.Count == 1 ? "" : "s")} whose scope names no module of {variant}, not mapped: {List(map.Gaps)}");
        }

        OSNetGraph graph = OSNetGraph.Of(model);
        var absent = graph.Nodes
            .Where(n => n.Kind is PortNodeKind.Leaf or PortNodeKind.Gate or PortNodeKind.Block && !map.Values.ContainsKey(n.Key) && !map.FoldedConvs.Contains(n.Key))
            .Select(n => n.Key).ToList();

        byte[] exposed = file.WithOutputs(map.Values.Values.Distinct().Where(v => !file.Outputs.Contains(v)));
        var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        try
        {
            // The model is given as bytes (edited), so external data (weights beside the .onnx) is found from here.
            options.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", Path.GetDirectoryName(Path.GetFullPath(onnxPath))!);
            return new OnnxPortCheck(new InferenceSession(exposed, options), file, map, model, onnxPath, absent);
        }
        catch (OnnxRuntimeException e)
        {
            throw CliError.Failure(onnxPath, "ONNX Runtime cannot load it: " + OneLine(e.Message));
        }
        finally
        {
            options.Dispose();
        }
    }

    /// <summary>The two batches diff-onnx runs: the first image of <paramref name="x"/>, then <paramref name="x"/> if it has more, else that image and its mirror.</summary>
    public static Tensor[] Batches(Tensor x)
    {
        Tensor first = Slice(x, 1);
        return [first, x.Size(0) > 1 ? x : Concat(first, Mirror(first))];
    }

    /// <summary>
    /// The images' shape against the export's declared input (-1 or a name: any size): throws a one-line error
    /// naming <paramref name="inputPath"/> when a fixed height, width or channel count differs.
    /// </summary>
    public void CheckInput(Tensor x, string inputPath)
    {
        int[] dims = _session.InputMetadata[_file.Inputs[0]].Dimensions;
        bool fits = dims.Length == x.Rank && Enumerable.Range(1, dims.Length - 1).All(i => dims[i] <= 0 || dims[i] == x.Size(i));
        if (!fits)
        {
            string expected = "[" + string.Join(", ", dims.Select((d, i) => i == 0 ? "N" : d <= 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            throw CliError.Failure(inputPath, $"shape {x.ShapeString}, the export {Printable.Escape(_onnxPath)} expects images {expected}");
        }
    }

    /// <summary>
    /// Runs the batch <paramref name="x"/> through the export and checks it. <paramref name="referenceDir"/> is the
    /// reference dump of the model on <paramref name="x"/> (<see cref="PortReference.Dump"/>), or null to write one
    /// in <paramref name="scratch"/>, where the export's outputs are written too.
    /// </summary>
    public OnnxBatchRun Run(Tensor x, string scratch, string? referenceDir = null)
    {
        int n = x.Size(0);
        string portDir = Path.Combine(scratch, "export");
        Directory.CreateDirectory(portDir);
        Tensor expected;
        if (referenceDir is null)
        {
            referenceDir = Path.Combine(scratch, "reference");
            expected = PortReference.Dump(_model, x, new ActivationDirectory(referenceDir));
        }
        else
        {
            expected = Npy.Read(Path.Combine(referenceDir, "fc.npy"));
        }

        var index = ActivationDirectory.ReadIndex(referenceDir)!.ToDictionary(e => e.Key, StringComparer.Ordinal);
        string[] strangers = Map.Values.Keys.Where(k => !index.ContainsKey(k)).ToArray();
        if (strangers.Length > 0)
        {
            throw CliError.Failure(_onnxPath, $"{strangers.Length} scopes name no module call the reference makes, not mapped: {List(strangers)}");
        }

        Dictionary<string, Tensor> values;
        try
        {
            var feed = new[] { NamedOnnxValue.CreateFromTensor(_file.Inputs[0], new DenseTensor(x.Data.ToArray(), x.Shape)) };
            string[] wanted = Map.Values.Values.Append(_file.Outputs[0]).Distinct().ToArray();
            using var results = _session.Run(feed, wanted);
            values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DisposableNamedOnnxValue r in results)
            {
                Microsoft.ML.OnnxRuntime.Tensors.Tensor<float> t = r.Value as Microsoft.ML.OnnxRuntime.Tensors.Tensor<float>
                    ?? throw CliError.Failure(_onnxPath, $"node output {Printable.Escape(r.Name)} ({string.Join(", ", Map.Values.Where(v => v.Value == r.Name).Select(v => v.Key))}) is not a float32 tensor: not a module's output");
                values[r.Name] = new Tensor(t.Dimensions.ToArray(), t.ToArray());
            }
        }
        catch (OnnxRuntimeException e)
        {
            return new OnnxBatchRun(n, null, $"ONNX Runtime fails at batch {n}: {OneLine(e.Message)}{BakedReshapes()}", []);
        }

        Tensor output = values[_file.Outputs[0]];
        if (output.Rank != 2 || output.Size(0) != n)
        {
            return new OnnxBatchRun(n, null, $"at batch {n} the export's output is {output.ShapeString}, expected [{n}, {expected.Size(1)}]{BakedReshapes()}", []);
        }

        foreach (var (key, value) in Map.Values)
        {
            Tensor t = values[value];
            if (!t.Shape.SequenceEqual(index[key].Shape))
            {
                throw CliError.Failure(_onnxPath, $"node output {Printable.Escape(value)} ({key}) is {t.ShapeString}, the checkpoint's {key} is {Tensor.Format(index[key].Shape.ToArray())} (an export of another variant, or another input size?)");
            }

            Npy.Write(Path.Combine(portDir, key + ".npy"), t);
        }

        PortReport report = PortCheck.Run(portDir, referenceDir, _model);
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

        return new OnnxBatchRun(n, report, null, cosine);
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();

    /// <summary>Up to eight names, escaped, and how many more.</summary>
    public static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(8).Select(Printable.Escape)) + (names.Count > 8 ? $" and {names.Count - 8} more" : "");

    private static string OneLine(string message) => string.Join(' ', message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    // Reshape nodes whose target shape is a constant of the file: where a batch size gets baked in.
    private string BakedReshapes()
    {
        var constants = new HashSet<string>(_file.Initializers, StringComparer.Ordinal);
        constants.UnionWith(_file.Nodes.Where(n => n.OpType == "Constant").SelectMany(n => n.Outputs));
        string[] reshapes = _file.Nodes.Where(n => n.OpType == "Reshape" && n.Inputs.Count > 1 && constants.Contains(n.Inputs[1])).Select(n => Printable.Escape(n.Name)).ToArray();
        return reshapes.Length == 0 ? "" : $" (a Reshape with a constant shape, where the batch size is baked in: {string.Join(", ", reshapes)}; export with flatten(1) or view(x.size(0), -1))";
    }

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
}
