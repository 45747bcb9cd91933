namespace Learn.IO;

// The values the restricted unpickler builds. Plain data only: Python None, bool, int, float, str and
// bytes become null, bool, long (or BigInteger), double, string and byte[]; lists become List<object?>;
// the rest are the small types below. Nothing here can run code: a "call" in the pickle is only ever
// interpreted by RestrictedUnpickler for the few callables it knows.

/// <summary>A Python tuple (immutable, unlike a list).</summary>
internal sealed class PickleTuple(object?[] items)
{
    public object?[] Items { get; } = items;

    public int Count => Items.Length;

    public object? this[int i] => Items[i];
}

/// <summary>A Python dict or collections.OrderedDict: insertion-ordered; a repeated key replaces the value in place.</summary>
internal sealed class PickleDict
{
    private static readonly object NoneKey = new();
    private readonly List<KeyValuePair<object?, object?>> _entries = [];
    private readonly Dictionary<object, int> _index = [];

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;

    public void Set(object? key, object? value)
    {
        // Value equality for str/int/float/bool keys (what state_dicts use); tuples compare by reference.
        object lookup = key ?? NoneKey;
        if (_index.TryGetValue(lookup, out int at))
        {
            _entries[at] = new(key, value);
        }
        else
        {
            _index[lookup] = _entries.Count;
            _entries.Add(new(key, value));
        }
    }

    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out int at))
        {
            value = _entries[at].Value;
            return true;
        }

        value = null;
        return false;
    }
}

/// <summary>One of the few globals a state_dict needs, already checked against the allow-list.</summary>
internal sealed record PickleGlobal(string Module, string Name, PickleGlobalKind Kind, ElementType Storage = ElementType.Float32)
{
    public string FullName => $"{Module}.{Name}";
}

/// <summary>What an allowed global stands for.</summary>
internal enum PickleGlobalKind
{
    /// <summary>collections.OrderedDict: called with no arguments, it makes an empty dict.</summary>
    OrderedDict,

    /// <summary>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]).</summary>
    RebuildTensorV2,

    /// <summary>torch._utils._rebuild_tensor(storage, offset, size, stride) (older files).</summary>
    RebuildTensor,

    /// <summary>torch._utils._rebuild_parameter(data, requires_grad, hooks): the tensor itself.</summary>
    RebuildParameter,

    /// <summary>torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state) (PyTorch 2).</summary>
    RebuildParameterWithState,

    /// <summary>torch.FloatStorage and friends: only valid inside a storage reference, never called.</summary>
    StorageType,

    /// <summary>collections.Counter(dict): a dict (LR schedulers' milestones).</summary>
    Counter,

    /// <summary>_codecs.encode(str, 'latin1'): how protocol 2 pickles Python 3 bytes.</summary>
    CodecsEncode,

    /// <summary>numpy.dtype('f4', False, True): the dtype of a numpy scalar.</summary>
    NumpyDtype,

    /// <summary>numpy.core.multiarray.scalar(dtype, bytes): a numpy number such as a saved rank-1 accuracy.</summary>
    NumpyScalar,
}

/// <summary>A numpy dtype as pickled (<c>'f4'</c>, <c>'i8'</c> ...); BUILD sets its byte order.</summary>
internal sealed class NumpyDtype(string code)
{
    public string Code { get; } = code;

    public char ByteOrder { get; set; } = '<';
}

/// <summary>
/// A reference to a storage record, from a persistent id <c>('storage', torch.FloatStorage, key, location, numel[, view])</c>.
/// A legacy view covers elements [ViewOffset, ViewOffset + Numel) of the root storage <see cref="Key"/>.
/// </summary>
internal sealed record StorageRef(ElementType Type, string Key, long RootNumel, long ViewOffset, long Numel);

/// <summary>A tensor still to be read: a strided window into a storage, as torch's _rebuild_tensor describes it.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);
