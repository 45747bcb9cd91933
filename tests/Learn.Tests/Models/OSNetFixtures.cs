using System.Collections.Concurrent;
using System.Text.Json;
using Learn.Analysis;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Tests.Models;

/// <summary>
/// Access to reference-weights/osnet (made by export_osnet.py) and the forward passes the tests share: each
/// variant runs once per test session, at batch 2 and per sample, however many tests look at it, with its
/// weights loaded from a safetensors checkpoint file.
/// </summary>
internal static class OSNetFixtures
{
    public static readonly string[] Variants = ["osnet_x0_25", "osnet_x0_5", "osnet_x0_75", "osnet_x1_0", "osnet_ibn_x1_0"];

    public static readonly string[] Stages = ["conv1", "maxpool", "conv2", "conv3", "conv4", "conv5", "global_avgpool", "fc"];

    private static readonly Lazy<string> RootLazy = new(FindRoot);
    private static readonly Lazy<JsonDocument> ManifestLazy = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "manifest.json"))));

    private static readonly ConcurrentDictionary<string, Lazy<Run>> Runs = new();

    public static string Root => RootLazy.Value;

    public static JsonElement Manifest => ManifestLazy.Value.RootElement;

    public static int Seed => Manifest.GetProperty("seed").GetInt32();

    public static int NumClasses => Manifest.GetProperty("num_classes").GetInt32();

    public static JsonElement Variant(string variant) => Manifest.GetProperty("variants").GetProperty(variant);

    public static Tensor Read(string relative) => Npy.Read(Path.Combine(Root, relative));

    public static int[] Shape(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>The variant with the generated weights loaded strictly.</summary>
    public static OSNet Build(string variant)
    {
        OSNet model = OSNet.Create(variant, NumClasses);
        model.LoadStateDict(OSNetFixtureWeights.For(model, variant, Seed));
        return model;
    }

    /// <summary>True for the variants whose generated checkpoint carries DataParallel's <c>module.</c> prefixes.</summary>
    public static bool HasModulePrefix(string variant) => Array.IndexOf(Variants, variant) % 2 == 1;

    /// <summary>
    /// Writes the generated weights of <paramref name="variant"/> as a safetensors checkpoint at <paramref name="path"/>,
    /// in state_dict order, with <c>module.</c> prefixes when <see cref="HasModulePrefix"/>.
    /// </summary>
    public static void WriteCheckpoint(string variant, string path)
    {
        OSNet model = OSNet.Create(variant, NumClasses);
        var weights = OSNetFixtureWeights.For(model, variant, Seed);
        var stateDict = new StateDict();
        foreach (var (name, _) in model.NamedTensors())
        {
            stateDict.Add(HasModulePrefix(variant) ? "module." + name : name, weights[name]);
        }

        SafeTensors.Write(path, stateDict);
    }

    /// <summary>
    /// The variant loaded strictly from a real checkpoint file: the generated weights written by
    /// <see cref="WriteCheckpoint"/> and read back by <see cref="Checkpoint.Load"/>, so the golden runs of every
    /// variant also cover the loader (OSNetCheckpointTests checks the loaded tensors bit for bit).
    /// </summary>
    public static OSNet BuildFromCheckpoint(string variant)
    {
        string path = Path.Combine(Path.GetTempPath(), $"learn-{variant}-{Guid.NewGuid():N}.safetensors");
        try
        {
            WriteCheckpoint(variant, path);
            OSNet model = OSNet.Create(variant, NumClasses);
            model.LoadStateDict(Checkpoint.Load(path));
            return model;
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The shared forward pass of <paramref name="variant"/> on the fixture input.</summary>
    public static Run RunOf(string variant) => Runs.GetOrAdd(variant, v => new Lazy<Run>(() => Run.Of(v))).Value;

    /// <summary>Asserts closeness under the project rule for reduction length <paramref name="k"/> and reports the errors.</summary>
    public static void AssertClose(string what, Tensor actual, Tensor expected, long k)
    {
        Comparison c = Comparison.Of(actual, expected, Tolerance.ForReduction(k));
        TestContext.Out.WriteLine($"{what} (K = {k}): {c.Describe()}");
        Assert.That(c.Close, Is.True, $"{what} (K = {k}): {c.Describe()}");
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "reference-weights", "osnet");
            if (File.Exists(Path.Combine(candidate, "manifest.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("reference-weights/osnet/manifest.json not found above the test directory; run export_osnet.py");
    }

    /// <summary>One variant's results: the batch-2 stages and output, each sample alone, and the cost table at batch 2.</summary>
    internal sealed class Run
    {
        public required OSNet Model { get; init; }

        public required IReadOnlyDictionary<string, Tensor> Activations { get; init; }

        public required Tensor Output { get; init; }

        public required Tensor[] Alone { get; init; }

        public required CostTable Table { get; init; }

        public static Run Of(string variant)
        {
            OSNet model = BuildFromCheckpoint(variant);
            Tensor x = Read(Manifest.GetProperty("input").GetProperty("file").GetString()!);
            var recorder = new ActivationRecorder(name => Stages.Contains(name));
            int batch = x.Size(0), sample = x.Length / batch;
            var alone = new Tensor[batch];
            Tensor? y = null;

            // The batch and each sample alone run side by side (the reference itself is single-threaded).
            var work = new List<Action> { () => y = model.Forward(x, recorder) };
            for (int n = 0; n < batch; n++)
            {
                int i = n;
                work.Add(() =>
                {
                    int[] shape = x.Shape;
                    shape[0] = 1;
                    alone[i] = model.Forward(new Tensor(shape, x.Data.AsSpan(i * sample, sample).ToArray()));
                });
            }

            Parallel.Invoke(work.ToArray());

            return new Run
            {
                Model = model,
                Activations = recorder.Items.ToDictionary(p => p.Key, p => p.Value),
                Output = y!,
                Alone = alone,
                Table = CostTable.For(model, x.Size(2), x.Size(3), batch: batch),
            };
        }
    }
}
