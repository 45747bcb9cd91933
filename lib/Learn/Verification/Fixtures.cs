using System.Text.Json;
using Learn.IO;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// The golden fixtures exported from PyTorch by <c>reference-weights/export_fixtures.py</c>: a
/// <c>manifest.json</c> naming, for every case, the operator, its PyTorch arguments, the input and parameter
/// tensors (.npy) and PyTorch's output. See reference-weights/README.md for the layout.
/// </summary>
public sealed class FixtureSuite
{
    /// <summary>The manifest's file name inside a fixture directory.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>The manifest format this reader understands.</summary>
    public const int SupportedFormat = 1;

    private FixtureSuite(string directory, JsonElement root, IReadOnlyList<FixtureCase> cases)
    {
        Directory = directory;
        TorchVersion = Fixtures.GetString(root, "torch_version", ManifestPath);
        NumpyVersion = Fixtures.GetString(root, "numpy_version", ManifestPath);
        Seed = Fixtures.GetInt(root, "seed", ManifestPath);
        Threads = Fixtures.GetInt(root, "threads", ManifestPath);
        ComputeDtype = Fixtures.GetString(root, "compute_dtype", ManifestPath);
        Cases = cases;
    }

    /// <summary>The directory holding manifest.json.</summary>
    public string Directory { get; }

    /// <summary>The full path of manifest.json.</summary>
    public string ManifestPath => Path.Combine(Directory, ManifestFileName);

    /// <summary>The PyTorch version that computed the expected outputs.</summary>
    public string TorchVersion { get; }

    /// <summary>The NumPy version that wrote the .npy files.</summary>
    public string NumpyVersion { get; }

    /// <summary>The base seed (each case's generator is seeded with seed + crc32 of its arguments).</summary>
    public int Seed { get; }

    /// <summary>PyTorch's thread count during the export.</summary>
    public int Threads { get; }

    /// <summary>The dtype PyTorch computed in (float64; outputs were then rounded to float32).</summary>
    public string ComputeDtype { get; }

    /// <summary>The cases in manifest order.</summary>
    public IReadOnlyList<FixtureCase> Cases { get; }

