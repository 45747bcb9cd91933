using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Learn.Tensors;

namespace Learn.IO;

/// <summary>
/// The safetensors format (https://github.com/huggingface/safetensors#format): an 8-byte little-endian
/// header length N, N bytes of UTF-8 JSON <c>{"name": {"dtype": "F32", "shape": [..], "data_offsets":
/// [begin, end]}, ..., "__metadata__": {"k": "v"}}</c>, then the tensors' bytes, little-endian, C order.
/// Offsets are relative to the end of the header.
/// </summary>
/// <remarks>
/// Reads F32, F64, F16 and BF16 (and integer/bool tensors, converted like PyTorch's <c>.float()</c>);
/// writes F32. The header is validated as the reference implementation does: offsets within the file,
/// each tensor's byte count equal to its shape's element count times the dtype size, and the tensors
/// tiling the data region exactly (no overlap, no hole, no trailing bytes). <see cref="Read(string)"/>
/// returns the names as stored; <see cref="Checkpoint.Load"/> also normalizes them.
/// </remarks>
public static class SafeTensors
{
    /// <summary>The reference implementation refuses headers above 100 MB.</summary>
    private const long MaxHeaderLength = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Reads every tensor of a .safetensors file, in header order, as float32.</summary>
    /// <exception cref="InvalidDataException">The file is unreadable or malformed; the message names the file and the problem.</exception>
    public static StateDict Read(string path) => ParseFile(ReadFile(path), path).Tensors;

