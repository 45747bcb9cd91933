using Learn.Analysis;
using Learn.IO;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>
/// A layer or a network, shaped like PyTorch's <c>nn.Module</c>: named parameters, named buffers and named
/// children, so that every tensor has the name PyTorch's <c>state_dict()</c> gives it (<c>conv1.bn.running_var</c>,
/// <c>conv2.0.conv2b.1.conv2.weight</c>). Only inference (eval mode) is modelled.
/// </summary>
/// <remarks>
/// Naming rule: .NET-style public API; PyTorch's names for the state_dict keys, which are the strings given to
/// <see cref="RegisterParameter"/>, <see cref="RegisterBuffer"/> and <see cref="RegisterModule{T}"/>.
/// <see cref="Forward(Tensor)"/> runs <see cref="ForwardCore"/> and reports the output to an activation sink
/// when one was given to the root (<see cref="Forward(Tensor, IActivationSink)"/>), so any layer's output can be
/// captured without changing the layer's code, like a PyTorch forward hook.
/// </remarks>
public abstract class Module
{
    private readonly List<KeyValuePair<string, Tensor>> _parameters = [];
    private readonly List<KeyValuePair<string, Tensor>> _buffers = [];
    private readonly List<KeyValuePair<string, Module>> _children = [];

    /// <summary>The PyTorch class name shown in tables (e.g. <c>Conv2d</c>).</summary>
    public virtual string TypeName => GetType().Name;