    /// <summary>Reads <c>manifest.json</c> from <paramref name="directory"/>. Tensors are read when a case runs.</summary>
    /// <exception cref="InvalidDataException">The manifest is missing or malformed; the message names the file.</exception>
    public static FixtureSuite Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string path = Path.Combine(directory, ManifestFileName);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read the fixture manifest: {e.Message}", e);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            JsonElement root = document.RootElement.Clone();
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: expected a JSON object at the top level");
            }

            int format = Fixtures.GetInt(root, "format", path);
            if (format != SupportedFormat)
            {
                throw new InvalidDataException(
                    $"{path}: manifest format {format} is not supported (expected {SupportedFormat}); re-run reference-weights/export_fixtures.py");
            }

            if (!root.TryGetProperty("cases", out JsonElement cases) || cases.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{path}: missing the 'cases' array");
            }

            var list = new List<FixtureCase>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonElement c in cases.EnumerateArray())
            {
                var fixture = FixtureCase.FromJson(c, directory, path);
                if (!names.Add(fixture.Name))
                {
                    throw new InvalidDataException($"{path}: case '{fixture.Name}' appears twice");
                }

                list.Add(fixture);
            }

            return new FixtureSuite(directory, root, list);
        }
    }

    /// <summary>
    /// Finds <c>reference-weights/manifest.json</c> by walking up from the current directory, then from the
    /// application's base directory (so tests and the installed tool find the repository's fixtures).
    /// </summary>
    /// <returns>The fixture directory, or null when none is found.</returns>
    public static string? FindDefaultDirectory()
    {
        foreach (string start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "reference-weights");
                if (File.Exists(Path.Combine(candidate, ManifestFileName)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}

/// <summary>One golden case: an operator, its PyTorch arguments, its tensors and PyTorch's output.</summary>
public sealed class FixtureCase
{
    private readonly JsonElement _args;
    private readonly string _manifestPath;

    private FixtureCase(string name, string op, JsonElement args, IReadOnlyDictionary<string, string> inputs,
        string expectedPath, IReadOnlyList<int> expectedShape, long reductionLength, string manifestPath)
    {
        Name = name;
        Op = op;
        _args = args;
        Inputs = inputs;
        ExpectedPath = expectedPath;
        ExpectedShape = expectedShape;
        ReductionLength = reductionLength;
        _manifestPath = manifestPath;
    }

    /// <summary>The case's name, built from its parameters (e.g. conv2d_x1x3x5x5_w2x3x3x3_s1_p0_d1_g1_zeros).</summary>
    public string Name { get; }

    /// <summary>PyTorch's name of the operator: conv1d, conv2d, conv3d, batch_norm, instance_norm, relu, silu,
    /// sigmoid, max_pool2d, avg_pool2d, adaptive_avg_pool2d, linear, cat or add.</summary>
    public string Op { get; }

    /// <summary>K of the tolerance rule: the reduction length behind each output value.</summary>
    public long ReductionLength { get; }

    /// <summary>The tolerance this case is held to: <see cref="Tolerance.ForReduction"/>(K).</summary>
    public Tolerance Tolerance => Tolerance.ForReduction(ReductionLength);

    /// <summary>Tensor role (input, weight, bias, running_mean, input0, ...) to full .npy path.</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; }

    /// <summary>Full path of PyTorch's output.</summary>
    public string ExpectedPath { get; }

    /// <summary>The output shape the manifest records.</summary>
    public IReadOnlyList<int> ExpectedShape { get; }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Runs the library's operator on the case's tensors and compares with PyTorch's output.</summary>
    /// <exception cref="InvalidDataException">A tensor file or an argument is missing or malformed.</exception>
    public Comparison Run(Implementation impl = Implementation.Naive)
    {
        Tensor actual = Compute(impl);
        Tensor expected = Npy.Read(ExpectedPath);
        if (!expected.Shape.SequenceEqual(ExpectedShape))
        {
            throw new InvalidDataException(
                $"{ExpectedPath}: shape {expected.ShapeString} disagrees with the manifest's {Tensor.Format(ExpectedShape)}");
        }

        return Comparison.Of(actual, expected, Tolerance);
    }

    /// <summary>Runs the library's operator on the case's tensors with the manifest's arguments.</summary>
    public Tensor Compute(Implementation impl = Implementation.Naive) =>
        new FixtureArguments(this, _args, _manifestPath).Invoke(impl);

    internal Tensor Load(string role) =>
        Inputs.TryGetValue(role, out string? path)
            ? Npy.Read(path)
            : throw new InvalidDataException($"{_manifestPath}: case '{Name}' has no '{role}' tensor");

    internal Tensor? LoadOptional(string role) => Inputs.ContainsKey(role) ? Load(role) : null;

    internal static FixtureCase FromJson(JsonElement c, string directory, string manifestPath)
    {
        if (c.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{manifestPath}: every entry of 'cases' must be an object");
        }

        string name = Fixtures.GetString(c, "name", manifestPath);
        string where = $"{manifestPath}: case '{name}'";
        string op = Fixtures.GetString(c, "op", where);
        if (!c.TryGetProperty("args", out JsonElement args) || args.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{where}: missing the 'args' object");
        }

        if (!c.TryGetProperty("inputs", out JsonElement inputs) || inputs.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{where}: missing the 'inputs' object");
        }

        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty p in inputs.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                throw new InvalidDataException($"{where}: input '{p.Name}' must be a file name");
            }

            files[p.Name] = Resolve(directory, p.Value.GetString()!, where);
        }

        string expected = Resolve(directory, Fixtures.GetString(c, "expected", where), where);
        int[] shape = Fixtures.GetIntList(c, "expected_shape", where);
        long k = Fixtures.GetInt(c, "reduction_length", where);
        if (k < 1)
        {
            throw new InvalidDataException($"{where}: reduction_length must be at least 1, but got {k}");
        }

        return new FixtureCase(name, op, args.Clone(), files, expected, shape, k, manifestPath);
    }

    // Paths in the manifest are relative to its directory and must stay inside it.
    private static string Resolve(string directory, string relative, string where)
    {
        string root = Path.GetFullPath(directory);
        string full = Path.GetFullPath(Path.Combine(root, relative));
        if (Path.IsPathRooted(relative) || !full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{where}: file '{relative}' is not inside {root}");
        }

        return full;
    }
}

/// <summary>Typed reads from the manifest's JSON with messages that say where.</summary>
internal static class Fixtures
{
    public static string GetString(JsonElement e, string key, string where) =>
        e.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new InvalidDataException($"{where}: '{key}' must be a string");

    public static int GetInt(JsonElement e, string key, string where) =>
        e.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
            ? i
            : throw new InvalidDataException($"{where}: '{key}' must be an integer");

    /// <summary>An integer or a list of integers (PyTorch accepts both for stride, padding, ...).</summary>
    public static int[] GetIntList(JsonElement e, string key, string where)
    {
        if (!e.TryGetProperty(key, out JsonElement v))
        {
            throw new InvalidDataException($"{where}: missing '{key}'");
        }

        return AsIntList(v, key, where);
    }

    public static int[] AsIntList(JsonElement v, string key, string where)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int single))
        {
            return [single];
        }

        if (v.ValueKind == JsonValueKind.Array)
        {
            var list = new List<int>();
            foreach (JsonElement item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int value))
                {
                    throw new InvalidDataException($"{where}: '{key}' must be an integer or a list of integers");
                }

                list.Add(value);
            }

            return list.ToArray();
        }

        throw new InvalidDataException($"{where}: '{key}' must be an integer or a list of integers");
    }
}
