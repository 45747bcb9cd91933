using Learn.Ops;
using Learn.Verification;

namespace Learn.Tests.Golden;

/// <summary>
/// Every committed PyTorch fixture (reference-weights/manifest.json) run through the library and held to
/// the one tolerance rule. One NUnit case per fixture, named by its parameters.
/// </summary>
public class GoldenTests
{
    private static readonly Lazy<FixtureSuite> Suite = new(() =>
        FixtureSuite.Load(FixtureSuite.FindDefaultDirectory()
            ?? throw new FileNotFoundException("reference-weights/manifest.json not found above the current or base directory")));

    public static IEnumerable<TestCaseData> Cases() =>
        Suite.Value.Cases.Select(c => new TestCaseData(c).SetName(c.Name));

    [TestCaseSource(nameof(Cases))]
    public void Matches_PyTorch(FixtureCase fixture)
    {
        Comparison result = fixture.Run();
        Assert.That(result.Close, Is.True, $"{fixture.Name} (K={fixture.ReductionLength}): {result.Describe()}");
    }

    // The rule's slack is for float32 fast paths. The reference sums in double and rounds once, as the
    // exporter's float64 PyTorch result was rounded once, so the two may differ only where the exact value
    // lies near a float32 rounding boundary: by at most one ulp of the expected value.
    [Test]
    public void Reference_path_is_within_one_ulp_of_every_fixture()
    {
        var failures = new List<string>();
        foreach (FixtureCase c in Suite.Value.Cases)
        {
            Comparison result = c.Run(Implementation.Naive);
            float[] a = result.Actual.Data, e = result.Expected.Data;
            int worst = 0;
            for (int i = 0; i < e.Length; i++)
            {
                float ulp = MathF.BitIncrement(MathF.Abs(e[i])) - MathF.Abs(e[i]);
                if (!(MathF.Abs(a[i] - e[i]) <= ulp))
                {
                    worst++;
                }
            }

            if (worst > 0 || !result.Close)
            {
                failures.Add($"{c.Name}: {worst} values more than 1 ulp off; {result.Describe()}");
            }
        }

        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    // A source that silently yields nothing would pass; pin the suite's size and coverage instead.
    [Test]
    public void Suite_covers_every_operator()
    {
        FixtureSuite suite = Suite.Value;
        Assert.That(suite.TorchVersion, Does.StartWith("1.13"));
        Assert.That(suite.ComputeDtype, Is.EqualTo("float64"));
        Assert.That(suite.Cases, Has.Count.GreaterThanOrEqualTo(80));
        string[] ops =
        [
            "conv1d", "conv2d", "conv3d", "batch_norm", "instance_norm", "relu", "silu", "sigmoid",
            "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "linear", "cat", "add",
        ];
        Assert.That(suite.Cases.Select(c => c.Op).Distinct(), Is.EquivalentTo(ops));
    }

    [Test]
    public void Conv_cases_cover_every_padding_mode_same_and_valid()
    {
        var names = Suite.Value.Cases.Where(c => c.Op.StartsWith("conv", StringComparison.Ordinal)).Select(c => c.Name).ToList();
        foreach (string mode in new[] { "zeros", "reflect", "replicate", "circular" })
        {
            Assert.That(names, Has.Some.EndsWith("_" + mode).Or.Some.Contains("_" + mode + "_"), mode);
            Assert.That(names, Has.Some.Contains("_psame_").And.Some.Contains(mode), mode);
        }

        Assert.That(names, Has.Some.Contains("_pvalid_"));
        Assert.That(names, Has.Some.Contains("_nobias"));
    }

    // The exporter computes K in Python; the library computes it from the resolved geometry. They must agree,
    // or the tolerance a case is held to would be wrong.
    [Test]
    public void Manifest_reduction_length_matches_the_conv_geometry()
    {
        foreach (FixtureCase c in Suite.Value.Cases.Where(c => c.Op.StartsWith("conv", StringComparison.Ordinal)))
        {
            var input = Learn.IO.Npy.Read(c.Inputs["input"]);
            var weight = Learn.IO.Npy.Read(c.Inputs["weight"]);
            int dims = c.Op[4] - '0';
            var k = weight.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
            Assert.That(c.ReductionLength, Is.EqualTo(k), c.Name);
            Assert.That(input.Rank, Is.EqualTo(dims + 1).Or.EqualTo(dims + 2), c.Name);
        }
    }
}
