using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Learn.IO;

/// <summary>
/// Reads one Python pickle (protocols 1 to 5: the opcodes <c>torch.save</c> writes with any pickle_protocol it
/// accepts; protocol 0 cannot hold torch.save's tuple persistent ids) into plain data,
/// accepting only what a state_dict needs - the same allow-list idea as <c>torch.load(weights_only=True)</c>.
/// </summary>
/// <remarks>
/// A pickle is a program for a stack machine; GLOBAL names a Python object and REDUCE calls it, which is
/// how an ordinary pickle can run <c>os.system</c>. This reader never resolves a name to anything
/// executable: GLOBAL yields a <see cref="PickleGlobal"/> only for the handful of names on the list below,
/// and REDUCE on one of those is interpreted here (an empty OrderedDict, a strided tensor reference).
/// Any other name, any class instantiation (NEWOBJ, INST, OBJ) and any BUILD on something other than a
/// dict is refused with an <see cref="InvalidDataException"/> naming the file and the global and saying
/// "nothing from the file was executed".
/// Every length read from the file is checked against the bytes that remain before anything is allocated.
/// Opcode reference: CPython's Lib/pickle.py and Lib/pickletools.py.
/// </remarks>
internal sealed class RestrictedUnpickler
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _data;
    private readonly string _name;
    private readonly string _what;
    private readonly Dictionary<long, object?> _memo = [];
    private readonly Stack<List<object?>> _marks = new();
    private readonly Dictionary<string, StorageRef> _storages;
    private List<object?> _stack = [];
    private int _pos;
    private int _opAt;

    private RestrictedUnpickler(byte[] data, int start, string name, string what, Dictionary<string, StorageRef> storages)
    {
        _data = data;
        _pos = start;
        _name = name;
        _what = what;
        _storages = storages;
    }

    /// <summary>
    /// Reads the pickle that starts at <paramref name="position"/> and moves <paramref name="position"/> past its STOP.
    /// <paramref name="name"/> (the file) and <paramref name="what"/> (which pickle) appear in every error.
    /// Storage references met are recorded in <paramref name="storages"/> by key.
    /// </summary>
    public static object? Load(byte[] data, ref int position, string name, string what, Dictionary<string, StorageRef> storages)
    {
        var reader = new RestrictedUnpickler(data, position, name, what, storages);
        object? result = reader.Run();
        position = reader._pos;
        return result;
    }

    private object? Run()
    {
        while (true)
        {
            _opAt = _pos;
            byte op = ReadByte();
            switch (op)
            {
                case 0x80: // PROTO
                    int protocol = ReadByte();
                    if (protocol > 5)
                    {
                        throw Bad($"pickle protocol {protocol} is not supported (1 to 5 are)");
                    }

                    break;
                case 0x95: // FRAME: a length hint; the opcodes inside are read as usual.
                    ulong frame = ReadUInt64();
                    if (frame > (ulong)(_data.Length - _pos))
                    {
                        throw Truncated($"a frame of {frame} bytes");
                    }

                    break;
                case (byte)'.': // STOP
                    return Pop();
                case (byte)'(': // MARK
                    _marks.Push(_stack);
                    _stack = [];
                    break;
                case (byte)'0': // POP
                    if (_stack.Count > 0)
                    {
                        Pop();
                    }
                    else
                    {
                        PopMark();
                    }

                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;
                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'J': // BININT: signed 32-bit
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)));
                    break;
                case (byte)'I': // INT: decimal text; protocol 1 writes True/False as "I01"/"I00" and big ints this way
                    Push(ReadTextInt(ReadLine()));
                    break;
                case (byte)'L': // LONG: decimal text with a trailing 'L' (protocol 1; the legacy magic number)
                    Push(ReadTextLong(ReadLine()));
                    break;
                case (byte)'F': // FLOAT: repr() text
                    {
                        string text = ReadLine();
                        Push(double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double f)
                            ? f
                            : throw Bad($"FLOAT '{text}' is not a number"));
                        break;
                    }

                case (byte)'K': // BININT1: unsigned 8-bit
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2: unsigned 16-bit
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)));
                    break;
                case 0x8a: // LONG1: n bytes of two's complement, little-endian
                    Push(DecodeLong(ReadBytes(ReadByte())));
                    break;
                case 0x8b: // LONG4
                    Push(DecodeLong(ReadBytes(ReadInt32Length())));
                    break;
                case (byte)'G': // BINFLOAT: big-endian float64
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                    break;
                case 0x8c: // SHORT_BINUNICODE
                    Push(DecodeUtf8(ReadBytes(ReadByte())));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(DecodeUtf8(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))));
                    break;
                case 0x8d: // BINUNICODE8
                    Push(DecodeUtf8(ReadBytes(ReadUInt64())));
                    break;
                case (byte)'U': // SHORT_BINSTRING: a Python 2 str
                    Push(Python2String(ReadBytes(ReadByte())));
                    break;
                case (byte)'T': // BINSTRING
                    Push(Python2String(ReadBytes(ReadInt32Length())));
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(ReadBytes(ReadByte()).ToArray());
                    break;
                case (byte)'B': // BINBYTES
                    Push(ReadBytes(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))).ToArray());
                    break;
                case 0x8e or 0x96: // BINBYTES8, BYTEARRAY8
                    Push(ReadBytes(ReadUInt64()).ToArray());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(new PickleTuple([]));
                    break;
                case (byte)'t': // TUPLE
                    Push(new PickleTuple([.. PopMark()]));
                    break;
                case 0x85: // TUPLE1
                    Push(new PickleTuple([Pop()]));
                    break;
                case 0x86: // TUPLE2
                    {
                        object? b = Pop(), a = Pop();
                        Push(new PickleTuple([a, b]));
                        break;
                    }

                case 0x87: // TUPLE3
                    {
                        object? c = Pop(), b = Pop(), a = Pop();
                        Push(new PickleTuple([a, b, c]));
                        break;
                    }

                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)'l': // LIST
                    Push(PopMark());
                    break;
                case (byte)'a': // APPEND
                    {
                        object? item = Pop();
                        TopList("APPEND").Add(item);
                        break;
                    }

                case (byte)'e': // APPENDS
                    {
                        List<object?> items = PopMark();
                        TopList("APPENDS").AddRange(items);
                        break;
                    }

                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)'d': // DICT
                    {
                        var dict = new PickleDict();
                        SetItems(dict, PopMark());
                        Push(dict);
                        break;
                    }

                case (byte)'s': // SETITEM
                    {
                        object? value = Pop(), key = Pop();
                        TopDict("SETITEM").Set(key, value);
                        break;
                    }

                case (byte)'u': // SETITEMS
                    {
                        List<object?> items = PopMark();
                        SetItems(TopDict("SETITEMS"), items);
                        break;
                    }

                case (byte)'q': // BINPUT
                    _memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek();
                    break;
                case 0x94: // MEMOIZE: the next free memo slot
                    _memo[_memo.Count] = Peek();
                    break;
                case (byte)'h': // BINGET
                    Push(MemoGet(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))));
                    break;
                case (byte)'c': // GLOBAL "module\nname\n"
                    {
                        string module = ReadLine();
                        string name = ReadLine();
                        Push(Resolve(module, name));
                        break;
                    }

                case 0x93: // STACK_GLOBAL
                    {
                        object? name = Pop(), module = Pop();
                        if (module is not string m || name is not string n)
                        {
                            throw Bad($"STACK_GLOBAL needs two strings, got {TypeName(module)} and {TypeName(name)}");
                        }

                        Push(Resolve(m, n));
                        break;
                    }

                case (byte)'R': // REDUCE: callable(*args)
                    {
                        object? args = Pop(), callable = Pop();
                        Push(Reduce(callable, args));
                        break;
                    }

                case (byte)'b': // BUILD: instance.__setstate__(state)
                    {
                        object? state = Pop();
                        Build(Peek(), state);
                        break;
                    }

                case (byte)'Q': // BINPERSID: torch.save's reference to a storage record
                    Push(PersistentLoad(Pop()));
                    break;
                case (byte)'i' or (byte)'o' or 0x81 or 0x92:
                    throw Refused($"the pickle instantiates a class (opcode {OpcodeName(op)})");
                default:
                    throw Bad($"pickle opcode {OpcodeName(op)} is not supported in a checkpoint");
            }
        }
    }

    // ---- what the allowed globals mean ----------------------------------------------------------

    private PickleGlobal Resolve(string module, string name)
    {
        PickleGlobalKind? kind = (module, name) switch
        {
            ("collections", "OrderedDict") => PickleGlobalKind.OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2") => PickleGlobalKind.RebuildTensorV2,
            ("torch._utils", "_rebuild_tensor") => PickleGlobalKind.RebuildTensor,
            ("torch._utils", "_rebuild_parameter") => PickleGlobalKind.RebuildParameter,
            ("torch._utils", "_rebuild_parameter_with_state") => PickleGlobalKind.RebuildParameterWithState,

            // Plain data that training checkpoints hold beside the state_dict (torchreid saves the rank-1
            // accuracy as a numpy scalar and the LR scheduler's milestones as a Counter). Interpreted here as
            // data constructors, never called; PyTorch 2's weights_only list accepts them too.
            ("collections", "Counter") => PickleGlobalKind.Counter,
            ("_codecs", "encode") => PickleGlobalKind.CodecsEncode,
            ("numpy", "dtype") => PickleGlobalKind.NumpyDtype,
            ("numpy.core.multiarray" or "numpy._core.multiarray", "scalar") => PickleGlobalKind.NumpyScalar,
            _ => null,
        };
        if (kind is { } k)
        {
            return new PickleGlobal(module, name, k);
        }

        if (module == "torch" && ElementTypes.TryFromTorchStorage(name, out ElementType type))
        {
            return new PickleGlobal(module, name, PickleGlobalKind.StorageType, type);
        }

        string hint = name.Length > 0 && char.IsUpper(name[0])
            ? "; it looks like a pickled object - save its state_dict() instead"
            : string.Empty;
        throw Refused($"refusing global '{module}.{name}': a checkpoint may hold only tensors and plain containers{hint}");
    }

    private object? Reduce(object? callable, object? args)
    {
        if (callable is not PickleGlobal g)
        {
            throw Refused($"REDUCE calls a {TypeName(callable)}, which is not an allowed function");
        }

        if (args is not PickleTuple a)
        {
            throw Bad($"{g.FullName} is called with a {TypeName(args)} instead of an argument tuple");
        }

        switch (g.Kind)
        {
            case PickleGlobalKind.OrderedDict when a.Count == 0:
                return new PickleDict();
            case PickleGlobalKind.RebuildTensorV2 when a.Count is 6 or 7:
                // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
                if (a[5] is not PickleDict { Count: 0 })
                {
                    throw Refused($"{g.FullName}: backward hooks must be an empty dict, got {TypeName(a[5])}");
                }

                return RebuildTensor(g, a);
            case PickleGlobalKind.RebuildTensor when a.Count == 4:
                return RebuildTensor(g, a);
            case PickleGlobalKind.RebuildParameter when a.Count == 3 && a[0] is TensorRef:
                return a[0];
            case PickleGlobalKind.RebuildParameterWithState when a.Count == 4 && a[0] is TensorRef && a[3] is PickleDict:
                return a[0];
            case PickleGlobalKind.Counter when a.Count == 0:
                return new PickleDict();
            case PickleGlobalKind.Counter when a.Count == 1 && a[0] is PickleDict counts:
                return counts;
            case PickleGlobalKind.CodecsEncode when a.Count == 2 && a[0] is string text && a[1] is "latin1" or "latin-1":
                return text.All(c => c <= 0xff) ? Encoding.Latin1.GetBytes(text) : throw Bad("_codecs.encode: a latin1 string holds a character above U+00FF");
            case PickleGlobalKind.NumpyDtype when a.Count == 3 && a[0] is string code && NumpySize(code) > 0:
                return new NumpyDtype(code);
            case PickleGlobalKind.NumpyScalar when a.Count == 2 && a[0] is NumpyDtype dtype && a[1] is byte[] raw:
                return NumpyScalar(dtype, raw);
            case PickleGlobalKind.StorageType:
                throw Refused($"{g.FullName} may only appear inside a storage reference, not be called");
            default:
                throw Bad($"{g.FullName} is called with {a.Count} arguments ({string.Join(", ", a.Items.Select(TypeName))}), which a state_dict never does");
        }
    }

    /// <summary>Bytes per element of the numpy dtype codes a scalar may have; 0 for any other code.</summary>
    private static int NumpySize(string code) => code switch
    {
        "f8" or "i8" or "u8" => 8,
        "f4" or "i4" or "u4" => 4,
        "f2" or "i2" or "u2" => 2,
        "i1" or "u1" or "b1" => 1,
        _ => 0,
    };

    private object NumpyScalar(NumpyDtype dtype, byte[] raw)
    {
        if (raw.Length != NumpySize(dtype.Code))
        {
            throw Bad($"numpy scalar of dtype '{dtype.Code}' has {raw.Length} bytes");
        }

        byte[] b = (byte[])raw.Clone();
        if (dtype.ByteOrder == '>')
        {
            Array.Reverse(b);
        }

        return dtype.Code switch
        {
            "f8" => (object)BinaryPrimitives.ReadDoubleLittleEndian(b),
            "f4" => (object)(double)BinaryPrimitives.ReadSingleLittleEndian(b),
            "f2" => (object)(double)BinaryPrimitives.ReadHalfLittleEndian(b),
            "i8" => (object)BinaryPrimitives.ReadInt64LittleEndian(b),
            "i4" => (object)(long)BinaryPrimitives.ReadInt32LittleEndian(b),
            "i2" => (object)(long)BinaryPrimitives.ReadInt16LittleEndian(b),
            "i1" => (object)(long)(sbyte)b[0],
            "u8" => BinaryPrimitives.ReadUInt64LittleEndian(b) is var u && u <= long.MaxValue ? (object)(long)u : new BigInteger(u),
            "u4" => (object)(long)BinaryPrimitives.ReadUInt32LittleEndian(b),
            "u2" => (object)(long)BinaryPrimitives.ReadUInt16LittleEndian(b),
            "u1" => (object)(long)b[0],
            _ => (object)(b[0] != 0), // b1
        };
    }

    private TensorRef RebuildTensor(PickleGlobal g, PickleTuple a)
    {
        if (a[0] is not StorageRef storage)
        {
            throw Bad($"{g.FullName}: the first argument is a {TypeName(a[0])}, not a storage");
        }

        long offset = a[1] is long o && o >= 0 ? o : throw Bad($"{g.FullName}: storage offset {Show(a[1])} is not a non-negative int");
        long[] size = IntTuple(g, "size", a[2]);
        long[] stride = IntTuple(g, "stride", a[3]);
        if (size.Length != stride.Length)
        {
            throw Bad($"{g.FullName}: size has {size.Length} dimensions but stride has {stride.Length}");
        }

        return new TensorRef(storage, offset, size, stride);
    }

    private long[] IntTuple(PickleGlobal g, string what, object? value)
    {
        if (value is not PickleTuple t)
        {
            throw Bad($"{g.FullName}: {what} is a {TypeName(value)}, not a tuple");
        }

        var result = new long[t.Count];
        for (int i = 0; i < t.Count; i++)
        {
            result[i] = t[i] is long v && v >= 0 ? v : throw Bad($"{g.FullName}: {what} element {i} is {Show(t[i])}, not a non-negative int");
        }

        return result;
    }

    private void Build(object? instance, object? state)
    {
        // OrderedDict attributes, e.g. the _metadata (module versions) every state_dict carries.
        if (instance is PickleDict && state is PickleDict or null)
        {
            return;
        }

        // numpy.dtype.__setstate__((version, byteorder, subarray, names, fields, elsize, alignment, flags))
        if (instance is NumpyDtype dtype && state is PickleTuple { Count: >= 2 } t && t[1] is "<" or ">" or "|" or "=")
        {
            dtype.ByteOrder = ((string)t[1]!)[0];
            return;
        }

        throw Refused($"BUILD (__setstate__) on a {TypeName(instance)} with a {TypeName(state)} state is not allowed");
    }

    private StorageRef PersistentLoad(object? pid)
    {
        // zip: ('storage', torch.FloatStorage, key, location, numel)
        // legacy: ('storage', torch.FloatStorage, root_key, location, numel, view_metadata or None)
        if (pid is not PickleTuple t || t.Count == 0 || !IsText(t[0], "storage"))
        {
            throw Refused($"persistent id {Show(pid)} is not a storage reference");
        }

        if (t.Count is not (5 or 6)
            || t[1] is not PickleGlobal { Kind: PickleGlobalKind.StorageType } type
            || AsText(t[2]) is not { } key
            || AsText(t[3]) is null
            || t[4] is not long numel || numel < 0)
        {
            throw Bad($"malformed storage reference {Show(pid)}");
        }

        // Every storage must fit one array, which also keeps numel * element size from overflowing later.
        if (numel > Array.MaxLength / ElementTypes.Size(type.Storage))
        {
            throw Bad($"storage '{key}' of {numel} x {type.Storage} is too large (over 2 GB)");
        }

        if (_storages.TryGetValue(key, out StorageRef? known) && (known.Type != type.Storage || known.RootNumel != numel))
        {
            throw Bad($"storage '{key}' is referenced as {known.RootNumel} x {known.Type} and as {numel} x {type.Storage}");
        }

        var root = known ?? new StorageRef(type.Storage, key, numel, 0, numel);
        _storages[key] = root;
        if (t.Count == 5 || t[5] is null)
        {
            return root;
        }

        // A view into the root storage (files from PyTorch before 0.4): (view_key, offset, size) in elements.
        if (t[5] is not PickleTuple { Count: 3 } view || AsText(view[0]) is null
            || view[1] is not long viewOffset || view[2] is not long viewSize
            || viewOffset < 0 || viewSize < 0 || viewOffset > numel - viewSize)
        {
            throw Bad($"malformed storage view {Show(t[5])} of storage '{key}' ({numel} elements)");
        }

        return root with { ViewOffset = viewOffset, Numel = viewSize };
    }

    // ---- stack, memo and bytes ------------------------------------------------------------------

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count == 0)
        {
            throw Bad("the pickle pops from an empty stack");
        }

        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Bad("the pickle reads from an empty stack");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Bad("the pickle closes a MARK that was never opened");
        }

        List<object?> items = _stack;
        _stack = _marks.Pop();
        return items;
    }

    private List<object?> TopList(string op) =>
        Peek() as List<object?> ?? throw Bad($"{op} on a {TypeName(Peek())}, not a list");

    private PickleDict TopDict(string op) =>
        Peek() as PickleDict ?? throw Bad($"{op} on a {TypeName(Peek())}, not a dict");

    private void SetItems(PickleDict dict, List<object?> items)
    {
        if (items.Count % 2 != 0)
        {
            throw Bad($"a dict is given {items.Count} items, not key-value pairs");
        }

        for (int i = 0; i < items.Count; i += 2)
        {
            dict.Set(items[i], items[i + 1]);
        }
    }

    private object? MemoGet(long key) =>
        _memo.TryGetValue(key, out object? value) ? value : throw Bad($"memo entry {key} is read before it is written");

    private byte ReadByte() => _pos < _data.Length ? _data[_pos++] : throw Truncated("an opcode");

    private ReadOnlySpan<byte> ReadBytes(ulong count)
    {
        if (count > (ulong)(_data.Length - _pos))
        {
            throw Truncated($"{count} bytes");
        }

        var span = new ReadOnlySpan<byte>(_data, _pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    private uint ReadInt32Length()
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));
        return n >= 0 ? (uint)n : throw Bad($"negative length {n}");
    }

    /// <summary>INT's argument, as pickle.py reads it: "01"/"00" are True/False, else a decimal integer.</summary>
    private object ReadTextInt(string text) => text switch
    {
        "01" => true,
        "00" => false,
        _ => ReadTextLong(text),
    };

    /// <summary>A decimal integer with an optional trailing 'L': a long when it fits, else a BigInteger (at most 1000 digits).</summary>
    private object ReadTextLong(string text)
    {
        string digits = text.EndsWith('L') ? text[..^1] : text;
        bool plain = digits.Length is > 0 and <= 1000
            && digits.Select((c, i) => char.IsAsciiDigit(c) || (i == 0 && c is '-' or '+')).All(ok => ok)
            && digits.Any(char.IsAsciiDigit);
        if (!plain || !BigInteger.TryParse(digits, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out BigInteger value))
        {
            throw Bad($"integer '{text}' is not a decimal integer");
        }

        return DecodeLong(value.ToByteArray()); // a long when it fits, as LONG1 gives
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0)
        {
            throw Truncated("a line ending with '\\n'");
        }

        string line = DecodeUtf8(new ReadOnlySpan<byte>(_data, _pos, end - _pos));
        _pos = end + 1;
        return line;
    }

    private string DecodeUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Bad("a string is not valid UTF-8");
        }
    }

    /// <summary>
    /// A Python 2 str is bytes: text when it is valid UTF-8 (names, keys), else kept as bytes (e.g. the raw
    /// value of a numpy scalar), where torch.load's default UTF-8 decoding would fail.
    /// </summary>
    private static object Python2String(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return bytes.ToArray();
        }
    }

    private static object DecodeLong(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0)
        {
            return 0L;
        }

        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    // ---- messages -------------------------------------------------------------------------------

    private InvalidDataException Bad(string problem) => new($"{_name}: {_what}: {problem} (at byte {_opAt})");

    private InvalidDataException Truncated(string what) =>
        new($"{_name}: {_what}: the data ends while reading {what} at byte {_opAt} (truncated or corrupted file)");

    private InvalidDataException Refused(string problem) =>
        new($"{_name}: {_what}: {problem} (like torch.load(weights_only=True)); nothing from the file was executed");

    private static bool IsText(object? value, string text) => AsText(value) == text;

    private static string? AsText(object? value) => value switch
    {
        string s => s,
        byte[] b when b.Length < 256 && b.All(c => c < 0x80) => Encoding.ASCII.GetString(b), // Python 2 str as bytes
        _ => null,
    };

    /// <summary>A short Python-like name for the type of a pickled value.</summary>
    internal static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        List<object?> => "list",
        PickleTuple => "tuple",
        PickleDict => "dict",
        PickleGlobal g => g.FullName,
        StorageRef => "storage",
        TensorRef => "tensor",
        NumpyDtype d => $"numpy.dtype('{d.Code}')",
        _ => value.GetType().Name,
    };

    /// <summary>A short rendering for messages; nested tuples stop at depth 2 (a pickle can nest a million deep).</summary>
    private static string Show(object? value) => Show(value, 0);

    private static string Show(object? value, int depth) => value switch
    {
        null => "None",
        string s => $"'{(s.Length > 40 ? s[..40] + "..." : s)}'",
        long l => l.ToString(),
        PickleTuple when depth >= 2 => "(...)",
        PickleTuple t => "(" + string.Join(", ", t.Items.Take(6).Select(i => Show(i, depth + 1))) + (t.Count > 6 ? ", ...)" : ")"),
        _ => TypeName(value),
    };

    private static string OpcodeName(byte op)
    {
        string name = op switch
        {
            (byte)'i' => "INST",
            (byte)'o' => "OBJ",
            0x81 => "NEWOBJ",
            0x92 => "NEWOBJ_EX",
            0x82 or 0x83 or 0x84 => "EXT",
            (byte)'P' => "PERSID (text)",
            (byte)'I' => "INT (text)",
            (byte)'L' => "LONG (text)",
            (byte)'F' => "FLOAT (text)",
            (byte)'S' => "STRING (text)",
            (byte)'V' => "UNICODE (text)",
            (byte)'g' => "GET (text)",
            (byte)'p' => "PUT (text)",
            0x8f => "EMPTY_SET",
            0x90 => "ADDITEMS",
            0x91 => "FROZENSET",
            0x97 => "NEXT_BUFFER",
            0x98 => "READONLY_BUFFER",
            _ => "unknown",
        };
        return op is >= 0x20 and < 0x7f ? $"'{(char)op}' ({name})" : $"0x{op:x2} ({name})";
    }
}
