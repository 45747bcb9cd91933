using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Learn.Cli.Onnx;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Tests.Models;
using Learn.Verification;

namespace Learn.Tests.Verification;

/// <summary>
/// The port catalogue as ONNX exports (reference-weights/port-catalogue/export_onnx.py, real torch.onnx): the logic
/// of <c>learn diff-onnx</c> (<see cref="OnnxPortCheck"/>) names every bug at its layer, with and without error
/// propagation, at batch 1 and batch 2, and passes every correct export, under the default rule. x0_25 is exported
/// with BatchNorm folded (a bug in a conv or its BatchNorm is named at the fused boundary, under the BatchNorm's
/// name: the manifest's expected_layer); x1_0 with BatchNorm kept, its external weights file written here by
/// <see cref="OSNetFixtureWeights"/> and checked against the SHA-256 the export script recorded.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OnnxPortCatalogueTests
{
    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), "learn-onnx-catalogue-" + Guid.NewGuid().ToString("N"));
    private static readonly ConcurrentDictionary<string, OSNet> Models = new();
    private static readonly ConcurrentDictionary<string, string> ReferenceDumps = new();
    private static readonly ConcurrentDictionary<string, Result> Results = new();
    private static readonly Lazy<string> WeightsFolder = new(WriteGeneratedWeights);
    private static readonly Lazy<JsonDocument> ManifestLazy = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Catalogue, "onnx", "manifest.json"))));

    private sealed record Result(IReadOnlyList<string> Absent, IReadOnlyList<OnnxBatchRun> Runs);

    private static string Catalogue => Path.Combine(Path.GetDirectoryName(OSNetFixtures.Root)!, "port-catalogue");

    private static JsonElement Manifest => ManifestLazy.Value.RootElement;

    public static IEnumerable<string> CaseNames() => Manifest.GetProperty("cases").EnumerateObject().Select(p => p.Name).ToList();

    [OneTimeTearDown]
    public void DeleteScratch()
    {
        if (Directory.Exists(Scratch))
        {
            Directory.Delete(Scratch, recursive: true);
        }
    }

    /// <summary>The uncommitted x1_0 weights file, written from the generator, is byte for byte the one the exports were checked with.</summary>
    [Test]
    public void The_generator_rebuilds_the_uncommitted_weights_file()
    {
        foreach (JsonProperty variant in Manifest.GetProperty("weights").EnumerateObject())
        {
            JsonElement entry = variant.Value;
            string file = entry.GetProperty("committed").GetBoolean()
                ? Path.Combine(Catalogue, "onnx", entry.GetProperty("file").GetString()!)
                : Path.Combine(WeightsFolder.Value, entry.GetProperty("file").GetString()!);
            Assert.That(new FileInfo(file).Length, Is.EqualTo(entry.GetProperty("bytes").GetInt64()), file);
            Assert.That(Sha256(file), Is.EqualTo(entry.GetProperty("sha256").GetString()), file);
        }
    }

    [TestCaseSource(nameof(CaseNames))]
    public void CaseIsJudgedRight(string name)
    {
        JsonElement spec = Manifest.GetProperty("cases").GetProperty(name);
        string? expected = spec.GetProperty("expected_layer").GetString();
        Result result = Check(name);
        Assert.That(result.Runs.Select(r => r.Batch), Is.EqualTo(new[] { 1, 2 }));
        foreach (OnnxBatchRun run in result.Runs)
        {
            string at = $"{name}, batch {run.Batch}";
            if (spec.GetProperty("batch2_fails").GetBoolean() && run.Batch == 2)
            {
                Assert.That(run.Failure, Does.Contain("fails at batch 2").And.Contain("batch size is baked in: /Reshape"), at);
                continue;
            }

            Assert.That(run.Failure, Is.Null, at);
            PortReport report = run.Report!;
            PortLayer? worst = report.Layers.Where(l => l.Propagated is not null).MaxBy(l => l.Propagated!.WorstRatio);
            string isolatedAt = (report.FirstIsolated is PortLayer first ? $"; isolated at {first.Key}: {Learn.Cli.Commands.DiffCommand.Detail(first.Isolated!)}" : "") +
                (worst is null ? "" : $"; largest propagated ratio at {worst.Key}: {Learn.Cli.Commands.DiffCommand.Detail(worst.Propagated!)}");
            TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{at}: {report.Layers.Count} layers; absent {string.Join(",", result.Absent)}; first divergence {report.FirstPropagated?.Key ?? "-"}, first introduced {report.FirstIsolated?.Key ?? "-"}; cosine {string.Join(", ", run.Cosine.Select(c => c.ToString("G9", CultureInfo.InvariantCulture)))}{isolatedAt}"));
            if (expected is null)
            {
                Assert.That(result.Absent, Is.Empty, at + ": every module has its node");
                Assert.That(report.FirstPropagated?.Key, Is.Null, at + ": a correct export passes with error propagation");
                Assert.That(report.FirstIsolated?.Key, Is.Null, at + ": a correct export passes without error propagation");
                Assert.That(report.Layers.Count(l => l.Isolated is not null), Is.GreaterThan(report.Layers.Count / 2), at + ": most layers are checked in isolation");
                Assert.That(run.Cosine, Has.All.GreaterThan(1 - 1e-6), at + ": float32 rounding moves 1 - cos by a few u at most");
            }
            else if (result.Absent.Count > 0)
            {
                // The bug removed the module's op from the graph (a ReLU replaced by Identity): named as absent.
                Assert.That(result.Absent[0], Is.EqualTo(expected), at + ": the first module without a node");
                Assert.That(report.Passed, Is.False, at + ": what reads the missing op's output diverges too");
            }
            else
            {
                Assert.That(report.FirstPropagated?.Key, Is.EqualTo(expected), at + ": the first divergence with error propagation");
                Assert.That(report.FirstIsolated?.Key, Is.EqualTo(expected), at + ": the layer that introduces the error (isolated)");
            }
        }
    }

    /// <summary>The margins the READMEs state: the largest correct-export ratio and the smallest bug ratio at its layer, in units of the tolerance.</summary>
    [Test]
    public void MarginsBetweenRoundingAndBugs()
    {
        double correctP = 0, correctI = 0, bugP = double.PositiveInfinity, bugI = double.PositiveInfinity;
        string worstCorrect = "", weakestBug = "";
        foreach (string name in CaseNames())
        {
            JsonElement spec = Manifest.GetProperty("cases").GetProperty(name);
            string? expected = spec.GetProperty("expected_layer").GetString();
            Result result = Check(name);
            foreach (OnnxBatchRun run in result.Runs.Where(r => r.Report is not null))
            {
                PortReport report = run.Report!;
                if (expected is null)
                {
                    double p = report.Layers.Max(l => l.Propagated?.WorstRatio ?? 0), i = report.Layers.Max(l => l.Isolated?.WorstRatio ?? 0);
                    worstCorrect = Math.Max(p, i) > Math.Max(correctP, correctI) ? $"{name} batch {run.Batch}" : worstCorrect;
                    correctP = Math.Max(correctP, p);
                    correctI = Math.Max(correctI, i);
                }
                else if (result.Absent.Count == 0)
                {
                    PortLayer layer = report.Layers.Single(l => l.Key == expected);
                    double p = layer.Propagated!.WorstRatio, i = layer.Isolated!.WorstRatio;
                    TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} batch {run.Batch} at {expected}: propagated {p:G3}, isolated {i:G3}"));
                    weakestBug = Math.Min(p, i) < Math.Min(bugP, bugI) ? $"{name} batch {run.Batch}" : weakestBug;
                    bugP = Math.Min(bugP, p);
                    bugI = Math.Min(bugI, i);
                }
            }
        }

        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ONNX exports: with error propagation: largest correct-export ratio {correctP:G3}, smallest bug ratio {bugP:G3}; " +
            $"isolated: largest correct-export ratio {correctI:G3}, smallest bug ratio {bugI:G3} (worst correct: {worstCorrect}; weakest bug: {weakestBug})"));
        Assert.Multiple(() =>
        {
            Assert.That(correctP, Is.LessThanOrEqualTo(1));
            Assert.That(correctI, Is.LessThanOrEqualTo(1));
            Assert.That(bugP, Is.GreaterThan(1));
            Assert.That(bugI, Is.GreaterThan(1));
        });
    }

    private static Result Check(string name) => Results.GetOrAdd(name, _ =>
    {
        JsonElement spec = Manifest.GetProperty("cases").GetProperty(name);
        string variant = spec.GetProperty("variant").GetString()!;
        var gains = PortCatalogueTests.Gains(spec);
        string id = PortCatalogueTests.ModelId(variant, gains);
        OSNet model = Models.GetOrAdd(id, _ => PortCatalogueTests.OSNetFixturesBuild(variant, gains));
        bool committed = Manifest.GetProperty("weights").GetProperty(variant).GetProperty("committed").GetBoolean();
        string onnx = Path.Combine(Catalogue, "onnx", name + ".onnx");
        if (!committed)
        {
            string copy = Path.Combine(WeightsFolder.Value, name + ".onnx");
            File.Copy(onnx, copy, overwrite: true);
            onnx = copy;
        }

        var runs = new List<OnnxBatchRun>();
        using OnnxPortCheck check = OnnxPortCheck.Open(onnx, model, variant);
        foreach (Tensor batch in OnnxPortCheck.Batches(Npy.Read(Path.Combine(Catalogue, "input.npy"))))
        {
            string reference = ReferenceDumps.GetOrAdd($"{id}-b{batch.Size(0)}", key =>
            {
                string folder = Path.Combine(Scratch, "ref-" + key);
                PortReference.Dump(model, batch, new ActivationDirectory(folder));
                return folder;
            });
            runs.Add(check.Run(batch, Path.Combine(Scratch, $"{name}-b{batch.Size(0)}"), reference));
        }

        return new Result(check.Absent, runs);
    });

    // The weights files the repository does not hold (x1_0: 8.7 MB), from the generator: the keys in the manifest's order, float32 little-endian.
    private static string WriteGeneratedWeights()
    {
        string folder = Path.Combine(Scratch, "weights");
        Directory.CreateDirectory(folder);
        foreach (JsonProperty variant in Manifest.GetProperty("weights").EnumerateObject().Where(v => !v.Value.GetProperty("committed").GetBoolean()))
        {
            var shapes = OSNet.Create(variant.Name, OSNetFixtures.NumClasses).NamedTensors().ToDictionary(p => p.Key, p => p.Value.Shape);
            string path = Path.Combine(folder, variant.Value.GetProperty("file").GetString()!);
            using (FileStream file = File.Create(path))
            {
                foreach (JsonElement key in variant.Value.GetProperty("keys").EnumerateArray())
                {
                    Tensor t = OSNetFixtureWeights.Generate(OSNetFixtures.Seed, $"{variant.Name}/{key.GetString()}", shapes[key.GetString()!]);
                    file.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
                }
            }

            // Not the bytes the exports were checked with: every x1_0 case would fail for the wrong reason.
            if (Sha256(path) != variant.Value.GetProperty("sha256").GetString())
            {
                throw new InvalidOperationException($"{path}: the generator no longer writes the weights export_onnx.py recorded (SHA-256 differs): OSNetFixtureWeights and export_osnet.py must change together");
            }
        }

        return folder;
    }

    private static string Sha256(string file)
    {
        using FileStream stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
