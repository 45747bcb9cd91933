using Learn.Layers;
using Learn.Models;

namespace Learn.Verification;

/// <summary>What a node of <see cref="OSNetGraph"/> computes from its inputs.</summary>
public enum PortNodeKind
{
    /// <summary>The network's input image (key <c>input</c>).</summary>
    Input,

    /// <summary>A module without children (Conv2d, BatchNorm, ReLU, pooling, Linear, Sigmoid): its own op on the sum of its inputs.</summary>
    Leaf,

    /// <summary>A chain of children (Sequential, ConvLayer, LightConv3x3 ...): its output is its last child's.</summary>
    Chain,

    /// <summary>A call of OSNet's ChannelGate: <c>x * gate_activation</c>, inputs [x, gate_activation's output of that call].</summary>
    Gate,

    /// <summary>An OSBlock: <c>relu(sum of inputs)</c>, inputs [conv3, shortcut] (or [IN] in the IBN variant).</summary>
    Block,
}

/// <summary>
/// One module call of OSNet's forward pass, as a data-flow node.
/// </summary>
/// <param name="Key">The dump key (<c>conv2.0.gate@2</c>): <see cref="ActivationRecorder.KeyOf"/> of name and call.</param>
/// <param name="Name">The module's qualified name (<c>conv2.0.gate</c>).</param>
/// <param name="Call">Which call of that module, from 1.</param>
/// <param name="Module">The module in the model the graph was built from.</param>
/// <param name="Kind">What the node computes from <paramref name="Inputs"/>.</param>
/// <param name="Inputs">
/// The keys whose values feed the node: a <see cref="PortNodeKind.Leaf"/> or <see cref="PortNodeKind.Chain"/> gets
/// their sum (one key except OSBlock's conv3, fed the sum of the four gated streams); <see cref="PortNodeKind.Gate"/>
/// and <see cref="PortNodeKind.Block"/> combine them as their kind says.
/// </param>
/// <param name="Flatten">True when the summed input is flattened to [N, -1] first (OSNet's fc after global_avgpool).</param>
/// <param name="LastChild">For a chain, the key of the child whose output is the chain's.</param>
/// <param name="ModuleInput">The keys whose sum is the module's own Forward input (for re-running a whole composite).</param>
public sealed record PortNode(
    string Key,
    string Name,
    int Call,
    Module? Module,
    PortNodeKind Kind,
    IReadOnlyList<string> Inputs,
    bool Flatten,
    string? LastChild,
    IReadOnlyList<string> ModuleInput);

/// <summary>
/// OSNet's module graph: every module call in the order PyTorch (torchreid) runs them, with the calls that feed
/// it. Written out here, beside the model rather than in it, because a port checker needs the data flow (which
/// output feeds which module) that <see cref="Module.Forward(Learn.Tensors.Tensor)"/> keeps implicit:
/// <code>
/// input -> conv1 (conv, bn, relu) -> maxpool -> conv2 -> conv3 -> conv4 -> conv5 -> global_avgpool -> flatten -> fc
/// OSBlock(x): x1 = conv1(x); s_a..s_d = conv2a..conv2d(x1) (each a chain of LightConv3x3);
///             g_i = gate(s_i) (calls 1..4 of the shared gate, in stream order); x3 = conv3(g_1 + g_2 + g_3 + g_4);
///             shortcut = downsample(x) or x; out = relu(x3 + shortcut)        (IBN: relu(IN(x3 + shortcut)))
/// gate(s):    global_avgpool -> fc1 -> relu -> fc2 -> gate_activation = g;  out = s * g
/// </code>
/// torchreid computes conv3 before downsample, and so does this order. Chains (Sequential, ConvLayer,
/// Conv1x1, Conv1x1Linear, LightConv3x3) run their children in registration order.
/// </summary>
public sealed class OSNetGraph
{
    /// <summary>The key of the network's input image in a dump.</summary>
    public const string InputKey = "input";

