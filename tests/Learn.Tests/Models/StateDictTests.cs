using System.Text.Json;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Verification;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Models;

/// <summary>State_dict names, order and shapes equal PyTorch's; strict and non-strict loading report what does not fit.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public class StateDictTests
{
    public static IEnumerable<string> AllVariants => Variants;

    [TestCaseSource(nameof(AllVariants))]
    public void Keys_order_and_shapes_equal_pytorchs(string variant)
    {
        OSNet model = OSNet.Create(variant, NumClasses);
        var expected = Variant(variant).GetProperty("state_dict").EnumerateArray()
            .Select(e => (e[0].GetString()!, Shape(e[1]))).ToList();
        var actual = model.NamedTensors().Select(p => (p.Key, p.Value.Shape)).ToList();
        Assert.That(actual.Select(a => a.Item1), Is.EqualTo(expected.Select(e => e.Item1)));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.That(actual[i].Item2, Is.EqualTo(expected[i].Item2), expected[i].Item1);
        }
    }

    [Test]
    public void Named_keys_from_the_issue_exist()
    {
        var keys = OSNet.Create("osnet_x1_0").StateDict();
        foreach (string key in new[] { "conv1.conv.weight", "conv2.0.conv2b.1.conv2.weight", "conv2.0.gate.fc1.bias", "fc.0.weight", "conv1.bn.running_var", "conv2.2.0.conv.weight", "conv2.0.downsample.bn.running_mean", "classifier.weight" })
        {
            Assert.That(keys.ContainsKey(key), key);
        }

        var ibn = OSNet.Create("osnet_ibn_x1_0").StateDict();
        Assert.That(ibn.ContainsKey("conv2.0.IN.weight") && ibn.ContainsKey("conv2.1.IN.bias"), Is.True);
        Assert.That(ibn.ContainsKey("conv1.bn.running_mean"), Is.False, "the IBN stem is an InstanceNorm: no running statistics");
        Assert.That(ibn.ContainsKey("conv3.0.IN.weight"), Is.False, "IN only in conv1 and conv2");
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Generated_weights_match_the_exported_checksums(string variant)
    {
        // Guards the C# twin of the generator: sums of dyadic values are exact in double.
        OSNet model = OSNet.Create(variant, NumClasses);
        JsonElement sums = Variant(variant).GetProperty("checksums");
        foreach (var (key, tensor) in OSNetFixtureWeights.For(model, variant, Seed))
        {
            double sum = 0, squares = 0;
            foreach (float v in tensor.Data)
            {
                sum += v;
                squares += (double)v * v;
            }

            JsonElement expected = sums.GetProperty(key);
            Assert.That(sum, Is.EqualTo(expected[0].GetDouble()), key);
            Assert.That(squares, Is.EqualTo(expected[1].GetDouble()), key);
        }
    }

    [Test]
    public void Generated_weights_equal_the_exported_npy_weights_bit_for_bit()
    {
        OSNet model = OSNet.Create("osnet_x0_25", NumClasses);
        string folder = Path.Combine(Root, Variant("osnet_x0_25").GetProperty("checkpoints").GetProperty("npy_dir").GetString()!);
        foreach (var (key, tensor) in OSNetFixtureWeights.For(model, "osnet_x0_25", Seed))
        {
            Tensor stored = global::Learn.IO.Npy.Read(Path.Combine(folder, key + ".npy"));
            Assert.That(stored.Shape, Is.EqualTo(tensor.Shape), key);
            Assert.That(stored.Data, Is.EqualTo(tensor.Data), key);
        }
    }

    [Test]
    public void Strict_loading_lists_every_problem_and_changes_nothing()
    {
        OSNet model = OSNet.Create("osnet_x0_25", NumClasses);
        var dict = OSNetFixtureWeights.For(model, "osnet_x0_25", Seed);
        dict.Remove("conv2.0.gate.fc1.bias");
        dict.Remove("fc.1.running_var");
        dict["conv2.0.conv2b.1.conv2.weight"] = Tensor.Zeros(16, 1, 5, 5);
        dict["conv9.weight"] = Tensor.Zeros(1);
        dict["conv1.bn.num_batches_tracked"] = Tensor.Zeros(1); // ignored, as PyTorch's counter
        var ex = Assert.Throws<StateDictMismatchException>(() => model.LoadStateDict(dict))!;
        Assert.That(ex.Match!.Missing.Select(m => m.Name), Is.EqualTo(new[] { "conv2.0.gate.fc1.bias", "fc.1.running_var" }));
        Assert.That(ex.Match.Unexpected.Select(u => u.Name), Is.EqualTo(new[] { "conv9.weight" }));
        Assert.That(ex.Match.Mismatched.Single().Name, Is.EqualTo("conv2.0.conv2b.1.conv2.weight"));
        Assert.That(ex.Match.Mismatched.Single().Expected, Is.EqualTo(new[] { 16, 1, 3, 3 }));
        Assert.That(ex.Message, Does.Contain("missing      conv2.0.gate.fc1.bias").And.Contain("unexpected   conv9.weight")
            .And.Contain("conv2.0.conv2b.1.conv2.weight: model [16, 1, 3, 3], checkpoint [16, 1, 5, 5]"));
        Assert.That(model.Conv1.Conv.Weight.Data.All(v => v == 0), Is.True, "a failed strict load must not change the model");
    }

    [Test]
    public void Non_strict_loading_loads_what_matches_and_reports_the_rest()
    {
        OSNet model = OSNet.Create("osnet_x0_25", NumClasses);
        var dict = OSNetFixtureWeights.For(model, "osnet_x0_25", Seed);
        dict.Remove("classifier.weight");
        dict["classifier.bias"] = Tensor.Zeros(1000); // another num_classes: torchreid skips it silently
        StateDictMatch report = model.LoadStateDict(dict, strict: false);
        Assert.That(report.Missing.Select(m => m.Name), Is.EqualTo(new[] { "classifier.weight" }));
        Assert.That(report.Mismatched.Select(m => m.Name), Is.EqualTo(new[] { "classifier.bias" }));
        Assert.That(report.Matched, Has.Count.EqualTo(model.NamedTensors().Count() - 2));
        Assert.That(model.Conv1.Conv.Weight.Data, Is.EqualTo(dict["conv1.conv.weight"].Data));
        Assert.That(model.Classifier.Bias!.Data.All(v => v == 0), Is.True);
    }

    [Test]
    public void Unknown_variant_is_refused_with_the_known_names()
    {
        var ex = Assert.Throws<ArgumentException>(() => OSNet.Create("osnet_x2_0"))!;
        Assert.That(ex.Message, Does.Contain("osnet_x2_0").And.Contain("osnet_ibn_x1_0"));
    }

    [Test]
    public void Default_num_classes_is_torchreids_1000()
    {
        Assert.That(OSNet.Create("osnet_x0_25").Classifier.Weight.Shape, Is.EqualTo(new[] { 1000, 512 }));
    }
}
