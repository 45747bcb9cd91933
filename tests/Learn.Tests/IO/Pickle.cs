using System.Buffers.Binary;
using System.Text;

namespace Learn.Tests.IO;

/// <summary>
/// Writes protocol-2 pickle opcodes by hand (CPython's Lib/pickletools.py documents each), so tests can
/// build the hostile and malformed pickles that no well-behaved pickler would produce.
/// </summary>
internal static class Pickle
{
    public static byte[] Wrap(byte[] body) => [0x80, 2, .. body, (byte)'.'];

    public static byte[] Int(long value)
    {
        var bytes = new byte[5];
        bytes[0] = (byte)'J';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), checked((int)value));
        return bytes;
    }

    public static byte[] Str(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var bytes = new byte[5 + utf8.Length];
        bytes[0] = (byte)'X';
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(1), utf8.Length);
        utf8.CopyTo(bytes, 5);
        return bytes;
    }

    public static byte[] None => [(byte)'N'];

    public static byte[] False => [0x89];

    public static byte[] Global(string module, string name) => [(byte)'c', .. Encoding.UTF8.GetBytes($"{module}\n{name}\n")];

    public static byte[] Tuple(params byte[][] items) => [(byte)'(', .. items.SelectMany(i => i), (byte)'t'];

    public static byte[] List(params byte[][] items) => [(byte)']', (byte)'(', .. items.SelectMany(i => i), (byte)'e'];

    public static byte[] Dict(params (string Key, byte[] Value)[] entries) =>
        [(byte)'}', (byte)'(', .. entries.SelectMany(e => Str(e.Key).Concat(e.Value)), (byte)'u'];

    public static byte[] Call(byte[] callable, params byte[][] args) => [.. callable, .. Tuple(args), (byte)'R'];

    public static byte[] OrderedDict => Call(Global("collections", "OrderedDict"));

    /// <summary>A persistent id as torch.save writes it; <paramref name="view"/> adds the legacy view metadata.</summary>
    public static byte[] Storage(string type, string key, long numel, byte[]? view = null) =>
        [.. Tuple([Str("storage"), Global("torch", type), Str(key), Str("cpu"), Int(numel), .. view is null ? Array.Empty<byte[]>() : [view]]), (byte)'Q'];

    public static byte[] Tensor(byte[] storage, long offset, long[] size, long[] stride) =>
        Call(Global("torch._utils", "_rebuild_tensor_v2"), storage, Int(offset),
            Tuple(size.Select(Int).ToArray()), Tuple(stride.Select(Int).ToArray()), False, OrderedDict);

    /// <summary>A legacy torch.save file: the three header pickles, <paramref name="main"/>, the key list and the records.</summary>
    public static byte[] LegacyFile(byte[] main, params (string Key, long Count, byte[] Data)[] records)
    {
        var file = new MemoryStream();
        // The magic number 0x1950a86a20f9469cfc6c as LONG1 (10 bytes little-endian), then 1001, then sys_info {}.
        file.Write([0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.']);
        file.Write(Wrap(Int(1001)));
        file.Write(Wrap([(byte)'}']));
        file.Write(Wrap(main));
        file.Write(Wrap(List(records.Select(r => Str(r.Key)).ToArray())));
        foreach ((_, long count, byte[] data) in records)
        {
            var n = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(n, count);
            file.Write(n);
            file.Write(data);
        }

        return file.ToArray();
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }
}
