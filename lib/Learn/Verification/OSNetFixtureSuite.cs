using System.Collections.Concurrent;
using System.Text.Json;
using Learn.Analysis;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// The OSNet stage fixtures exported from PyTorch by <c>reference-weights/osnet/export_osnet.py</c>: for every
/// variant, the output of each stage (conv1 ... fc), the 512-d feature and the logits on one stored input, with
/// weights that are not stored but generated (<see cref="OSNetFixtureWeights"/>). Each stage is one
/// <see cref="OSNetStageCase"/>, compared under the project rule with K = the sum of reduction lengths along the
/// longest path to the value, taken from the model's own symbolic trace (<see cref="CostTable"/>), as the golden
/// tests do.
/// </summary>
public sealed class OSNetFixtureSuite
{
    /// <summary>The fixtures' folder inside reference-weights.</summary>
    public const string FolderName = "osnet";

    // A classifier of more classes than this is no fixture of this project (and would only allocate).
    private const int MaxClasses = 100_000;

    private readonly ConcurrentDictionary<(string Variant, Implementation Impl), Lazy<IReadOnlyDictionary<string, Tensor>>> _outputs = new();
    private readonly Lazy<Tensor> _input;

    private OSNetFixtureSuite(string directory, string torchVersion, int seed, int numClasses, string inputPath, int[] inputShape)
    {
        Directory = directory;
        TorchVersion = torchVersion;
        Seed = seed;
        NumClasses = numClasses;
        _input = new Lazy<Tensor>(() =>
        {
            Tensor input = Npy.Read(inputPath);
            return input.Shape.SequenceEqual(inputShape)
                ? input
                : throw new InvalidDataException($"{inputPath}: shape {input.ShapeString} disagrees with the manifest's {Tensor.Format(inputShape)}");
        });
    }

    /// <summary>The directory holding manifest.json (reference-weights/osnet).</summary>
    public string Directory { get; }

    /// <summary>The PyTorch version that computed the expected outputs.</summary>
    public string TorchVersion { get; }

    /// <summary>The generator's seed (<see cref="OSNetFixtureWeights"/>).</summary>
    public int Seed { get; }

    /// <summary>The classifier's class count of every variant.</summary>
    public int NumClasses { get; }

    /// <summary>The variants in manifest order.</summary>
    public IReadOnlyList<string> Variants { get; private set; } = [];

    /// <summary>Every stage of every variant, variant by variant, in manifest order, then its feature and logits.</summary>
    public IReadOnlyList<OSNetStageCase> Cases { get; private set; } = [];

    /// <summary>The manifest path of <paramref name="referenceWeights"/>'s OSNet fixtures, or null when it has none.</summary>
    public static string? FindIn(string referenceWeights)
    {
        ArgumentNullException.ThrowIfNull(referenceWeights);
        string directory = Path.Combine(referenceWeights, FolderName);
        return File.Exists(Path.Combine(directory, FixtureSuite.ManifestFileName)) ? directory : null;
    }

