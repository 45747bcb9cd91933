using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>One compared layer of a port: with error propagation (against the reference dump) and without (recomputed from the port's own inputs).</summary>
/// <param name="Key">The dump key.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Propagated">Against the reference dump, or null when the reference has no such file.</param>
/// <param name="Isolated">Against the reference recomputed from the port's inputs, or null (see <paramref name="IsolatedHow"/>).</param>
/// <param name="IsolatedHow">How the isolated check was done, or why it was not.</param>
public sealed record PortLayer(string Key, IReadOnlyList<int> Shape, LayerVerdict? Propagated, LayerVerdict? Isolated, string IsolatedHow);

/// <summary>The result of <see cref="PortCheck.Run"/>.</summary>
public sealed class PortReport
{
    /// <summary>The compared layers in the order PyTorch runs them.</summary>
    public required IReadOnlyList<PortLayer> Layers { get; init; }

    /// <summary>Reference layers the port did not dump (not compared).</summary>
    public required IReadOnlyList<string> Missing { get; init; }

    /// <summary>Where the order came from.</summary>
    public required string Order { get; init; }

    /// <summary>True when the reference recorded its noise (else the propagated rule falls back to <see cref="Tolerance.ForReduction"/>).</summary>
    public required bool HasNoise { get; init; }

    /// <summary>The tolerance that replaced the propagated rule, if one was given.</summary>
    public Tolerance? FixedTolerance { get; init; }

    /// <summary>True when the isolated check ran (weights given).</summary>
    public required bool Isolated { get; init; }

    /// <summary>The first layer that diverges with error propagation, or null.</summary>
    public PortLayer? FirstPropagated => Layers.FirstOrDefault(l => l.Propagated is { Close: false });

    /// <summary>The first layer that introduces an error (isolated), or null.</summary>
    public PortLayer? FirstIsolated => Layers.FirstOrDefault(l => l.Isolated is { Close: false });

    /// <summary>True when no compared layer fails either check.</summary>
    public bool Passed => FirstPropagated is null && FirstIsolated is null;
}

/// <summary>
/// The port checker behind <c>learn diff</c>: a port's activation dump against the reference's
/// (<c>learn osnet --activations</c>), layer by layer in the order PyTorch runs them, under <see cref="PortTolerance"/>.
/// With the model (the checkpoint loaded), each layer is also recomputed by the reference from the port's own
/// recorded inputs (<see cref="OSNetGraph"/> says which), so the layer that introduces an error is named even
/// where rounding from earlier layers has piled up.
/// </summary>
public static class PortCheck
{
    /// <summary>
    /// Compares the dump in <paramref name="portDir"/> with the reference dump <paramref name="referenceDir"/>;
    /// <paramref name="model"/> (weights loaded) enables the isolated check. Bad input (no index, a layer the
    /// reference does not have, a shape that differs, NaN or infinity, nothing in common) throws
    /// <see cref="InvalidDataException"/> with one line naming the file, before anything is compared.
    /// <paramref name="fixedTolerance"/>, when given, replaces the propagated rule for every layer (a float16 port).
    /// </summary>
    public static PortReport Run(string portDir, string referenceDir, OSNet? model, Tolerance? fixedTolerance = null)
    {
        ArgumentNullException.ThrowIfNull(portDir);
        ArgumentNullException.ThrowIfNull(referenceDir);
        IReadOnlyList<ActivationEntry> index = ActivationDirectory.ReadIndex(referenceDir)
            ?? throw new InvalidDataException($"{referenceDir}: no {ActivationDirectory.IndexFileName} (the reference dump is written by learn osnet --activations)");
        var refEntries = index.ToDictionary(e => e.Key, StringComparer.Ordinal);

        OSNetGraph? graph = model is not null ? OSNetGraph.Of(model) : InferGraph(index);
        if (model is not null && graph is not null)
        {
            string? stranger = index.Select(e => e.Key).FirstOrDefault(k => !graph.ByKey.ContainsKey(k));
            if (stranger is not null)
            {
                throw new InvalidDataException($"{referenceDir}: layer '{stranger}' is not a module call of the checkpoint's model (a dump of another variant?)");
            }

            ActivationEntry? other = index.FirstOrDefault(e => graph.ByKey[e.Key].Module is Layers.Conv2d c && e.Shape.Count == 4 && e.Shape[1] != c.OutChannels);
            if (other is not null)
            {
                var conv = (Layers.Conv2d)graph.ByKey[other.Key].Module!;
                throw new InvalidDataException($"{referenceDir}: layer '{other.Key}' has {other.Shape[1]} channels, the checkpoint's has {conv.OutChannels} (a dump of another variant?)");
            }
        }

        var order = new List<string>();
        if (graph is not null)
        {
            order.AddRange(graph.Nodes.Select(n => n.Key).Where(refEntries.ContainsKey));
        }

        order.AddRange(index.Select(e => e.Key).Where(k => !order.Contains(k)));

        // Validate the port's files first: nothing is reported from a dump that is not what it claims.
        var port = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var reference = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(portDir, "*.npy").Order(StringComparer.Ordinal))
        {
            string key = Path.GetFileName(file)[..^".npy".Length];
            if (!refEntries.TryGetValue(key, out ActivationEntry? entry))
            {
                throw new InvalidDataException($"{file}: the reference dump {referenceDir} has no layer '{key}' (names are PyTorch's qualified module names, e.g. conv2.0.conv1.conv)");
            }

            Tensor t = Npy.Read(file);
            if (!t.Shape.SequenceEqual(entry.Shape))
            {
                throw new InvalidDataException($"{file}: shape {t.ShapeString}, the reference's {key} is {Tensor.Format(entry.Shape.ToArray())}");
            }

            CheckFinite(file, t);
            port[key] = t;
        }

        if (port.Count == 0)
        {
            throw new InvalidDataException($"{portDir}: no .npy file of a layer the reference dumped: nothing to compare");
        }

        Tensor? Reference(string key)
        {
            if (reference.TryGetValue(key, out Tensor? t))
            {
                return t;
            }

            string file = Path.Combine(referenceDir, key + ".npy");
            if (!File.Exists(file))
            {
                return null;
            }

            t = Npy.Read(file);
            if (refEntries.TryGetValue(key, out ActivationEntry? listed) && !t.Shape.SequenceEqual(listed.Shape))
            {
                throw new InvalidDataException($"{file}: shape {t.ShapeString}, its index {ActivationDirectory.IndexFileName} says {Tensor.Format(listed.Shape.ToArray())}");
            }

            CheckFinite(file, t);
            return reference[key] = t;
        }

        bool hasNoise = index.Any(e => e.Noise is not null);
        var layers = new List<PortLayer>();
        foreach (string key in order.Where(port.ContainsKey))
        {
            Tensor mine = port[key];
            Tensor? expected = Reference(key);
            LayerVerdict? propagated = null;
            if (expected is not null)
            {
                ActivationEntry entry = refEntries[key];
                propagated = fixedTolerance is Tolerance fixedRule
                    ? LayerVerdict.Of(mine, expected, i => fixedRule.Atol + fixedRule.Rtol * Math.Abs(expected.Data[i]))
                    : entry.Noise is double noise
                    ? LayerVerdict.Of(mine, expected, i => PortTolerance.Propagated(noise, expected.Data[i]))
                    : LayerVerdict.Of(mine, expected, Fallback(entry.Reduction, expected));
            }

            LayerVerdict? isolated = null;
            string how = "no weights given";
            if (model is not null && graph is not null)
            {
                (isolated, how) = Isolate(graph, graph.ByKey[key], port, Reference, refEntries[key].Noise);
            }

            layers.Add(new PortLayer(key, mine.Shape, propagated, isolated, how));
        }

        return new PortReport
        {
            Layers = layers,
            Missing = order.Where(k => !port.ContainsKey(k)).ToList(),
            Order = graph is not null ? "the OSNet module graph (the order PyTorch runs the modules)" : $"{Path.Combine(referenceDir, ActivationDirectory.IndexFileName)}",
            HasNoise = hasNoise,
            FixedTolerance = fixedTolerance,
            Isolated = model is not null,
        };
    }

    private static Func<int, double> Fallback(long? k, Tensor expected)
    {
        Tolerance t = Tolerance.ForReduction(Math.Max(1, k ?? 1));
        return i => t.Atol + t.Rtol * Math.Abs(expected.Data[i]);
    }

    private static void CheckFinite(string file, Tensor t)
    {
        int bad = 0, first = -1;
        for (int i = 0; i < t.Length; i++)
        {
            if (!float.IsFinite(t.Data[i]))
            {
                bad++;
                first = first < 0 ? i : first;
            }
        }

        if (bad > 0)
        {
            throw new InvalidDataException($"{file}: {bad} NaN or infinite values (the first is element {first}, {t.Data[first]})");
        }
    }

    // The variant whose graph lists every key of the reference index (by stem width and the IBN norm), or null.
    private static OSNetGraph? InferGraph(IReadOnlyList<ActivationEntry> index)
    {
        ActivationEntry? stem = index.FirstOrDefault(e => e.Key == "conv1.conv" || e.Key == "conv1");
        if (stem is null || stem.Shape.Count != 4)
        {
            return null;
        }

        bool ibn = index.Any(e => e.Key.EndsWith(".IN", StringComparison.Ordinal));
        string? variant = (stem.Shape[1], ibn) switch
        {
            (64, true) => "osnet_ibn_x1_0",
            (64, false) => "osnet_x1_0",
            (48, false) => "osnet_x0_75",
            (32, false) => "osnet_x0_5",
            (16, false) => "osnet_x0_25",
            _ => null,
        };
        if (variant is null)
        {
            return null;
        }

        OSNetGraph graph = OSNetGraph.Of(OSNet.Create(variant, 1));
        return index.All(e => graph.ByKey.ContainsKey(e.Key)) ? graph : null;
    }

    /// <summary>The isolated check of one node: the reference recomputes it from the port's own inputs.</summary>
    private static (LayerVerdict? Verdict, string How) Isolate(OSNetGraph graph, PortNode node, Dictionary<string, Tensor> port, Func<string, Tensor?> reference, double? noise)
    {
        Tensor mine = port[node.Key];
        if (node.Kind == PortNodeKind.Input)
        {
            // Nothing computes the input: it is the image the port was given, which must be the reference's exactly.
            return reference(node.Key) is Tensor image ? (LayerVerdict.Of(mine, image, _ => 0), "the reference's input (exact)") : (null, "not checked: the reference has no input");
        }

        (List<Tensor>? inputs, string? note) = Gather(graph, node.Inputs, port, reference);
        switch (node.Kind)
        {
            case PortNodeKind.Leaf when inputs is not null:
                return Leaf(node, mine, inputs, note);
            case PortNodeKind.Gate when inputs is not null:
            {
                Tensor y = Multiply.Forward(inputs[0], inputs[1]);
                return (LayerVerdict.Of(mine, y, i => PortTolerance.Isolated(Math.Abs(y.Data[i]), 1, 0, y.Data[i])), "x * gate_activation" + note);
            }

            case PortNodeKind.Block when inputs is not null:
            {
                Tensor sum = Sum(inputs, absolute: false), magnitude = Sum(inputs, absolute: true);
                Tensor y = Relu.Forward(sum);
                return (LayerVerdict.Of(mine, y, i => PortTolerance.Isolated(magnitude.Data[i], 1, inputs.Count - 1, y.Data[i])), "relu(" + string.Join(" + ", node.Inputs) + ")" + note);
            }
        }

        // A leaf fused with the layers before it in the port (BN folded into the conv, so the conv's own output is
        // not dumped): the chain it belongs to, from the chain's input up to and including the leaf.
        if (node.Kind == PortNodeKind.Leaf && noise is double fusedNoise && Fused(graph, node, port, reference) is (Tensor fused, string fusedHow))
        {
            return (LayerVerdict.Of(mine, fused, i => PortTolerance.Propagated(fusedNoise, fused.Data[i])), fusedHow);
        }

        // A chain, or a gate or block whose parts were not all dumped: the whole module from its input, under the
        // propagated rule (a chain's parts may be fused in the port, so its last child's output alone proves nothing).
        (List<Tensor>? moduleInput, string? moduleNote) = Gather(graph, node.ModuleInput, port, reference);
        if (moduleInput is null || node.Module is null || noise is not double n)
        {
            if (node.Kind == PortNodeKind.Chain && node.LastChild is not null && port.TryGetValue(node.LastChild, out Tensor? last))
            {
                return (LayerVerdict.Of(mine, last, _ => 0), $"= its last child {node.LastChild} (exact)");
            }

            return (null, noise is null
                ? "not checked: the reference recorded no noise for this layer"
                : $"not checked: its input {string.Join(" + ", node.ModuleInput.Where(k => !port.ContainsKey(k)))} is not in the port's dump");
        }

        Tensor x = Sum(moduleInput, absolute: false);
        Tensor whole = node.Module.Forward(node.Flatten ? x.Reshape(x.Size(0), -1) : x);
        return (LayerVerdict.Of(mine, whole, i => PortTolerance.Propagated(n, whole.Data[i])), "whole module from " + string.Join(" + ", node.ModuleInput) + moduleNote + " (propagated rule)");
    }

    // The port's value of a key; a chain's value is its last child's, so either name will do.
    private static Tensor? Value(OSNetGraph graph, string key, Dictionary<string, Tensor> port)
    {
        for (string? k = key; k is not null; k = graph.ByKey.TryGetValue(k, out PortNode? n) && n.Kind == PortNodeKind.Chain ? n.LastChild : null)
        {
            if (port.TryGetValue(k, out Tensor? t))
            {
                return t;
            }
        }

        return null;
    }

    private static (List<Tensor>? Inputs, string? Note) Gather(OSNetGraph graph, IReadOnlyList<string> keys, Dictionary<string, Tensor> port, Func<string, Tensor?> reference)
    {
        var inputs = new List<Tensor>();
        string? note = null;
        foreach (string key in keys)
        {
            if (Value(graph, key, port) is Tensor t)
            {
                inputs.Add(t);
            }
            else if (key == OSNetGraph.InputKey && reference(key) is Tensor r)
            {
                inputs.Add(r); // a port rarely dumps its input; the reference's is what it should have fed
                note = ", on the reference's input";
            }
            else
            {
                return (null, null);
            }
        }

        return (inputs, note);
    }

    private static (Tensor, string)? Fused(OSNetGraph graph, PortNode node, Dictionary<string, Tensor> port, Func<string, Tensor?> reference)
    {
        int dot = node.Name.LastIndexOf('.');
        if (dot < 0 || !graph.ByKey.TryGetValue(ActivationRecorder.KeyOf(node.Name[..dot], node.Call), out PortNode? parent)
            || parent.Kind != PortNodeKind.Chain || parent.Module is null)
        {
            return null;
        }

        (List<Tensor>? input, string? note) = Gather(graph, parent.ModuleInput, port, reference);
        if (input is null)
        {
            return null;
        }

        Tensor x = Sum(input, absolute: false);
        x = parent.Flatten ? x.Reshape(x.Size(0), -1) : x;
        var run = new List<string>();
        foreach (var (childName, child) in parent.Module.NamedChildren())
        {
            x = child.Forward(x);
            run.Add(childName);
            if (ReferenceEquals(child, node.Module))
            {
                return (x, $"fused: {string.Join(", ", run)} of {parent.Key} from {string.Join(" + ", parent.ModuleInput)}{note} (propagated rule)");
            }
        }

        return null;
    }

    private static (LayerVerdict?, string) Leaf(PortNode node, Tensor mine, List<Tensor> inputs, string? note)
    {
        Tensor x = Sum(inputs, absolute: false), ax = Sum(inputs, absolute: true);
        if (node.Flatten)
        {
            x = x.Reshape(x.Size(0), -1);
            ax = ax.Reshape(ax.Size(0), -1);
        }

        Module module = node.Module!;
        Tensor y = module.Forward(x);
        if (!y.SameShape(mine))
        {
            return (null, $"not checked: the reference computes {y.ShapeString} from the port's inputs");
        }

        int extra = inputs.Count - 1;
        Func<int, double>? tolerance = module switch
        {
            ReLU or Layers.MaxPool2d => _ => 0,
            Layers.Conv2d conv => PerElement(Conv.Conv2d(ax, Abs(conv.Weight), conv.Bias is null ? null : Abs(conv.Bias), conv.Options), conv.ReductionLength, extra, y),
            Layers.Linear linear => PerElement(Ops.Linear.Forward(ax, Abs(linear.Weight), linear.Bias is null ? null : Abs(linear.Bias)), linear.InFeatures, extra, y),
            Layers.AvgPool2d pool => PerElement(Ops.AvgPool2d.Forward(ax, pool.Options), pool.Options.Kernel.Count == 1 ? (long)pool.Options.Kernel[0] * pool.Options.Kernel[0] : pool.Options.Kernel.Aggregate(1L, (p, s) => p * s), extra, y),
            Layers.AdaptiveAvgPool2d pool => PerElement(Ops.AdaptiveAvgPool2d.Forward(ax, pool.OutputHeight, pool.OutputWidth), (long)x.Size(2) * x.Size(3) / (pool.OutputHeight * pool.OutputWidth), extra, y),
            BatchNorm2d bn => PerElement(BatchNormMagnitude(bn, ax), 1, extra, y),
            // M = 1, the sigmoid's range: implementations are accurate in absolute terms only (ONNX Runtime's clamps
            // its input and returns 1.5e-8 where the value is 2e-22: 0.25u; measured on a large-activation export).
            Layers.Sigmoid => PerElement(new Tensor(y.Shape, Enumerable.Repeat(1f, y.Length).ToArray()), 1, extra, y),
            InstanceNorm2d => PerElement(Abs(y), (long)x.Size(2) * x.Size(3), extra, y),
            _ => null,
        };
        if (tolerance is null)
        {
            return (null, $"not checked: no isolated rule for {module.TypeName}");
        }

        string how = module switch
        {
            ReLU or Layers.MaxPool2d => "exact",
            _ => "own rounding",
        };
        return (LayerVerdict.Of(mine, y, tolerance), $"{module.TypeName} on {string.Join(" + ", node.Inputs)}{note} ({how})");
    }

    private static Func<int, double> PerElement(Tensor magnitude, long k, int extra, Tensor y) =>
        i => PortTolerance.Isolated(magnitude.Data[i], k, extra, y.Data[i]);

    // (|x| + |mean|) |gamma| / sqrt(var + eps) + |beta| per channel (dim 1).
    private static Tensor BatchNormMagnitude(BatchNorm2d bn, Tensor ax)
    {
        var m = new float[ax.Length];
        int channels = ax.Size(1), inner = ax.Length / (ax.Size(0) * channels);
        for (int i = 0; i < ax.Length; i++)
        {
            int c = i / inner % channels;
            double scale = Math.Abs(bn.Weight.Data[c]) / Math.Sqrt(bn.RunningVar.Data[c] + bn.Eps);
            m[i] = (float)((ax.Data[i] + Math.Abs(bn.RunningMean.Data[c])) * scale + Math.Abs(bn.Bias.Data[c]));
        }

        return new Tensor(ax.Shape, m);
    }

    private static Tensor Abs(Tensor t) => new(t.Shape, t.Data.Select(Math.Abs).ToArray());

    // The sum of the inputs (or of their absolute values), in double, rounded once.
    private static Tensor Sum(List<Tensor> inputs, bool absolute)
    {
        if (inputs.Count == 1 && !absolute)
        {
            return inputs[0];
        }

        var data = new float[inputs[0].Length];
        for (int i = 0; i < data.Length; i++)
        {
            double s = 0;
            foreach (Tensor t in inputs)
            {
                s += absolute ? Math.Abs(t.Data[i]) : t.Data[i];
            }

            data[i] = (float)s;
        }

        return new Tensor(inputs[0].Shape, data);
    }
}