    /// <summary>Runs the layer on <paramref name="x"/> (eval mode) and reports the output to an active capture.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        Tensor y = ForwardCore(x);
        ActivationCapture.Report(this, y);
        return y;
    }

    /// <summary>
    /// Runs the layer with this module as the root of an activation capture: every named submodule's output
    /// (qualified name as in <see cref="NamedModules"/>) goes to <paramref name="sink"/> as it is produced.
    /// </summary>
    public Tensor Forward(Tensor x, IActivationSink sink)
    {
        using (ActivationCapture.Begin(this, sink))
        {
            return Forward(x);
        }
    }

    /// <summary>The computation itself; submodules are called through their <see cref="Forward(Tensor)"/>.</summary>
    protected abstract Tensor ForwardCore(Tensor x);

    /// <summary>Registers a parameter (a learnable tensor saved in the state_dict) under <paramref name="name"/>.</summary>
    protected Tensor RegisterParameter(string name, Tensor value) => Register(_parameters, name, value);

    /// <summary>Registers a buffer (saved in the state_dict, not learnable, e.g. <c>running_mean</c>).</summary>
    protected Tensor RegisterBuffer(string name, Tensor value) => Register(_buffers, name, value);

    /// <summary>Registers a child module; its tensors are saved under <c>name.</c>.</summary>
    protected T RegisterModule<T>(string name, T module)
        where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name);
        _children.Add(new(name, module));
        return module;
    }

    /// <summary>The direct children in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => _children;

    /// <summary>This module's own parameters (not its children's).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> OwnParameters() => _parameters;

    /// <summary>
    /// Every module in pre-order with its qualified name, the root first with the name "" (PyTorch
    /// <c>named_modules()</c>; a module registered twice is listed once).
    /// </summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk(this, "", seen);

        static IEnumerable<KeyValuePair<string, Module>> Walk(Module m, string prefix, HashSet<Module> seen)
        {
            if (!seen.Add(m))
            {
                yield break;
            }

            yield return new(prefix, m);
            foreach (var (name, child) in m._children)
            {
                foreach (var item in Walk(child, Qualify(prefix, name), seen))
                {
                    yield return item;
                }
            }
        }
    }

    /// <summary>The submodule at a dotted path such as <c>conv2.0.gate</c>; "" is this module.</summary>
    /// <exception cref="KeyNotFoundException">No submodule has that path.</exception>
    public Module GetSubmodule(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Module current = this;
        if (path.Length == 0)
        {
            return current;
        }

        foreach (string part in path.Split('.'))
        {
            Module? next = current._children.FirstOrDefault(c => c.Key == part).Value;
            current = next ?? throw new KeyNotFoundException($"{TypeName} has no submodule '{path}' ('{part}' is not a child of {current.TypeName})");
        }

        return current;
    }

    /// <summary>Every parameter with its qualified name, in PyTorch's <c>named_parameters()</c> order.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters() => Tensors(includeParameters: true, includeBuffers: false);

    /// <summary>Every buffer with its qualified name.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers() => Tensors(includeParameters: false, includeBuffers: true);

    /// <summary>
    /// Every parameter and buffer in PyTorch's <c>state_dict()</c> order: a module's own parameters, then its own
    /// buffers, then each child's entries in registration order (BatchNorm's <c>num_batches_tracked</c>, a training
    /// counter, is not modelled).
    /// </summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedTensors() => Tensors(includeParameters: true, includeBuffers: true);

    /// <summary>The number of parameter elements (PyTorch <c>sum(p.numel() for p in model.parameters())</c>).</summary>
    public long ParameterCount() => NamedParameters().Sum(p => (long)p.Value.Length);

    /// <summary>The state_dict: <see cref="NamedTensors"/> as a dictionary (the tensors themselves, not copies).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict() => NamedTensors().ToDictionary(p => p.Key, p => p.Value);

    /// <summary>
    /// Copies the tensors of <paramref name="stateDict"/> into this module's parameters and buffers by name.
    /// Keys ending in <c>num_batches_tracked</c> are ignored. Strict (the default): if any key is missing,
    /// unexpected or of another shape, throws <see cref="StateDictMismatchException"/> listing all of them and
    /// changes nothing. Non-strict: loads every key whose name and shape match (<see cref="StateDictMatch.Matched"/>)
    /// and returns the same report (unlike torchreid, which loads silently). The comparison and the report are
    /// <see cref="StateDictMatch"/>'s, the same that checks a checkpoint file.
    /// </summary>
    /// <exception cref="StateDictMismatchException">Strict, and the names or shapes do not match.</exception>
    public StateDictMatch LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(stateDict);
        var own = NamedTensors().ToList(); // the model's order, which the report follows
        var target = own.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var source = new StateDict();
        foreach (var (name, tensor) in stateDict)
        {
            if (!IsIgnored(name))
            {
                source.Add(name, tensor);
            }
        }

        StateDictMatch match = StateDictMatch.Check(own.Select(p => new TensorSpec(p.Key, p.Value.Shape)), source, strict, "the state_dict");
        foreach (string name in match.Matched)
        {
            Array.Copy(source[name].Data, target[name].Data, target[name].Length);
        }

        return match;
    }

    /// <summary>
    /// The symbolic forward pass used by <see cref="CostTable"/>: output shape, multiply-accumulates, receptive
    /// field and reduction length, without computing values. The default runs the children in registration order,
    /// which is right for plain chains (conv, bn, relu); modules with branches override it to mirror
    /// <see cref="ForwardCore"/>.
    /// </summary>
    protected internal virtual Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(context);
        Signal signal = input;
        foreach (var (_, child) in _children)
        {
            signal = TraceChild(context, name, child, signal);
        }

        return signal;
    }

    /// <summary>Traces a child module under its qualified name and records its row in the table.</summary>
    protected Signal TraceChild(TraceContext context, string name, Module child, Signal input)
    {
        ArgumentNullException.ThrowIfNull(context);
        string childName = _children.FirstOrDefault(c => ReferenceEquals(c.Value, child)).Key
            ?? throw new ArgumentException($"{child?.TypeName} is not a child of {TypeName}", nameof(child));
        return context.Call(child, Qualify(name, childName), input);
    }

    /// <summary>Joins a prefix and a name with a dot, as PyTorch does ("" + "conv1" is "conv1").</summary>
    public static string Qualify(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    private static bool IsIgnored(string key) => key == "num_batches_tracked" || key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    private IEnumerable<KeyValuePair<string, Tensor>> Tensors(bool includeParameters, bool includeBuffers)
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk(this, "", seen);

        IEnumerable<KeyValuePair<string, Tensor>> Walk(Module m, string prefix, HashSet<Module> seenModules)
        {
            if (!seenModules.Add(m))
            {
                yield break;
            }

            if (includeParameters)
            {
                foreach (var (name, t) in m._parameters)
                {
                    yield return new(Qualify(prefix, name), t);
                }
            }

            if (includeBuffers)
            {
                foreach (var (name, t) in m._buffers)
                {
                    yield return new(Qualify(prefix, name), t);
                }
            }

            foreach (var (name, child) in m._children)
            {
                foreach (var item in Walk(child, Qualify(prefix, name), seenModules))
                {
                    yield return item;
                }
            }
        }
    }

    private Tensor Register(List<KeyValuePair<string, Tensor>> list, string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name);
        list.Add(new(name, value));
        return value;
    }

    private void CheckName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"a module or tensor name cannot contain '.', got '{name}'", nameof(name));
        }

        if (_parameters.Any(p => p.Key == name) || _buffers.Any(p => p.Key == name) || _children.Any(p => p.Key == name))
        {
            throw new ArgumentException($"{TypeName} already has a member named '{name}'", nameof(name));
        }
    }
}