    /// <summary>Reads the <c>__metadata__</c> string map of a .safetensors file (empty when absent).</summary>
    /// <inheritdoc cref="Read(string)" path="/exception" />
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) => ParseFile(ReadFile(path), path).Metadata;

    /// <summary>Parses .safetensors bytes; <paramref name="name"/> names the source in error messages.</summary>
    /// <inheritdoc cref="Read(string)" path="/exception" />
    public static StateDict Parse(ReadOnlySpan<byte> bytes, string name) => ParseFile(bytes, name).Tensors;

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32 in their order, with optional <c>__metadata__</c>. The file
    /// appears whole or not at all (written to a temporary file, then moved). Files are built in memory,
    /// so they are limited to 2 GB.
    /// </summary>
    /// <exception cref="ArgumentException">A name is <c>__metadata__</c>.</exception>
    public static void Write(string path, StateDict tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.WriteAllBytes(path, Serialize(tensors, metadata));
    }

    /// <summary>The bytes <see cref="Write"/> writes.</summary>
    /// <exception cref="ArgumentException">A name is <c>__metadata__</c>.</exception>
    public static byte[] Serialize(StateDict tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is not null)
            {
                writer.WriteStartObject(MetadataKey);
                foreach (KeyValuePair<string, string> kv in metadata)
                {
                    writer.WriteString(kv.Key, kv.Value);
                }

                writer.WriteEndObject();
            }

            long offset = 0;
            foreach ((string name, Tensor tensor) in tensors)
            {
                if (name == MetadataKey)
                {
                    throw new ArgumentException($"a tensor may not be called '{MetadataKey}' in a safetensors file", nameof(tensors));
                }

                writer.WriteStartObject(name);
                writer.WriteString("dtype", "F32");
                writer.WriteStartArray("shape");
                foreach (int s in tensor.Shape)
                {
                    writer.WriteNumberValue(s);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(offset + (4L * tensor.Length));
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset += 4L * tensor.Length;
            }

            writer.WriteEndObject();
        }

        // Pad the header with spaces so that the data starts 8-byte aligned, as the reference writer does.
        int headerLength = (int)((json.Length + 7) / 8 * 8);
        long dataLength = tensors.Sum(t => 4L * t.Value.Length);
        var bytes = new byte[checked(8 + headerLength + dataLength)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)headerLength);
        json.GetBuffer().AsSpan(0, (int)json.Length).CopyTo(bytes.AsSpan(8));
        bytes.AsSpan(8 + (int)json.Length, headerLength - (int)json.Length).Fill((byte)' ');
        Span<byte> data = bytes.AsSpan(8 + headerLength);
        foreach ((_, Tensor tensor) in tensors)
        {
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(tensor.Data.AsSpan()).CopyTo(data);
            }
            else
            {
                for (int i = 0; i < tensor.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(data[(i * 4)..], tensor.Data[i]);
                }
            }

            data = data[(tensor.Length * 4)..];
        }

        return bytes;
    }

    // ---- reading --------------------------------------------------------------------------------

    private sealed record Entry(string Name, ElementType Type, int[] Shape, long Begin, long End);

    private static byte[] ReadFile(string path)
    {
        return InputFile.ReadAllBytes(path);
    }

    private static (StateDict Tensors, IReadOnlyDictionary<string, string> Metadata) ParseFile(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 8)
        {
            throw Bad(name, $"the file has {bytes.Length} bytes, too few for the 8-byte header length");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderLength || headerLength > (ulong)(bytes.Length - 8))
        {
            throw Bad(name, $"header length {headerLength} exceeds the {bytes.Length - 8} bytes that follow it (truncated or not a safetensors file)");
        }

        ReadOnlySpan<byte> header = bytes.Slice(8, (int)headerLength);
        ReadOnlySpan<byte> data = bytes[(8 + (int)headerLength)..];
        (List<Entry> entries, Dictionary<string, string> metadata) = ParseHeader(header, name);

        // The tensors must tile the data region: sorted by offset, each begins where the previous ended.
        long end = 0;
        foreach (Entry e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != end)
            {
                throw Bad(name, e.Begin < end
                    ? $"tensor '{Printable.Escape(e.Name)}' (bytes {e.Begin}..{e.End}) overlaps the tensor before it (which ends at {end})"
                    : $"tensor '{Printable.Escape(e.Name)}' begins at byte {e.Begin}, leaving a hole after byte {end}");
            }

            end = e.End;
        }

        if (end != data.Length)
        {
            throw Bad(name, end > data.Length
                ? $"the tensors need {end} data bytes but the file has {data.Length} (truncated file)"
                : $"the file has {data.Length - end} bytes after the last tensor");
        }

        var tensors = new StateDict();
        foreach (Entry e in entries)
        {
            ReadOnlySpan<byte> raw = data[(int)e.Begin..(int)e.End];
            var values = new float[Tensor.CountOf(e.Shape)];
            if (e.Type == ElementType.Float32 && BitConverter.IsLittleEndian)
            {
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(values);
            }
            else
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = ElementTypes.Read(e.Type, raw, i, bigEndian: false);
                }
            }

            tensors.Add(e.Name, new Tensor(e.Shape, values));
        }

        return (tensors, metadata);
    }

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(ReadOnlySpan<byte> header, string name)
    {
        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw Bad(name, "the header is not valid JSON: it is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Bad(name, $"the header is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Bad(name, $"the header is a JSON {doc.RootElement.ValueKind}, not an object");
            }

            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    throw Bad(name, $"the header names '{Printable.Escape(p.Name)}' twice");
                }

                if (p.Name == MetadataKey)
                {
                    if (p.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw Bad(name, $"{MetadataKey} is a JSON {p.Value.ValueKind}, not an object of strings");
                    }

                    foreach (JsonProperty m in p.Value.EnumerateObject())
                    {
                        metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String
                            ? m.Value.GetString()!
                            : throw Bad(name, $"{MetadataKey} entry '{Printable.Escape(m.Name)}' is a JSON {m.Value.ValueKind}, not a string");
                    }

                    continue;
                }

                entries.Add(ParseEntry(p, name));
            }

            return (entries, metadata);
        }
    }

    private static Entry ParseEntry(JsonProperty p, string name)
    {
        string where = $"tensor '{Printable.Escape(p.Name)}'";
        if (p.Name.Length == 0)
        {
            throw Bad(name, "the header has a tensor with an empty name");
        }

        if (p.Value.ValueKind != JsonValueKind.Object
            || !p.Value.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String
            || !p.Value.TryGetProperty("shape", out JsonElement shape) || shape.ValueKind != JsonValueKind.Array
            || !p.Value.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array)
        {
            throw Bad(name, $"{where} needs a string 'dtype' and arrays 'shape' and 'data_offsets'");
        }

        if (!ElementTypes.TryFromSafeTensors(dtype.GetString()!, out ElementType type))
        {
            throw Bad(name, $"{where} has dtype '{dtype.GetString()}'; supported are F32, F64, F16, BF16 and the integer/bool types");
        }

        var dims = new int[shape.GetArrayLength()];
        int d = 0;
        foreach (JsonElement s in shape.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt32(out dims[d]) || dims[d] < 0)
            {
                throw Bad(name, $"{where} has shape {shape.GetRawText()}, which is not a list of non-negative integers");
            }

            d++;
        }

        long[] range = offsets.EnumerateArray().Select(o => o.ValueKind == JsonValueKind.Number && o.TryGetInt64(out long v) && v >= 0 ? v : -1).ToArray();
        if (range.Length != 2 || range[0] < 0 || range[1] < range[0])
        {
            throw Bad(name, $"{where} has data_offsets {offsets.GetRawText()}, not [begin, end] with 0 <= begin <= end");
        }

        long count;
        try
        {
            count = Tensor.CountOf(dims);
        }
        catch (ArgumentException e)
        {
            throw Bad(name, $"{where}: {e.Message}", e);
        }

        long expected = count * ElementTypes.Size(type);
        if (range[1] - range[0] != expected)
        {
            throw Bad(name, $"{where} has shape {Tensor.Format(dims)} of {dtype.GetString()} ({expected} bytes) but data_offsets [{range[0]}, {range[1]}] hold {range[1] - range[0]} bytes");
        }

        return new Entry(p.Name, type, dims, range[0], range[1]);
    }

    private static InvalidDataException Bad(string name, string problem, Exception? inner = null) => new($"{name}: {problem}", inner);
}
