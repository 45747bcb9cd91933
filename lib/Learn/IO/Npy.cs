using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Learn.Tensors;

namespace Learn.IO;

/// <summary>
/// NumPy's <c>.npy</c> format (version 1.0, 2.0 and 3.0): a magic string, a header length, a Python-dict
/// header <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>, then the raw data.
/// Reads little-endian float32 and float64 (converted to float32) in C order; writes float32 C order.
/// Everything else is refused with an <see cref="InvalidDataException"/> that names the file.
/// </summary>
public static class Npy
{
    /// <summary>numpy's default max_header_size: 10000 characters.</summary>
    private const int MaxHeaderSize = 10000;

    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a tensor from an .npy file.</summary>
    /// <exception cref="InvalidDataException">The file is not a float32/float64 little-endian C-order array.</exception>
    public static Tensor Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(InputFile.ReadAllBytes(path), path);
    }

    /// <summary>Parses .npy bytes; <paramref name="name"/> names the source in error messages.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
        {
            throw Bad(name, "not an .npy file (missing the \\x93NUMPY magic)");
        }

        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]);
                headerStart = 10;
                break;
            case 2 or 3:
                if (bytes.Length < 12)
                {
                    throw Bad(name, "truncated header");
                }

                uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (length > int.MaxValue)
                {
                    throw Bad(name, $"header length {length} is not plausible");
                }

                headerLength = (int)length;
                headerStart = 12;
                break;
            default:
                throw Bad(name, $"unsupported .npy format version {major}.{bytes[7]}");
        }

        if ((long)headerStart + headerLength > bytes.Length)
        {
            throw Bad(name, $"truncated header: it claims {headerLength} bytes but the file has {bytes.Length - headerStart}");
        }

        // numpy: latin1 for versions 1 and 2, UTF-8 for version 3.
        string header;
        try
        {
            header = major == 3
                ? new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.Slice(headerStart, headerLength))
                : Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        }
        catch (DecoderFallbackException)
        {
            throw Bad(name, "the version 3.0 header is not valid UTF-8");
        }

        // numpy 1.24+ (np.load's max_header_size) refuses longer headers: literal_eval on them is not safe.
        if (header.Length > MaxHeaderSize)
        {
            throw Bad(name, $"Header info length ({header.Length}) is large and may not be safe to load securely (numpy's limit is {MaxHeaderSize})");
        }

        (string descr, bool fortran, int[] shape) = ParseHeader(header, name);

        int itemSize = descr switch
        {
            "<f4" => 4,
            "<f8" => 8,
            ">f4" or ">f8" => throw Bad(name, $"big-endian data ('{descr}') is not supported; save it little-endian (e.g. arr.astype('<f4'))"),
            "|O" or "O" => throw Bad(name, "object arrays are not supported (they need pickle); save a numeric array"),
            _ => throw Bad(name, $"dtype '{Printable.Escape(descr)}' is not supported; only float32 ('<f4') and float64 ('<f8')"),
        };
        if (fortran)
        {
            throw Bad(name, "Fortran-order arrays are not supported; save a C-order array (np.ascontiguousarray)");
        }

        long count;
        try
        {
            count = Tensor.CountOf(shape);
        }
        catch (ArgumentException e)
        {
            throw Bad(name, e.Message);
        }

        ReadOnlySpan<byte> data = bytes[(headerStart + headerLength)..];
        if (data.Length != count * itemSize)
        {
            throw Bad(name, $"shape {Tensor.Format(shape)} of '{descr}' needs {count * itemSize} data bytes but the file has {data.Length}");
        }

        var values = new float[count];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = itemSize == 4
                ? BinaryPrimitives.ReadSingleLittleEndian(data[(i * 4)..])
                : (float)BinaryPrimitives.ReadDoubleLittleEndian(data[(i * 8)..]);
        }

        return new Tensor(shape, values);
    }

    /// <summary>
    /// Writes a tensor as float32 little-endian C order (version 1.0). The file appears whole or not at all:
    /// the bytes go to a temporary file in the same folder that is then moved into place.
    /// </summary>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensor);
        byte[] bytes = Serialize(tensor);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The .npy bytes of a tensor (float32, little-endian, C order, format 1.0).</summary>
    public static byte[] Serialize(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        int[] shape = tensor.Shape;
        string shapeText = shape.Length == 1
            ? $"({shape[0]},)"
            : "(" + string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shapeText}, }}";

        // NumPy pads the header with spaces and a newline so that the data starts on a 64-byte boundary.
        int unpadded = 10 + dict.Length + 1;
        int padding = (64 - unpadded % 64) % 64;
        string header = dict + new string(' ', padding) + "\n";

        var bytes = new byte[10 + header.Length + tensor.Length * 4];
        Magic.CopyTo(bytes, 0);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        Span<byte> data = bytes.AsSpan(10 + header.Length);
        for (int i = 0; i < tensor.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], tensor.Data[i]);
        }

        return bytes;
    }

    /// <summary>
    /// The header as numpy's <c>_read_array_header</c> reads it: one Python literal (<see cref="PythonLiteral"/>,
    /// as <c>ast.literal_eval</c>; a repeated key keeps its last value), a dict with exactly the keys descr,
    /// fortran_order and shape, shape a tuple of non-negative ints, fortran_order a bool. Messages use numpy's words.
    /// </summary>
    private static (string Descr, bool Fortran, int[] Shape) ParseHeader(string header, string name)
    {
        object? literal;
        try
        {
            literal = PythonLiteral.Parse(header);
        }
        catch (FormatException e)
        {
            throw Bad(name, $"Cannot parse header: {Printable.Escape(Shorten(header.Trim()))} ({e.Message})");
        }

        if (literal is not PythonLiteral.Dict dict)
        {
            throw Bad(name, $"Header is not a dictionary: {Printable.Escape(Shorten(header.Trim()))}");
        }

        string[] expected = ["descr", "fortran_order", "shape"];
        if (dict.Keys.Count != 3 || !expected.All(dict.ByStringKey.ContainsKey))
        {
            string keys = string.Join(", ", dict.Keys.Select(k => k is string s ? $"'{s}'" : Convert.ToString(k, CultureInfo.InvariantCulture) ?? "None"));
            throw Bad(name, $"Header does not contain the correct keys: [{Printable.Escape(Shorten(keys))}]");
        }

        if (dict.ByStringKey["fortran_order"] is not bool fortran)
        {
            throw Bad(name, "fortran_order is not a valid bool");
        }

        if (dict.ByStringKey["shape"] is not PythonLiteral.Tuple shape || shape.Items.Any(i => i is not System.Numerics.BigInteger))
        {
            throw Bad(name, "shape is not valid: it must be a tuple of integers");
        }

        var dims = new int[shape.Items.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            var d = (System.Numerics.BigInteger)shape.Items[i]!;
            dims[i] = d < 0 ? throw Bad(name, "negative dimensions are not allowed")
                : d > int.MaxValue ? throw Bad(name, $"shape dimension {i} of {d} is larger than one tensor holds")
                : (int)d;
        }

        if (dict.ByStringKey["descr"] is not string descr)
        {
            throw Bad(name, "descr is not a valid dtype descriptor: only float32 ('<f4') and float64 ('<f8') are supported");
        }

        return (descr, fortran, dims);
    }

    private static string Shorten(string text) => text.Length <= 120 ? text : text[..120] + "...";

    private static InvalidDataException Bad(string name, string problem) => new($"{name}: {problem}");
}
