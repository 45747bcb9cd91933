using System.Text.RegularExpressions;
using Learn.Layers;

namespace Learn.Cli.Onnx;

/// <summary>
/// Which ONNX value is which module call's output, from torch.onnx's node names. torch.onnx (1.13 and later) names a
/// node by its module scope and op: <c>/conv2/conv2.0/conv2b/conv2b.0/conv1/Conv</c>, one segment per module, a
/// Sequential's child written with its parent's name (<c>conv2b.0</c>), and the n-th call of a module suffixed
/// <c>_n-1</c> (<c>gate_1</c>, <c>fc1_1</c>). A module call's output is the output of the last node directly in its
/// scope (Relu for a ConvLayer's relu, Mul for a gate, the final Relu for an OSBlock); chains have no node of their
/// own (their output is their last child's). Nodes at the root scope (OSNet's own flatten) are not module outputs.
/// The fused boundary: a conv followed by a BatchNorm in its module is compared under the BatchNorm's name. An
/// exporter that folds the BatchNorm into the conv leaves no node in the BatchNorm's scope: the conv's output is
/// the pair's, mapped to the BatchNorm's name. A port that folds it itself leaves an Add (the shift) in the
/// BatchNorm's scope and a conv with scaled weights: the conv's output is not the conv's, so only the pair's output
/// (the BatchNorm's) is compared. Preprocessing at the root scope before the first module (a channel swap baked
/// into the export) gives the network's input: the value the first module reads is mapped to <c>input</c>.
/// Nothing is guessed: a node whose scope does not name a module of the model is a gap.
/// </summary>
internal sealed partial class OnnxScopeMap
{
    private OnnxScopeMap(Dictionary<string, string> values, List<string> fused, HashSet<string> foldedConvs, List<string> gaps, bool scoped)
    {
        Values = values;
        Fused = fused;
        FoldedConvs = foldedConvs;
        Gaps = gaps;
        Scoped = scoped;
    }

    /// <summary>Dump key (module name, <c>@n</c> for the n-th call) to the ONNX value holding its output.</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>"conv + bn" pairs compared at the fused boundary (the conv's ONNX output is the BatchNorm's).</summary>
    public IReadOnlyList<string> Fused { get; }

    /// <summary>The convs compared at a fused boundary (their own output is not in the export).</summary>
    public IReadOnlySet<string> FoldedConvs { get; }

    /// <summary>Nodes whose scope names no module of the model.</summary>
    public IReadOnlyList<string> Gaps { get; }

    /// <summary>False when no node name carries a module scope (<c>Conv_0</c>, as torch.onnx before 1.13 wrote them).</summary>
    public bool Scoped { get; }

    /// <summary>Maps the nodes of <paramref name="file"/> onto the modules of <paramref name="model"/>.</summary>
    public static OnnxScopeMap Of(OnnxModelFile file, Module model)
    {
        var modules = new HashSet<string>(model.NamedModules().Select(m => m.Key), StringComparer.Ordinal);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var ops = new Dictionary<string, string>(StringComparer.Ordinal);
        var gaps = new List<string>();
        string? networkInput = null;
        var constants = new HashSet<string>(file.Initializers, StringComparer.Ordinal);
        var preprocessed = new HashSet<string>(file.Inputs, StringComparer.Ordinal); // computed from the image alone
        foreach (OnnxNode node in file.Nodes)
        {
            if (node.OpType == "Constant" || node.Outputs.Count == 0)
            {
                constants.UnionWith(node.Outputs);
                continue;
            }

            string[] parts = node.Name.Split('/');
            if (parts.Length < 2 || parts[0].Length != 0)
            {
                gaps.Add(node.Name.Length == 0 ? $"(unnamed {node.OpType})" : node.Name);
                continue;
            }

            string[] scope = parts[1..^1];
            if (scope.Length == 0)
            {
                if (node.Inputs.Where(i => !constants.Contains(i)).All(preprocessed.Contains))
                {
                    preprocessed.UnionWith(node.Outputs);
                }

                continue; // the root module's own op (OSNet.forward's flatten), or preprocessing baked into the export
            }

            string? key = Resolve(scope, modules);
            if (key is null)
            {
                gaps.Add(node.Name);
                continue;
            }

            if (values.Count == 0 && node.Inputs.Count > 0 && preprocessed.Contains(node.Inputs[0]) && !file.Inputs.Contains(node.Inputs[0]))
            {
                networkInput = node.Inputs[0]; // the first module reads the image through root-scope ops: preprocessing
            }

            values[key] = node.Outputs[0];
            ops[key] = node.OpType;
        }

        if (networkInput is not null)
        {
            values[Learn.Verification.OSNetGraph.InputKey] = networkInput;
        }

        var fused = new List<string>();
        var foldedConvs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, module) in model.NamedModules())
        {
            var children = module.NamedChildren().ToList();
            for (int i = 0; i + 1 < children.Count; i++)
            {
                if (children[i].Value is Conv2d && children[i + 1].Value is BatchNorm2d)
                {
                    string conv = Join(name, children[i].Key), bn = Join(name, children[i + 1].Key);
                    if (!values.ContainsKey(bn) && values.Remove(conv, out string? value))
                    {
                        values[bn] = value;
                        fused.Add($"{conv} + {bn}");
                        foldedConvs.Add(conv);
                    }
                    else if (ops.TryGetValue(bn, out string? op) && op != "BatchNormalization" && values.Remove(conv))
                    {
                        fused.Add($"{conv} + {bn} (folded by the port: {op})");
                        foldedConvs.Add(conv);
                    }
                }
            }
        }

        bool scoped = file.Nodes.Any(n => n.Name.StartsWith('/'));
        return new OnnxScopeMap(values, fused, foldedConvs, gaps, scoped);
    }

    private static string Join(string parent, string child) => parent.Length == 0 ? child : parent + "." + child;

    // The dump key of a scope, or null when a segment names no submodule.
    private static string? Resolve(string[] scope, HashSet<string> modules)
    {
        string path = "", last = "";
        int call = 1;
        foreach (string segment in scope)
        {
            string written = segment;
            string? child = Child(segment, last, path, modules);
            call = 1;
            if (child is null && CallSuffix().Match(segment) is { Success: true } m
                && int.TryParse(m.Groups[2].Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int earlier) && earlier < int.MaxValue)
            {
                written = m.Groups[1].Value;
                child = Child(written, last, path, modules);
                call = earlier + 1;
            }

            if (child is null)
            {
                return null;
            }

            path = Join(path, child);
            last = written;
        }

        return call == 1 ? path : $"{path}@{call}";
    }

    // A segment is a child's name, or its parent's segment + "." + the child's name (a Sequential's children).
    private static string? Child(string segment, string parentSegment, string path, HashSet<string> modules)
    {
        if (modules.Contains(Join(path, segment)))
        {
            return segment;
        }

        if (parentSegment.Length > 0 && segment.StartsWith(parentSegment + ".", StringComparison.Ordinal))
        {
            string child = segment[(parentSegment.Length + 1)..];
            return modules.Contains(Join(path, child)) ? child : null;
        }

        return null;
    }

    [GeneratedRegex(@"^(.+)_(\d+)$")]
    private static partial Regex CallSuffix();
}
