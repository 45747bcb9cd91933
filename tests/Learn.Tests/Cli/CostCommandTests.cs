using System.Text.Json;
using Learn.Tests.Models;

namespace Learn.Tests.Cli;

/// <summary><c>learn cost</c>: PyTorch's counts (forward hooks, in the osnet manifest) and the OSNet paper's figures.</summary>
[TestFixture]
public sealed class CostCommandTests : CliTestBase
{
    public static IEnumerable<string> AllVariants => OSNetFixtures.Variants;

    private static JsonElement Json(params string[] args)
    {
        CliResult r = Run(["cost", .. args, "--json"]);
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        return JsonDocument.Parse(r.Out).RootElement;
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Json_totals_equal_pytorchs_counts(string variant)
    {
        JsonElement ours = Json("--variant", variant, "--num-classes", OSNetFixtures.NumClasses.ToString(System.Globalization.CultureInfo.InvariantCulture));
        JsonElement theirs = OSNetFixtures.Variant(variant);
        Assert.That(ours.GetProperty("parameters").GetInt64(), Is.EqualTo(theirs.GetProperty("parameters").GetInt64()));
        Assert.That(ours.GetProperty("total_parameters").GetInt64(), Is.EqualTo(theirs.GetProperty("total_parameters").GetInt64()));
        Assert.That(ours.GetProperty("macs").GetInt64(), Is.EqualTo(theirs.GetProperty("macs").GetInt64()));
        Assert.That(ours.GetProperty("input_shape").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 3, 256, 128 }));

        // Per layer too: the MACs of every Conv2d and Linear, summed over its calls.
        var macs = ours.GetProperty("layers").EnumerateArray()
            .Where(l => l.GetProperty("type").GetString() is "Conv2d" or "Linear")
            .GroupBy(l => l.GetProperty("name").GetString()!)
            .ToDictionary(g => g.Key, g => g.Sum(l => l.GetProperty("macs").GetInt64()));
        Assert.That(macs, Is.EquivalentTo(theirs.GetProperty("macs_by_layer").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64())));
    }

    // Zhou et al., ICCV 2019: parameters (M) and multiply-adds (M) at 256x128, classifier excluded.
    [TestCase("osnet_x1_0", "2.2M", "978.9M")]
    [TestCase("osnet_x0_75", "1.3M", "571.8M")]
    [TestCase("osnet_x0_5", "0.6M", "272.9M")]
    [TestCase("osnet_x0_25", "0.2M", "82.3M")]
    public void Default_size_reproduces_the_papers_figures(string variant, string parameters, string macs)
    {
        CliResult r = Run("cost", "--variant", variant);
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        Assert.That(r.Out, Does.StartWith($"{variant}, input 256x128\n"));
        Assert.That(r.Out, Does.Contain($"parameters used: ").And.Contain($"({parameters}); all parameters"));
        Assert.That(r.Out, Does.Contain($"({macs})\n"));
        JsonElement json = Json("--variant", variant);
        Assert.That($"{Math.Round(json.GetProperty("parameters").GetInt64() / 1e6, 1):F1}M", Is.EqualTo(parameters));
        Assert.That($"{Math.Round(json.GetProperty("macs").GetInt64() / 1e6, 1):F1}M", Is.EqualTo(macs));
    }

    [Test]
    public void Other_sizes_scale_the_macs_and_not_the_parameters()
    {
        JsonElement full = Json("--variant", "osnet_x0_25"), half = Json("--variant", "osnet_x0_25", "--height", "128", "--width", "64");
        Assert.That(half.GetProperty("parameters").GetInt64(), Is.EqualTo(full.GetProperty("parameters").GetInt64()));
        Assert.That(half.GetProperty("macs").GetInt64(), Is.LessThan(full.GetProperty("macs").GetInt64() / 3));
        Assert.That(half.GetProperty("layers")[0].GetProperty("output_shape").EnumerateArray().Select(e => e.GetInt32()), Is.EqualTo(new[] { 1, 16, 64, 32 }));
    }

    [Test]
    public void Text_table_has_a_row_per_call_with_the_receptive_field()
    {
        CliResult r = Run("cost", "--variant", "osnet_x0_25");
        Assert.That(r.Out, Does.Contain("conv1.conv ").And.Contain("7 x 7"));
        Assert.That(r.Out.Split('\n').Count(l => l.StartsWith("conv2.0.gate ", StringComparison.Ordinal)), Is.EqualTo(4), "the shared gate once per stream");
    }

    [Test]
    public void Errors_are_one_line()
    {
        AssertOneLineError(Run("cost", "--variant", "osnet_x3"), 2, "learn: --variant: must be one of osnet_x1_0,");
        AssertOneLineError(Run("cost", "--variant", "osnet_x0_25", "--height", "0"), 2, "learn: --height: must be an integer >= 1, got '0'");
        AssertOneLineError(Run("cost"), 2, "learn: --variant: required option missing");
        AssertOneLineError(Run("cost", "--variant", "osnet_x0_25", "--height", "16", "--width", "8"), 1,
            "learn cost: a 16x8 input is too small for osnet_x0_25: ", "smaller than the window");
    }
}
