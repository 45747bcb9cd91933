using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Ops;
using Learn.Tensors;
using Learn.Tests.Models;
using Learn.Verification;

namespace Learn.Tests.Verification;

/// <summary>
/// The port catalogue (reference-weights/port-catalogue, made by make_catalogue.py with PyTorch): every bug is
/// named at its layer with and without error propagation, every correct port passes both, under the default rule.
/// The reference dumps are Learn's own (<see cref="PortReference.Dump"/>) from the same generated weights.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class PortCatalogueTests
{
    private static readonly Lazy<string> RootLazy = new(() => Path.Combine(Path.GetDirectoryName(OSNetFixtures.Root)!, "port-catalogue"));
    private static readonly Lazy<JsonDocument> ManifestLazy = new(() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "manifest.json"))));
    private static readonly ConcurrentDictionary<string, (OSNet Model, string Dump)> References = new();
    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), "learn-port-catalogue-" + Guid.NewGuid().ToString("N"));

    private static string Root => RootLazy.Value;

    private static JsonElement Cases => ManifestLazy.Value.RootElement.GetProperty("cases");

    public static IEnumerable<string> CaseNames() => Cases.EnumerateObject().Select(p => p.Name).ToList();

    [OneTimeTearDown]
    public void DeleteScratch()
    {
        if (Directory.Exists(Scratch))
        {
            Directory.Delete(Scratch, recursive: true);
        }
    }

    [TestCaseSource(nameof(CaseNames))]
    public void CaseIsJudgedRight(string name)
    {
        JsonElement spec = Cases.GetProperty(name);
        string variant = spec.GetProperty("variant").GetString()!;
        string? expected = spec.GetProperty("expected_layer").GetString();
        var (model, dump) = Reference(variant, Gains(spec));
        PortReport report = PortCheck.Run(Path.Combine(Root, name), dump, model);
        Log(name, report);
        Assert.Multiple(() =>
        {
            Assert.That(report.Layers, Is.Not.Empty);
            if (expected is null)
            {
                Assert.That(report.FirstPropagated?.Key, Is.Null, "a correct port passes with error propagation");
                Assert.That(report.FirstIsolated?.Key, Is.Null, "a correct port passes without error propagation");
                Assert.That(report.Layers.Count(l => l.Isolated is not null), Is.GreaterThan(report.Layers.Count / 2), "most layers are checked in isolation");
            }
            else
            {
                Assert.That(report.FirstPropagated?.Key, Is.EqualTo(expected), "the first divergence with error propagation");
                Assert.That(report.FirstIsolated?.Key, Is.EqualTo(expected), "the layer that introduces the error (isolated)");
            }
        });
    }

    [TestCase("osnet_x0_25")]
    [TestCase("osnet_x1_0")]
    public void FastPathIsACorrectPort(string variant)
    {
        PortReport report = FastPath(variant);
        Log("fast path " + variant, report);
        Assert.That(report.Passed, Is.True, $"first divergence {report.FirstPropagated?.Key}, first introduced {report.FirstIsolated?.Key}");
    }

    // Learn's own fast path (folded BatchNorm, fused epilogues, float32 accumulation) as a port.
    private static PortReport FastPath(string variant)
    {
        var (model, dump) = Reference(variant, []);
        string folder = Path.Combine(Scratch, "fast-" + variant);
        if (!Directory.Exists(folder))
        {
            // The execution plan learn osnet --impl fast runs; its fused groups' inner layers are not in the dump.
            Learn.Engine.OSNetPlan.Fuse(OSNetFixturesBuild(variant, new Dictionary<string, double>())).Forward(Input(), new ActivationDirectory(folder));
        }

        return PortCheck.Run(folder, dump, model);
    }

    /// <summary>The margins the README states: worst correct-port ratio and smallest bug ratio, in units of the tolerance.</summary>
    [Test]
    public void MarginsBetweenRoundingAndBugs()
    {
        double correctP = 0, correctI = 0, bugP = double.PositiveInfinity, bugI = double.PositiveInfinity;
        string worstCorrect = "", weakestBug = "";
        foreach (string name in CaseNames())
        {
            JsonElement spec = Cases.GetProperty(name);
            var (model, dump) = Reference(spec.GetProperty("variant").GetString()!, Gains(spec));
            PortReport report = PortCheck.Run(Path.Combine(Root, name), dump, model);
            string? expected = spec.GetProperty("expected_layer").GetString();
            if (expected is null)
            {
                double p = report.Layers.Max(l => l.Propagated?.WorstRatio ?? 0), i = report.Layers.Max(l => l.Isolated?.WorstRatio ?? 0);
                worstCorrect = p > correctP ? name : worstCorrect;
                correctP = Math.Max(correctP, p);
                correctI = Math.Max(correctI, i);
            }
            else
            {
                PortLayer layer = report.Layers.Single(l => l.Key == expected);
                double p = layer.Propagated!.WorstRatio, i = layer.Isolated!.WorstRatio;
                TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} at {expected}: propagated {p:G3}, isolated {i:G3}"));
                weakestBug = Math.Min(p, i) < Math.Min(bugP, bugI) ? name : weakestBug;
                bugP = Math.Min(bugP, p);
                bugI = Math.Min(bugI, i);
            }
        }

        foreach (string variant in new[] { "osnet_x0_25", "osnet_x1_0" })
        {
            PortReport report = FastPath(variant);
            double p = report.Layers.Max(l => l.Propagated?.WorstRatio ?? 0), i = report.Layers.Max(l => l.Isolated?.WorstRatio ?? 0);
            worstCorrect = p > correctP ? "fast path " + variant : worstCorrect;
            correctP = Math.Max(correctP, p);
            correctI = Math.Max(correctI, i);
        }

        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"with error propagation: largest correct-port ratio {correctP:G3} ({worstCorrect}), smallest bug ratio {bugP:G3}; " +
            $"isolated: largest correct-port ratio {correctI:G3}, smallest bug ratio {bugI:G3} (weakest bug: {weakestBug})"));
        Assert.Multiple(() =>
        {
            Assert.That(correctP, Is.LessThanOrEqualTo(1));
            Assert.That(correctI, Is.LessThanOrEqualTo(1));
            Assert.That(bugP, Is.GreaterThan(1));
            Assert.That(bugI, Is.GreaterThan(1));
        });
    }

    private static void Log(string name, PortReport report)
    {
        PortLayer? worstP = report.Layers.Where(l => l.Propagated is not null).MaxBy(l => l.Propagated!.WorstRatio);
        PortLayer? worstI = report.Layers.Where(l => l.Isolated is not null).MaxBy(l => l.Isolated!.WorstRatio);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {report.Layers.Count} layers; first divergence {report.FirstPropagated?.Key ?? "-"}, first introduced {report.FirstIsolated?.Key ?? "-"}; " +
            $"largest ratio propagated {worstP?.Propagated!.WorstRatio:G3} at {worstP?.Key}, isolated {worstI?.Isolated!.WorstRatio:G3} at {worstI?.Key}"));
    }

    /// <summary>The gains a manifest case applies to the generated weights (key -> factor).</summary>
    internal static Dictionary<string, double> Gains(JsonElement spec) =>
        spec.GetProperty("gains").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());

    private static Tensor Input() => Npy.Read(Path.Combine(Root, "input.npy"));

    /// <summary>The fixture model of <paramref name="variant"/> with the generated weights, <paramref name="gains"/> applied (as make_catalogue.py does).</summary>
    internal static OSNet OSNetFixturesBuild(string variant, IReadOnlyDictionary<string, double> gains)
    {
        OSNet model = OSNet.Create(variant, OSNetFixtures.NumClasses);
        Dictionary<string, Tensor> weights = OSNetFixtureWeights.For(model, variant, OSNetFixtures.Seed);
        foreach (var (key, factor) in gains)
        {
            float[] data = weights[key].Data;
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (float)(data[i] * factor);
            }
        }

        model.LoadStateDict(weights);
        return model;
    }

    /// <summary>One name per distinct model (variant and gains), for caches and scratch folders.</summary>
    internal static string ModelId(string variant, IReadOnlyDictionary<string, double> gains) =>
        variant + string.Concat(gains.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"-{g.Key}x{g.Value}"));

    private static (OSNet Model, string Dump) Reference(string variant, Dictionary<string, double> gains)
    {
        string id = ModelId(variant, gains);
        return References.GetOrAdd(id, _ =>
        {
            OSNet model = OSNetFixturesBuild(variant, gains);
            string folder = Path.Combine(Scratch, "ref-" + id);
            PortReference.Dump(model, Input(), new ActivationDirectory(folder));
            return (model, folder);
        });
    }
}
