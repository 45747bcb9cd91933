using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.InteropServices;
using Learn.Tensors;

namespace Learn.IO;

/// <summary>
/// Reads the state_dict out of a file written by <c>torch.save</c>, in either of its formats, without
/// executing anything from the file (see <see cref="RestrictedUnpickler"/>):
/// <list type="bullet">
/// <item>the zip format (PyTorch 1.6 and later): <c>FOLDER/data.pkl</c> holds the pickle, each storage is
/// the record <c>FOLDER/data/KEY</c>, and <c>FOLDER/byteorder</c> (PyTorch 2) says "little" or "big";</item>
/// <item>the legacy format (<c>_use_new_zipfile_serialization=False</c>, and every file before 1.6): the
/// pickles of the magic number, the protocol version (1001) and sys_info, then the main pickle, then a
/// pickled list of storage keys, then per key an int64 little-endian element count and the raw
/// little-endian bytes.</item>
/// </list>
/// The state_dict may be the whole object or sit in a training checkpoint (<c>{'state_dict': ...,
/// 'epoch': ...}</c>, <c>{'model': ...}</c>). The result is <see cref="StateDict.Normalized"/>: <c>module.</c>
/// prefixes stripped and <c>num_batches_tracked</c> dropped. float64, float16, bfloat16 and integer
/// storages are converted to float32 as PyTorch's <c>.float()</c> does; strided views (transposes, slices,
/// expands) are copied out to contiguous tensors.
/// </summary>
public static class TorchCheckpoint
{
    // torch/serialization.py: MAGIC_NUMBER = 0x1950a86a20f9469cfc6c, PROTOCOL_VERSION = 1001.
    private static readonly BigInteger LegacyMagic = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);
    private const long LegacyProtocolVersion = 1001;

    /// <summary>Where a training checkpoint usually keeps its state_dict, tried in this order.</summary>
    private static readonly string[] NestedKeys = ["state_dict", "model_state_dict", "model", "net", "network"];

    /// <summary>Loads the (normalized) state_dict of a torch.save file.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable, truncated, corrupted or not a state_dict,
    /// or it holds more than tensors and plain containers (refused: the message names the global and says that
    /// nothing from the file was executed). The message names the file and the problem.</exception>
    public static StateDict Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        // Read whole, bounded by the file's reported size: a device or a FIFO yields what it reports, not an endless stream.
        using var stream = new MemoryStream(InputFile.ReadAllBytes(path), writable: false);
        return Load(stream, path);
    }

    /// <summary>Loads the (normalized) state_dict of torch.save bytes; <paramref name="name"/> names the source in errors.</summary>
    /// <inheritdoc cref="Load(string)" path="/exception" />
    public static StateDict Load(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(name);
        if (!stream.CanSeek)
        {
            // The caller's stream, the caller's bound (files go through InputFile, bounded by their size).
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        try
        {
            Span<byte> head = stackalloc byte[262];
            long start = stream.Position;
            int got = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            stream.Position = start;
            head = head[..got];
            if (got >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
            {
                return LoadZip(stream, name);
            }

            if (got >= 2 && (head[0] == 0x80 || head[..2].SequenceEqual("L1"u8)))
            {
                return LoadLegacy(ReadAll(stream, name), name);
            }

            if (got >= 262 && head[257..262].SequenceEqual("ustar"u8))
            {
                throw Bad(name, "a tar archive: the tar-format checkpoints of the earliest PyTorch versions are not supported; load and re-save it with torch.save");
            }

            throw Bad(name, got == 0
                ? "the file is empty"
                : $"not a torch.save file: it starts with bytes {Convert.ToHexString(head[..Math.Min(got, 4)])}, neither a zip archive (50 4B 03 04) nor a legacy pickle (80, or 4C 31 with pickle protocol 1)");
        }
        catch (IOException e)
        {
            throw Bad(name, $"read error: {e.Message}", e);
        }
    }

    // ---- the zip format -------------------------------------------------------------------------

    private static StateDict LoadZip(Stream stream, string name)
    {
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            _ = archive.Entries.Count; // reads the central directory, where most damage shows
        }
        catch (InvalidDataException e)
        {
            throw Bad(name, $"not a readable zip archive (truncated or corrupted?): {e.Message}", e);
        }

        using (archive)
        {
            // One behaviour per file: torch.load takes the last of two same-named records, other readers the first.
            if (archive.Entries.GroupBy(e => e.FullName, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw Bad(name, $"the zip archive holds the record '{Printable.Escape(twice.Key)}' {twice.Count()} times (readers disagree on which copy counts)");
            }

            // torch.save stores its records uncompressed, so together they fit in the file. A header's claim past
            // that (a deflate bomb, or a lie) is refused before anything is decompressed or allocated.
            long declared = archive.Entries.Sum(e => e.Length);
            if (declared > stream.Length)
            {
                throw Bad(name, $"the zip records declare {declared} bytes in all, more than the {stream.Length}-byte file holds: compressed checkpoints are not supported (torch.save stores records uncompressed)");
            }

            // torch.save names the single top folder after the file ('archive' since PyTorch 2).
            var pickles = archive.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
            if (archive.Entries.Any(e => e.FullName.Contains("/code/", StringComparison.Ordinal) || e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal)))
            {
                throw Bad(name, "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save model.state_dict() with torch.save");
            }

            if (pickles.Count != 1)
            {
                throw Bad(name, pickles.Count == 0
                    ? "the zip archive has no FOLDER/data.pkl record: not a torch.save checkpoint"
                    : $"the zip archive has {pickles.Count} data.pkl records ({string.Join(", ", pickles.Select(p => p.FullName))})");
            }

            string folder = pickles[0].FullName[..^"/data.pkl".Length];
            byte[] pickle = ReadEntry(pickles[0], name);
            var storages = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
            int position = 0;
            object? root = RestrictedUnpickler.Load(pickle, ref position, name, pickles[0].FullName, storages);

            bool bigEndian = false;
            if (archive.GetEntry($"{folder}/byteorder") is { } order)
            {
                string text = System.Text.Encoding.ASCII.GetString(ReadEntry(order, name)).Trim();
                bigEndian = text switch
                {
                    "little" => false,
                    "big" => true,
                    _ => throw Bad(name, $"{order.FullName} says '{text}', neither 'little' nor 'big'"),
                };
            }

            var records = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            ReadOnlySpan<byte> Record(StorageRef storage)
            {
                if (!records.TryGetValue(storage.Key, out byte[]? bytes))
                {
                    string recordName = $"{folder}/data/{storage.Key}";
                    ZipArchiveEntry entry = archive.GetEntry(recordName)
                        ?? throw Bad(name, $"storage record '{recordName}' is missing (truncated or corrupted file?)");
                    long expected = storage.RootNumel * ElementTypes.Size(storage.Type);
                    if (entry.Length != expected)
                    {
                        throw Bad(name, $"storage record '{recordName}' has {entry.Length} bytes but the pickle says {storage.RootNumel} x {storage.Type} = {expected} bytes");
                    }

                    bytes = ReadEntry(entry, name);
                    records[storage.Key] = bytes;
                }

                return bytes;
            }

            return Build(root, name, Record, bigEndian, stream.Length);
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, string name)
    {
        if (entry.Length > Array.MaxLength)
        {
            throw Bad(name, $"record '{entry.FullName}' is too large ({entry.Length} bytes)");
        }

        var bytes = new byte[entry.Length];
        int got;
        try
        {
            using Stream s = entry.Open();
            got = s.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (got == bytes.Length && s.ReadByte() != -1)
            {
                got = -1;
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            // Damaged compressed data, a CRC mismatch, or a local header that disagrees with the directory.
            throw Bad(name, $"record '{entry.FullName}' is corrupted: {e.Message}", e);
        }

        if (got != bytes.Length)
        {
            throw Bad(name, $"record '{entry.FullName}' does not hold the {entry.Length} bytes its header declares");
        }

        return bytes;
    }

    // ---- the legacy format ----------------------------------------------------------------------

    private static StateDict LoadLegacy(byte[] data, string name)
    {
        var none = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        int position = 0;
        object? magic = RestrictedUnpickler.Load(data, ref position, name, "the magic number pickle", none);
        if (magic is not BigInteger m || m != LegacyMagic)
        {
            throw Bad(name, "wrong magic number: not a torch.save file (or a corrupted one)");
        }

        object? version = RestrictedUnpickler.Load(data, ref position, name, "the protocol version pickle", none);
        if (version is not long v || v != LegacyProtocolVersion)
        {
            throw Bad(name, $"legacy protocol version {RestrictedUnpickler.TypeName(version)} {version} is not {LegacyProtocolVersion}");
        }

        // sys_info: byte order and C type sizes of the saving machine. The storage records below are
        // little-endian whatever it says (torch/csrc/StorageMethods: _write_file converts).
        if (RestrictedUnpickler.Load(data, ref position, name, "the sys_info pickle", none) is not PickleDict)
        {
            throw Bad(name, "the sys_info pickle is not a dict");
        }

        var storages = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        object? root = RestrictedUnpickler.Load(data, ref position, name, "the main pickle", storages);
        if (RestrictedUnpickler.Load(data, ref position, name, "the storage key list", none) is not List<object?> keys)
        {
            throw Bad(name, "the storage key list is not a list");
        }

        // Each record: int64 element count, then count * element size bytes.
        var offsets = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (object? k in keys)
        {
            if (k is not string key || !storages.TryGetValue(key, out StorageRef? storage))
            {
                throw Bad(name, $"the storage key list names {(k is string s ? $"'{s}'" : RestrictedUnpickler.TypeName(k))}, which the main pickle never references");
            }

            if (offsets.ContainsKey(key))
            {
                throw Bad(name, $"storage '{key}' is listed twice");
            }

            if (data.Length - position < 8)
            {
                throw Bad(name, $"the file ends before the record of storage '{key}' (truncated file)");
            }

            long count = BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(position, 8));
            position += 8;
            if (count != storage.RootNumel)
            {
                throw Bad(name, $"storage '{key}' has a record of {count} elements but the pickle says {storage.RootNumel}");
            }

            long bytes = count * ElementTypes.Size(storage.Type);
            if (bytes > data.Length - position)
            {
                throw Bad(name, $"the file ends inside the record of storage '{key}' ({bytes} bytes, {data.Length - position} left; truncated file)");
            }

            offsets[key] = position;
            position += (int)bytes;
        }

        if (storages.Keys.FirstOrDefault(k => !offsets.ContainsKey(k)) is { } missing)
        {
            throw Bad(name, $"storage '{missing}' is referenced but has no record (truncated or corrupted file)");
        }

        ReadOnlySpan<byte> Record(StorageRef storage) =>
            data.AsSpan(offsets[storage.Key], (int)(storage.RootNumel * ElementTypes.Size(storage.Type)));

        return Build(root, name, Record, bigEndian: false, data.Length);
    }

    private static byte[] ReadAll(Stream stream, string name)
    {
        long length = stream.Length - stream.Position;
        if (length > Array.MaxLength)
        {
            throw Bad(name, $"a legacy-format file of {length} bytes is too large to read");
        }

        var data = new byte[length];
        stream.ReadExactly(data);
        return data;
    }

    // ---- from pickled objects to a StateDict ----------------------------------------------------

    private delegate ReadOnlySpan<byte> RecordReader(StorageRef storage);

    /// <summary>
    /// At most this many bytes of float32 are materialised per byte of the file, plus <see cref="MaterialiseSlack"/>:
    /// int8 storages become 4 bytes per element, and views may share elements (tied weights), but no file makes
    /// the loader allocate far more than its own size (a stride-0 view of 2^31 elements is 8 GiB from 4 bytes).
    /// </summary>
    internal const long MaterialisedBytesPerFileByte = 4;

    /// <summary>64 MiB: room for small expanded buffers beside <see cref="MaterialisedBytesPerFileByte"/>.</summary>
    internal const long MaterialiseSlack = 64L << 20;

    private static StateDict Build(object? root, string name, RecordReader record, bool bigEndian, long fileBytes)
    {
        PickleDict dict = FindStateDict(root, name);

        // Validate before allocating: every name, shape, stride and offset first, and the total against the budget;
        // only then read records (each once, shared by all its views) and copy tensors out.
        var tensors = new List<(string Key, TensorRef Tensor, int[] Shape, long Count)>();
        long budget = (MaterialisedBytesPerFileByte * fileBytes) + MaterialiseSlack, total = 0;
        foreach (KeyValuePair<object?, object?> entry in dict.Entries)
        {
            string key = (string)entry.Key!;
            var tensor = (TensorRef)entry.Value!;
            if (key.Length == 0)
            {
                throw Bad(name, "the state_dict has a tensor with an empty name");
            }

            var (shape, count) = CheckView(tensor, name, key);
            total += count * 4;
            if (total > budget)
            {
                throw Bad(name, $"tensor '{Printable.Escape(key)}' {Tensor.Format(shape)} brings the tensors to {total} bytes of float32, more than {MaterialisedBytesPerFileByte} x the {fileBytes}-byte file + {MaterialiseSlack >> 20} MiB: views that repeat elements (expand, stride 0) are not supported; save .contiguous() copies");
            }

            tensors.Add((key, tensor, shape, count));
        }

        var result = new StateDict();
        foreach (var (key, tensor, shape, count) in tensors)
        {
            result.Add(key, Materialize(tensor, shape, count, record(tensor.Storage), bigEndian));
        }

        try
        {
            return result.Normalized();
        }
        catch (InvalidDataException e)
        {
            throw Bad(name, e.Message, e);
        }
    }

    private static PickleDict FindStateDict(object? root, string name)
    {
        if (root is not PickleDict top)
        {
            throw Bad(name, $"the checkpoint holds a {RestrictedUnpickler.TypeName(root)}, not a dict of tensors (a state_dict)");
        }

        if (IsTensorDict(top))
        {
            return top;
        }

        foreach (string key in NestedKeys)
        {
            if (top.TryGet(key, out object? nested) && nested is PickleDict { Count: > 0 } d && IsTensorDict(d))
            {
                return d;
            }
        }

        var candidates = top.Entries.Select(e => e.Value).OfType<PickleDict>().Where(d => d.Count > 0 && IsTensorDict(d)).ToList();
        if (candidates.Count == 1)
        {
            return candidates[0];
        }

        string keys = string.Join(", ", top.Entries.Take(12).Select(e => e.Key is string s ? $"'{s}' ({RestrictedUnpickler.TypeName(e.Value)})" : RestrictedUnpickler.TypeName(e.Key)));
        throw Bad(name, $"no state_dict found: expected a dict of tensors at the top level or under 'state_dict' or 'model'; the top-level dict has {top.Count} keys: {keys}");
    }

    private static bool IsTensorDict(PickleDict dict) =>
        dict.Entries.All(e => e.Key is string && e.Value is TensorRef);

    /// <summary>The shape and element count of a view, once checked to lie inside its storage; reads no data.</summary>
    private static (int[] Shape, long Count) CheckView(TensorRef t, string name, string key)
    {
        StorageRef storage = t.Storage;
        int rank = t.Size.Length;
        var shape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            shape[d] = t.Size[d] <= int.MaxValue ? (int)t.Size[d] : throw Bad(name, $"tensor '{Printable.Escape(key)}': dimension {d} of size {t.Size[d]} is too large");
        }

        long count;
        try
        {
            count = Tensor.CountOf(shape);
        }
        catch (ArgumentException e)
        {
            throw Bad(name, $"tensor '{Printable.Escape(key)}': {e.Message}", e);
        }

        if (count == 0)
        {
            return (shape, 0);
        }

        // The last element read is offset + sum((size_d - 1) * stride_d); it must lie inside the (view of the) storage.
        long last = t.Offset;
        try
        {
            for (int d = 0; d < rank; d++)
            {
                last = checked(last + ((t.Size[d] - 1) * t.Stride[d]));
            }
        }
        catch (OverflowException)
        {
            last = long.MaxValue;
        }

        if (last >= storage.Numel || storage.ViewOffset < 0 || storage.ViewOffset + storage.Numel > storage.RootNumel)
        {
            throw Bad(name, $"tensor '{Printable.Escape(key)}' (size {Tensor.Format(shape)}, stride ({string.Join(", ", t.Stride)}), offset {t.Offset}) reads past the end of its storage of {storage.Numel} elements");
        }

        return (shape, count);
    }

    /// <summary>Copies a strided window of a storage, checked by <see cref="CheckView"/>, into a contiguous float32 tensor.</summary>
    private static Tensor Materialize(TensorRef t, int[] shape, long count, ReadOnlySpan<byte> root, bool bigEndian)
    {
        StorageRef storage = t.Storage;
        int rank = t.Size.Length;
        var data = new float[count];
        if (count == 0)
        {
            return new Tensor(shape, data);
        }

        long first = storage.ViewOffset + t.Offset;
        if (storage.Type == ElementType.Float32 && bigEndian == !BitConverter.IsLittleEndian && IsRowMajor(t))
        {
            MemoryMarshal.Cast<byte, float>(root.Slice(checked((int)(first * 4)), checked((int)(count * 4)))).CopyTo(data);
            return new Tensor(shape, data);
        }

        // Odometer over the index (i_0, ..., i_{rank-1}); element = first + sum(i_d * stride_d).
        bool nativeFloat = storage.Type == ElementType.Float32 && bigEndian == !BitConverter.IsLittleEndian;
        ReadOnlySpan<float> floats = MemoryMarshal.Cast<byte, float>(root);
        var index = new long[rank];
        long element = first;
        for (long i = 0; i < count; i++)
        {
            data[i] = nativeFloat ? floats[(int)element] : ElementTypes.Read(storage.Type, root, element, bigEndian);
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d]++;
                element += t.Stride[d];
                if (index[d] < t.Size[d])
                {
                    break;
                }

                element -= t.Size[d] * t.Stride[d];
                index[d] = 0;
            }
        }

        return new Tensor(shape, data);
    }

    private static bool IsRowMajor(TensorRef t)
    {
        long expected = 1;
        for (int d = t.Size.Length - 1; d >= 0; d--)
        {
            if (t.Size[d] != 1 && t.Stride[d] != expected)
            {
                return false;
            }

            expected *= t.Size[d];
        }

        return true;
    }

    private static InvalidDataException Bad(string name, string problem, Exception? inner = null) => new($"{name}: {problem}", inner);
}