    /// <summary>
    /// Reads <c>manifest.json</c> from <paramref name="directory"/> and traces each variant's shapes (no values
    /// are computed). Tensors are read and the forward passes run when a case runs.
    /// </summary>
    /// <exception cref="InvalidDataException">The manifest is missing or malformed; the message names the file.</exception>
    public static OSNetFixtureSuite Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        string path = Path.Combine(directory, FixtureSuite.ManifestFileName);
        JsonElement root;
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllText(path));
            root = document.RootElement.Clone();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: cannot read the OSNet fixture manifest: {e.Message}", e);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}", e);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: expected a JSON object at the top level");
        }

        int numClasses = Fixtures.GetInt(root, "num_classes", path);
        if (numClasses is < 1 or > MaxClasses)
        {
            throw new InvalidDataException($"{path}: num_classes must be in [1, {MaxClasses}], but got {numClasses}");
        }

        JsonElement input = Object(root, "input", path);
        int[] inputShape = Fixtures.GetIntList(input, "shape", $"{path}: input");
        if (inputShape.Length != 4 || inputShape.Any(d => d < 1))
        {
            throw new InvalidDataException($"{path}: input shape must be [N, 3, H, W] with positive sizes, but got {Tensor.Format(inputShape)}");
        }

        var suite = new OSNetFixtureSuite(directory, Fixtures.GetString(root, "torch_version", path), Fixtures.GetInt(root, "seed", path),
            numClasses, Resolve(directory, Fixtures.GetString(input, "file", $"{path}: input"), path), inputShape);
        var variants = new List<string>();
        var cases = new List<OSNetStageCase>();
        foreach (JsonProperty v in Object(root, "variants", path).EnumerateObject())
        {
            string where = $"{path}: variant '{v.Name}'";
            if (!OSNet.VariantNames.Contains(v.Name))
            {
                throw new InvalidDataException($"{where} is not one of {string.Join(", ", OSNet.VariantNames)}");
            }

            if (variants.Contains(v.Name))
            {
                throw new InvalidDataException($"{where} appears twice");
            }

            variants.Add(v.Name);
            CostTable table = CostTable.For(OSNet.Create(v.Name, numClasses), inputShape[2], inputShape[3], inputShape[1], inputShape[0]);
            foreach (JsonProperty stage in Object(v.Value, "stages", where).EnumerateObject())
            {
                CostRow[] rows = table.RowsOf(stage.Name).ToArray();
                if (rows.Length != 1)
                {
                    throw new InvalidDataException($"{where}: stage '{stage.Name}' is not a module called once by the model");
                }

                cases.Add(suite.Case(v.Name, stage.Name, stage.Value, rows[0].Reduction, where));
            }

            // The feature is the model's output; the logits add the classifier's reduction over the feature.
            cases.Add(suite.Case(v.Name, OSNetStageCase.Feature, Object(v.Value, "output", where), table.Output.Reduction, where));
            cases.Add(suite.Case(v.Name, OSNetStageCase.Logits, Object(v.Value, "logits", where), table.Output.Reduction + table.Output.Shape[^1], where));
        }

        suite.Variants = variants;
        suite.Cases = cases;
        return suite;
    }

    /// <summary>
    /// The outputs of <paramref name="variant"/> on the stored input with the generated weights, keyed by stage,
    /// <see cref="OSNetStageCase.Feature"/> and <see cref="OSNetStageCase.Logits"/>: one forward pass per variant
    /// and implementation, shared by its cases (which may run on other threads than other variants' cases).
    /// </summary>
    internal IReadOnlyDictionary<string, Tensor> OutputsOf(string variant, Implementation impl) =>
        _outputs.GetOrAdd((variant, impl), key => new Lazy<IReadOnlyDictionary<string, Tensor>>(() => Compute(key.Variant, key.Impl))).Value;

    private Dictionary<string, Tensor> Compute(string variant, Implementation impl)
    {
        Tensor input = _input.Value;
        OSNet model = OSNet.Create(variant, NumClasses);
        model.LoadStateDict(OSNetFixtureWeights.For(model, variant, Seed));
        model.UseImplementation(impl);
        var stages = Cases.Where(c => c.Variant == variant).Select(c => c.Stage).ToHashSet();
        var recorder = new ActivationRecorder(stages.Contains);
        Tensor feature = model.Forward(input, recorder);
        var outputs = recorder.Items.ToDictionary(p => p.Key, p => p.Value);
        outputs[OSNetStageCase.Feature] = feature;
        outputs[OSNetStageCase.Logits] = model.Classifier.Forward(feature);
        return outputs;
    }

    private OSNetStageCase Case(string variant, string stage, JsonElement entry, long k, string where)
    {
        string at = $"{where}: stage '{stage}'";
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{at} must be an object");
        }

        string file = Resolve(Directory, Fixtures.GetString(entry, "file", at), at);
        int[] shape = entry.TryGetProperty("shape", out _) ? Fixtures.GetIntList(entry, "shape", at) : [];
        return new OSNetStageCase(this, variant, stage, k, file, shape);
    }

    private static JsonElement Object(JsonElement e, string key, string where) =>
        e.TryGetProperty(key, out JsonElement v) && v.ValueKind == JsonValueKind.Object
            ? v
            : throw new InvalidDataException($"{where}: missing the '{key}' object");

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

/// <summary>One OSNet fixture value: a stage's output (or the feature, or the logits) of one variant.</summary>
public sealed class OSNetStageCase
{
    /// <summary>The stage name of the model's output, the 512-d feature (manifest key <c>output</c>).</summary>
    public const string Feature = "feature";

    /// <summary>The stage name of the classifier's output on the feature.</summary>
    public const string Logits = "logits";

    private readonly OSNetFixtureSuite _suite;
    private readonly int[] _expectedShape;

    internal OSNetStageCase(OSNetFixtureSuite suite, string variant, string stage, long reductionLength, string expectedPath, int[] expectedShape)
    {
        _suite = suite;
        Variant = variant;
        Stage = stage;
        ReductionLength = reductionLength;
        ExpectedPath = expectedPath;
        _expectedShape = expectedShape;
    }

    /// <summary>The case name, <c>variant/stage</c>, e.g. <c>osnet_x0_25/conv2</c>.</summary>
    public string Name => $"{Variant}/{Stage}";

    /// <summary>The variant, e.g. <c>osnet_x0_25</c>.</summary>
    public string Variant { get; }

    /// <summary>The stage (a module name such as <c>conv3</c>, or <see cref="OSNetStageCase.Feature"/>, <see cref="OSNetStageCase.Logits"/>).</summary>
    public string Stage { get; }

    /// <summary>K of the tolerance rule: the reduction length along the longest path to this value.</summary>
    public long ReductionLength { get; }

    /// <summary>The tolerance this case is held to.</summary>
    public Tolerance Tolerance => Tolerance.ForReduction(ReductionLength);

    /// <summary>PyTorch's output (.npy).</summary>
    public string ExpectedPath { get; }

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <summary>
    /// Runs the variant (once for all its cases in a row) with every layer on <paramref name="impl"/> and compares
    /// this stage with PyTorch's output.
    /// </summary>
    /// <exception cref="InvalidDataException">A tensor file is missing or malformed.</exception>
    public Comparison Run(Implementation impl = Implementation.Naive)
    {
        Tensor expected = Npy.Read(ExpectedPath);
        if (_expectedShape.Length > 0 && !expected.Shape.SequenceEqual(_expectedShape))
        {
            throw new InvalidDataException(
                $"{ExpectedPath}: shape {expected.ShapeString} disagrees with the manifest's {Tensor.Format(_expectedShape)}");
        }

        Tensor actual = _suite.OutputsOf(Variant, impl).TryGetValue(Stage, out Tensor? value)
            ? value
            : throw new InvalidDataException($"{ExpectedPath}: the model produced no output named '{Stage}'");
        return Comparison.Of(actual, expected, Tolerance);
    }
}
