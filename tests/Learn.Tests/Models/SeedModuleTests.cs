using System.Text.Json;
using Learn.Analysis;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Verification;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Models;

/// <summary>The seeds' other modules against PyTorch twins written from the same specification (export_osnet.py).</summary>
[TestFixture]
public class SeedModuleTests
{
    private static readonly Dictionary<string, Func<Module>> Builders = new()
    {
        ["dwconv_k5_s2"] = () => new DWConv(8, 12, 5, stride: 2),
        ["dsconv_k3_s2"] = () => new DepthwiseSeparableConv(8, 12, 3, stride: 2),
        ["dilated_multibranch"] = () => new DilatedMultiBranch(8, 12),
    };

    public static IEnumerable<string> Names => Builders.Keys;

    [TestCaseSource(nameof(Names))]
    public void Output_keys_parameters_and_macs_match_pytorch(string name)
    {
        JsonElement entry = Manifest.GetProperty("seed_modules").GetProperty(name);
        Module module = Builders[name]();
        var keys = entry.GetProperty("state_dict").EnumerateArray().Select(e => (e[0].GetString()!, Shape(e[1]))).ToList();
        Assert.That(module.NamedTensors().Select(p => (p.Key, p.Value.Shape)).Select(p => p.Key), Is.EqualTo(keys.Select(k => k.Item1)));
        module.LoadStateDict(OSNetFixtureWeights.For(module, name, Seed));

        Tensor x = Read(entry.GetProperty("input").GetProperty("file").GetString()!);
        Tensor expected = Read(entry.GetProperty("output").GetProperty("file").GetString()!);
        CostTable table = CostTable.For(module, x.Size(2), x.Size(3), x.Size(1), x.Size(0));
        Assert.That(table.Output.Shape, Is.EqualTo(expected.Shape));
        AssertClose(name, module.Forward(x), expected, table.Output.Reduction);
        Assert.That(table.TotalParameters, Is.EqualTo(entry.GetProperty("parameters").GetInt64()));
        Assert.That(table.Macs, Is.EqualTo(entry.GetProperty("macs_batch").GetInt64()));
    }

    [Test]
    public void Dwconv_costs_a_depthwise_plus_a_pointwise_conv()
    {
        var m = new DWConv(32, 64, 5, stride: 2);
        long convWeights = m.NamedParameters().Where(p => p.Key.EndsWith("conv.weight", StringComparison.Ordinal)).Sum(p => (long)p.Value.Length);
        Assert.That(convWeights, Is.EqualTo(32 * 5 * 5 + 32 * 64));
        Assert.That(m.Dconv.Conv.Groups, Is.EqualTo(32));
        Assert.That(CostTable.For(m, 20, 20, 32).Output.Shape, Is.EqualTo(new[] { 1, 64, 10, 10 }));
    }

    [Test]
    public void Dilated_module_branches_span_21_43_73_and_keep_the_size()
    {
        var m = new DilatedMultiBranch(8, 12);
        CostTable table = CostTable.For(m, 24, 20, 8);
        Assert.That(table.RowsOf("branch5.depthwise.conv").Single().Height.Size, Is.EqualTo(21));
        Assert.That(table.RowsOf("branch7.depthwise.conv").Single().Height.Size, Is.EqualTo(43));
        Assert.That(table.RowsOf("branch9.depthwise.conv").Single().Height.Size, Is.EqualTo(73));
        Assert.That(table.RowsOf("fuse").Single().OutputShape, Is.EqualTo(new[] { 1, 12, 24, 20 }));
        Assert.That(m.Fuse.Depthwise.Conv.InChannels, Is.EqualTo(3 * 4 + 8), "three branches of C_in/2 and the input");
        Assert.That(table.Output.Height.Size, Is.EqualTo(73));
    }
}