    private readonly List<PortNode> _nodes = [];
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);

    private OSNetGraph(OSNet model)
    {
        _nodes.Add(new PortNode(InputKey, InputKey, 1, null, PortNodeKind.Input, [], false, null, []));
        string x = Emit("conv1", model.Conv1, [InputKey]);
        x = Emit("maxpool", model.Maxpool, [x]);
        x = Emit("conv2", model.Conv2, [x]);
        x = Emit("conv3", model.Conv3, [x]);
        x = Emit("conv4", model.Conv4, [x]);
        x = Emit("conv5", model.Conv5, [x]);
        x = Emit("global_avgpool", model.GlobalAvgPool, [x]);
        Emit("fc", model.Fc, [x], flatten: true);
        ByKey = _nodes.ToDictionary(n => n.Key, StringComparer.Ordinal);
    }

    /// <summary>The nodes in the order PyTorch runs them, <c>input</c> first.</summary>
    public IReadOnlyList<PortNode> Nodes => _nodes;

    /// <summary>The nodes by key.</summary>
    public IReadOnlyDictionary<string, PortNode> ByKey { get; }

    /// <summary>The graph of <paramref name="model"/> (its modules are the nodes' <see cref="PortNode.Module"/>).</summary>
    public static OSNetGraph Of(OSNet model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new OSNetGraph(model);
    }

    private string Emit(string name, Module module, IReadOnlyList<string> inputs, bool flatten = false)
    {
        int call = _calls[name] = _calls.GetValueOrDefault(name) + 1;
        string key = ActivationRecorder.KeyOf(name, call);
        switch (module)
        {
            case OSBlock block:
                EmitBlock(key, name, call, block, inputs);
                break;
            case ChannelGate gate:
                string g = Emit(Module.Qualify(name, "global_avgpool"), gate.GlobalAvgPool, inputs);
                g = Emit(Module.Qualify(name, "fc1"), gate.Fc1, [g]);
                g = Emit(Module.Qualify(name, "relu"), gate.Relu, [g]);
                g = Emit(Module.Qualify(name, "fc2"), gate.Fc2, [g]);
                g = Emit(Module.Qualify(name, "gate_activation"), gate.GateActivation, [g]);
                _nodes.Add(new PortNode(key, name, call, module, PortNodeKind.Gate, [inputs[0], g], false, null, inputs));
                break;
            default:
                var children = module.NamedChildren().ToList();
                if (children.Count == 0)
                {
                    _nodes.Add(new PortNode(key, name, call, module, PortNodeKind.Leaf, inputs, flatten, null, inputs));
                    break;
                }

                IReadOnlyList<string> x = inputs;
                bool first = true;
                foreach (var (childName, child) in children)
                {
                    x = [Emit(Module.Qualify(name, childName), child, x, flatten && first)];
                    first = false;
                }

                _nodes.Add(new PortNode(key, name, call, module, PortNodeKind.Chain, inputs, flatten, x[0], inputs));
                break;
        }

        return key;
    }

    private void EmitBlock(string key, string name, int call, OSBlock block, IReadOnlyList<string> inputs)
    {
        string x1 = Emit(Module.Qualify(name, "conv1"), block.Conv1, inputs);
        var streams = new[] { ("conv2a", (Module)block.Conv2a), ("conv2b", block.Conv2b), ("conv2c", block.Conv2c), ("conv2d", block.Conv2d) }
            .Select(s => Emit(Module.Qualify(name, s.Item1), s.Item2, [x1]))
            .ToList();
        var gated = streams.Select(s => Emit(Module.Qualify(name, "gate"), block.Gate, [s])).ToList();
        string x3 = Emit(Module.Qualify(name, "conv3"), block.Conv3, gated);
        string shortcut = block.Downsample is null ? inputs[0] : Emit(Module.Qualify(name, "downsample"), block.Downsample, inputs);
        IReadOnlyList<string> sum = [x3, shortcut];
        if (block.IN is not null)
        {
            sum = [Emit(Module.Qualify(name, "IN"), block.IN, sum)];
        }

        _nodes.Add(new PortNode(key, name, call, block, PortNodeKind.Block, sum, false, null, inputs));
    }
}
