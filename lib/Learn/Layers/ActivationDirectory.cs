using System.Text;
using System.Text.Json;
using Learn.IO;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>One layer call in an activation dump's index: its key (the file is <c>&lt;key&gt;.npy</c>), shape and, when known, K.</summary>
/// <param name="Key">The recorder's key: <c>conv2.0.gate</c>, <c>conv2.0.gate@2</c> ...</param>
/// <param name="Shape">The output shape.</param>
/// <param name="Reduction">The reduction length K behind the values (for the project's tolerance rule), or null.</param>
public sealed record ActivationEntry(string Key, IReadOnlyList<int> Shape, long? Reduction)
{
    /// <summary>
    /// The reference's float32 noise at this layer, when the dump recorded it: max |noisy - clean| of a re-run with
    /// simulated rounding (Learn.Verification.NoiseProbe), the scale of <c>learn diff</c>'s propagated tolerance.
    /// </summary>
    public double? Noise { get; init; }
}

/// <summary>
/// Writes each captured output to <c>folder/&lt;key&gt;.npy</c> as it is produced (keys as
/// <see cref="ActivationRecorder.KeyOf"/>: <c>conv2.0.gate</c>, <c>conv2.0.gate@2</c> ...), so a whole network can be
/// dumped without holding every activation in memory. Each file is written atomically. This is the layout
/// <c>learn osnet --activations DIR</c> produces and <c>learn diff</c> compares.
/// </summary>
/// <remarks>
/// The folder also gets an index, <see cref="IndexFileName"/>, rewritten (atomically) after every file, so it
/// always lists exactly the files written so far in the order the layers ran. File times cannot give that
/// order, and neither can names (<c>conv2.0.conv2a</c> runs after <c>conv2.0.conv1</c> and its children before
/// it). The index is JSON: <c>{"format": "learn-activations", "version": 1, "layers": [{"key", "shape",
/// "reduction"?, "noise"?}, ...]}</c>; <see cref="RecordNoise"/> adds the noise once the run is done.
/// </remarks>
public sealed class ActivationDirectory : IActivationSink
{
    /// <summary>The index file's name inside the folder.</summary>
    public const string IndexFileName = "activations.json";

    private const string Format = "learn-activations";

    private readonly Func<string, bool>? _include;
    private readonly Func<string, int, long?>? _reduction;
    private readonly List<ActivationEntry> _entries = [];

    /// <summary>
    /// Writes into <paramref name="folder"/> (created if needed) every layer, or those <paramref name="include"/>
    /// accepts; <paramref name="reduction"/>, given a module name and call number, supplies K for the index.
    /// </summary>
    public ActivationDirectory(string folder, Func<string, bool>? include = null, Func<string, int, long?>? reduction = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = folder;
        _include = include;
        _reduction = reduction;
        Directory.CreateDirectory(folder);
    }

    /// <summary>The output folder.</summary>
    public string Folder { get; }

    /// <summary>The keys written so far, in order.</summary>
    public IReadOnlyList<string> Written => _entries.Select(e => e.Key).ToList();

    /// <summary>The index entries written so far, in order.</summary>
    public IReadOnlyList<ActivationEntry> Entries => _entries;

    /// <inheritdoc />
    public void Record(string name, int call, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_include is not null && !_include(name))
        {
            return;
        }

        string key = ActivationRecorder.KeyOf(name, call);
        Npy.Write(Path.Combine(Folder, key + ".npy"), output);
        _entries.Add(new ActivationEntry(key, output.Shape, _reduction?.Invoke(name, call)));
        AtomicFile.WriteAllBytes(Path.Combine(Folder, IndexFileName), Encoding.UTF8.GetBytes(IndexJson(_entries)));
    }

    /// <summary>
    /// Adds each layer's float32 noise (by key) to the index and rewrites it; keys not in
    /// <paramref name="noise"/> keep none.
    /// </summary>
    public void RecordNoise(IReadOnlyDictionary<string, double> noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        for (int i = 0; i < _entries.Count; i++)
        {
            if (noise.TryGetValue(_entries[i].Key, out double n))
            {
                _entries[i] = _entries[i] with { Noise = n };
            }
        }

        AtomicFile.WriteAllBytes(Path.Combine(Folder, IndexFileName), Encoding.UTF8.GetBytes(IndexJson(_entries)));
    }

    /// <summary>The index of a dump folder, in call order; null when the folder has no index file.</summary>
    /// <exception cref="InvalidDataException">The index exists but is not a valid one; the message names it.</exception>
    public static IReadOnlyList<ActivationEntry>? ReadIndex(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string path = Path.Combine(folder, IndexFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out JsonElement format) || format.GetString() != Format)
            {
                throw new InvalidDataException($"{path}: not an activation index (no \"format\": \"{Format}\")");
            }

            var entries = new List<ActivationEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonElement layer in root.GetProperty("layers").EnumerateArray())
            {
                string key = layer.GetProperty("key").GetString() ?? "";
                if (key.Length == 0 || !seen.Add(key) || key.Contains('/', StringComparison.Ordinal) || key.Contains('\\', StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"{path}: layer key '{key}' is empty, repeated or a path");
                }

                int[] shape = layer.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
                long? k = layer.TryGetProperty("reduction", out JsonElement r) ? r.GetInt64() : null;
                double? noise = layer.TryGetProperty("noise", out JsonElement n) ? n.GetDouble() : null;
                if (noise is double v && !(v >= 0 && double.IsFinite(v)))
                {
                    throw new InvalidDataException($"{path}: layer '{key}' has noise {v}, expected a finite value >= 0");
                }

                entries.Add(new ActivationEntry(key, shape, k) { Noise = noise });
            }

            return entries;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{path}: malformed activation index: {e.Message}", e);
        }
    }

    // One layer per line, so that the index is easy to read and to diff.
    private static string IndexJson(List<ActivationEntry> entries)
    {
        var text = new StringBuilder();
        text.Append("{\n  \"format\": \"").Append(Format).Append("\",\n  \"version\": 1,\n  \"layers\": [");
        for (int i = 0; i < entries.Count; i++)
        {
            using var stream = new MemoryStream();
            using (var json = new Utf8JsonWriter(stream))
            {
                ActivationEntry entry = entries[i];
                json.WriteStartObject();
                json.WriteString("key", entry.Key);
                json.WriteStartArray("shape");
                foreach (int d in entry.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                if (entry.Reduction is long k)
                {
                    json.WriteNumber("reduction", k);
                }

                if (entry.Noise is double noise)
                {
                    json.WriteNumber("noise", noise);
                }

                json.WriteEndObject();
            }

            text.Append(i == 0 ? "\n    " : ",\n    ").Append(Encoding.UTF8.GetString(stream.ToArray()));
        }

        return text.Append("\n  ]\n}\n").ToString();
    }
}
