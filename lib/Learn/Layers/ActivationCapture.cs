using Learn.Tensors;

namespace Learn.Layers;

/// <summary>Receives layer outputs during <see cref="Module.Forward(Tensor, IActivationSink)"/>.</summary>
public interface IActivationSink
{
    /// <summary>
    /// Called after the module named <paramref name="name"/> (qualified, as in <see cref="Module.NamedModules"/>)
    /// produced <paramref name="output"/>. <paramref name="call"/> counts calls of that module in this forward
    /// pass from 1: a module used several times (OSNet's shared channel gate runs once per stream) reports each.
    /// </summary>
    void Record(string name, int call, Tensor output);
}

/// <summary>
/// Keeps captured outputs in order, keyed by name; the second and later calls of a module are keyed
/// <c>name@2</c>, <c>name@3</c> ... (the names <c>learn osnet --activations</c> uses for files).
/// </summary>
public sealed class ActivationRecorder : IActivationSink
{
    private readonly Func<string, bool>? _include;
    private readonly List<KeyValuePair<string, Tensor>> _items = [];

    /// <summary>Records every layer, or only those whose name <paramref name="include"/> accepts.</summary>
    public ActivationRecorder(Func<string, bool>? include = null)
    {
        _include = include;
    }

    /// <summary>The outputs in the order they were produced.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Items => _items;

    /// <summary>The output recorded under <paramref name="key"/>.</summary>
    public Tensor this[string key] => _items.First(p => p.Key == key).Value;

    /// <summary>The key of a module call: <c>name</c> for the first call, <c>name@k</c> for the k-th.</summary>
    public static string KeyOf(string name, int call) => call == 1 ? name : $"{name}@{call}";

    /// <inheritdoc />
    public void Record(string name, int call, Tensor output)
    {
        if (_include is null || _include(name))
        {
            _items.Add(new(KeyOf(name, call), output));
        }
    }
}

/// <summary>The capture in progress on this thread of execution (set by the root's Forward, read by every layer).</summary>
internal static class ActivationCapture
{
    private static readonly AsyncLocal<Scope?> Current = new();

    public static IDisposable Begin(Module root, IActivationSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        var names = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in root.NamedModules())
        {
            names[module] = name;
        }

        var scope = new Scope(names, sink, Current.Value);
        Current.Value = scope;
        return scope;
    }

    public static void Report(Module module, Tensor output)
    {
        Scope? scope = Current.Value;
        if (scope is null || !scope.Names.TryGetValue(module, out string? name) || name.Length == 0)
        {
            return; // no capture, a module outside the root's tree, or the root itself (the caller has its output)
        }

        scope.Calls.TryGetValue(name, out int calls);
        scope.Calls[name] = ++calls;
        scope.Sink.Record(name, calls, output);
    }

    private sealed class Scope(Dictionary<Module, string> names, IActivationSink sink, Scope? previous) : IDisposable
    {
        public Dictionary<Module, string> Names { get; } = names;

        public IActivationSink Sink { get; } = sink;

        public Dictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

        public void Dispose() => Current.Value = previous;
    }
}
