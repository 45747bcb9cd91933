using System.Collections;
using System.Diagnostics.CodeAnalysis;
using Learn.Tensors;

namespace Learn.IO;

/// <summary>
/// PyTorch's <c>state_dict</c>: tensors by name (<c>conv1.conv.weight</c>, <c>conv1.bn.running_var</c> ...),
/// in insertion order, which is the order PyTorch registers parameters and buffers. All tensors are float32.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "PyTorch's name for the concept.")]
public sealed class StateDict : IReadOnlyDictionary<string, Tensor>
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal);

    /// <summary>The names in insertion order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The number of tensors.</summary>
    public int Count => _names.Count;

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">There is no such name; the message lists a few that exist.</exception>
    public Tensor this[string name] => _tensors.TryGetValue(name, out Tensor? t)
        ? t
        : throw new KeyNotFoundException($"no tensor '{name}' in the state_dict ({Count} tensors, e.g. {string.Join(", ", _names.Take(3))})");

    IEnumerable<string> IReadOnlyDictionary<string, Tensor>.Keys => _names;

    IEnumerable<Tensor> IReadOnlyDictionary<string, Tensor>.Values => _names.Select(n => _tensors[n]);

    /// <summary>Adds a tensor at the end.</summary>
    /// <exception cref="ArgumentException">The name is empty or already present.</exception>
    public void Add(string name, Tensor tensor)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_tensors.TryAdd(name, tensor))
        {
            throw new ArgumentException($"the state_dict already has a tensor '{name}'", nameof(name));
        }

        _names.Add(name);
    }

    /// <inheritdoc />
    public bool ContainsKey(string key) => _tensors.ContainsKey(key);

    /// <inheritdoc />
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value) => _tensors.TryGetValue(key, out value);

    /// <summary>Enumerates (name, tensor) in insertion order.</summary>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
    {
        foreach (string name in _names)
        {
            yield return new(name, _tensors[name]);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The state_dict as a model loads it: a leading <c>module.</c> (added by <c>nn.DataParallel</c>) is
    /// stripped from every name, and the <c>num_batches_tracked</c> counters of BatchNorm (training
    /// bookkeeping, unused in eval mode) are dropped. Order is kept.
    /// </summary>
    /// <exception cref="InvalidDataException">Two names become equal after stripping (e.g. <c>a</c> and <c>module.a</c>).</exception>
    public StateDict Normalized()
    {
        var result = new StateDict();
        foreach (string name in _names)
        {
            if (IsBatchCounter(name))
            {
                continue;
            }

            string stripped = name.StartsWith(ModulePrefix, StringComparison.Ordinal) && name.Length > ModulePrefix.Length
                ? name[ModulePrefix.Length..]
                : name;
            if (result.ContainsKey(stripped))
            {
                throw new InvalidDataException($"the state_dict has both '{stripped}' and '{ModulePrefix}{stripped}'");
            }

            result.Add(stripped, _tensors[name]);
        }

        return result;
    }

    private const string ModulePrefix = "module.";

    private static bool IsBatchCounter(string name) =>
        name == "num_batches_tracked" || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);
}
