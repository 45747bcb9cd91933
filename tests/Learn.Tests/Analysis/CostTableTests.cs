using System.Text.Json;
using Learn.Analysis;
using Learn.Models;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Analysis;

/// <summary>The cost table against PyTorch's own counts (exported by forward hooks) and the OSNet paper's figures.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public class CostTableTests
{
    public static IEnumerable<string> AllVariants => Variants;

    [TestCaseSource(nameof(AllVariants))]
    public void Totals_equal_pytorchs_counts(string variant)
    {
        CostTable table = CostTable.For(OSNet.Create(variant, NumClasses), 256, 128);
        JsonElement v = Variant(variant);
        Assert.That(table.Parameters, Is.EqualTo(v.GetProperty("parameters").GetInt64()), "parameters without the classifier");
        Assert.That(table.TotalParameters, Is.EqualTo(v.GetProperty("total_parameters").GetInt64()));
        Assert.That(table.Macs, Is.EqualTo(v.GetProperty("macs").GetInt64()));
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Macs_of_every_conv_and_linear_layer_equal_pytorchs(string variant)
    {
        CostTable table = CostTable.For(OSNet.Create(variant, NumClasses), 256, 128);
        var ours = table.Rows.Where(r => r.Type is "Conv2d" or "Linear")
            .GroupBy(r => r.Name).ToDictionary(g => g.Key, g => g.Sum(r => r.Macs));
        var theirs = Variant(variant).GetProperty("macs_by_layer").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.That(ours, Is.EquivalentTo(theirs));
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Every_module_call_has_pytorchs_output_shape(string variant)
    {
        CostTable table = CostTable.For(OSNet.Create(variant, NumClasses), 256, 128);
        var calls = new Dictionary<string, int>();
        var ours = new Dictionary<string, int[]>();
        foreach (CostRow row in table.Rows)
        {
            calls[row.Name] = calls.GetValueOrDefault(row.Name) + 1;
            ours[Layers.ActivationRecorder.KeyOf(row.Name, calls[row.Name])] = row.OutputShape;
        }

        var theirs = Variant(variant).GetProperty("output_shapes").EnumerateObject().ToDictionary(p => p.Name, p => Shape(p.Value));
        Assert.That(ours.Keys, Is.EquivalentTo(theirs.Keys));
        foreach (var (key, shape) in theirs)
        {
            Assert.That(ours[key], Is.EqualTo(shape), key);
        }
    }

    // Zhou et al., ICCV 2019, Table 1/5: parameters (M) and multiply-adds (M) at 256x128, classifier excluded.
    [TestCase("osnet_x1_0", 2.2, 978.9)]
    [TestCase("osnet_x0_75", 1.3, 571.8)]
    [TestCase("osnet_x0_5", 0.6, 272.9)]
    [TestCase("osnet_x0_25", 0.2, 82.3)]
    public void Totals_reproduce_the_papers_figures(string variant, double millionParameters, double millionMacs)
    {
        CostTable table = CostTable.For(OSNet.Create(variant), 256, 128);
        Assert.That(Math.Round(table.Parameters / 1e6, 1), Is.EqualTo(millionParameters));
        Assert.That(Math.Round(table.Macs / 1e6, 1), Is.EqualTo(millionMacs));
    }

    [Test]
    public void Macs_scale_with_the_batch_and_the_gate_counts_once_per_stream()
    {
        OSNet model = OSNet.Create("osnet_x0_25");
        CostTable one = CostTable.For(model, 256, 128), two = CostTable.For(model, 256, 128, batch: 2);
        Assert.That(two.Macs, Is.EqualTo(2 * one.Macs));
        Assert.That(one.RowsOf("conv2.0.gate").Count(), Is.EqualTo(4));
        Assert.That(one.RowsOf("conv2.0.gate.fc1").Sum(r => r.Macs), Is.EqualTo(4L * 16 * 1));
    }

    [Test]
    public void Json_carries_the_totals_and_every_row()
    {
        CostTable table = CostTable.For(OSNet.Create("osnet_x0_25"), 256, 128);
        using JsonDocument doc = JsonDocument.Parse(table.ToJson());
        JsonElement root = doc.RootElement;
        Assert.That(root.GetProperty("macs").GetInt64(), Is.EqualTo(82_314_880));
        Assert.That(root.GetProperty("parameters").GetInt64(), Is.EqualTo(table.Parameters));
        JsonElement layers = root.GetProperty("layers");
        Assert.That(layers.GetArrayLength(), Is.EqualTo(table.Rows.Count));
        JsonElement conv5 = layers.EnumerateArray().Single(l => l.GetProperty("name").GetString() == "conv5");
        Assert.That(Shape(conv5.GetProperty("output_shape")), Is.EqualTo(new[] { 1, 128, 16, 8 }));
        Assert.That(conv5.GetProperty("receptive_field").GetProperty("height").GetProperty("size").GetInt64(), Is.EqualTo(471));
        Assert.That(conv5.GetProperty("receptive_field").GetProperty("width").GetProperty("jump").GetInt64(), Is.EqualTo(16));
    }

    [Test]
    public void Text_lists_rows_and_totals()
    {
        string text = CostTable.For(OSNet.Create("osnet_x1_0"), 256, 128).ToText();
        Assert.That(text, Does.Contain("conv2.0.conv2b.1.conv2").And.Contain("(978.9M)").And.Contain("(2.2M)"));
    }

    [Test]
    public void A_wrong_input_size_is_refused_with_the_layer_name()
    {
        var ex = Assert.Throws<ArgumentException>(() => CostTable.For(OSNet.Create("osnet_x0_25"), 256, 128, channels: 4))!;
        Assert.That(ex.Message, Does.Contain("conv1.conv").And.Contain("[1, 4, 256, 128]"));
    }
}
