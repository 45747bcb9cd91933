using Learn.Analysis;
using Learn.Layers;
using Learn.Models;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Tests.Models;

/// <summary>Capturing every layer's output without touching the layers' code.</summary>
[TestFixture]
public class ActivationCaptureTests
{
    private static OSNet SmallModel(out Tensor x)
    {
        OSNet model = OSNet.Create("osnet_ibn_x1_0", 16);
        model.LoadStateDict(OSNetFixtureWeights.For(model, "capture", 7));
        x = OSNetFixtureWeights.Input(7, "capture/input", [1, 3, 32, 16]);
        return model;
    }

    [Test]
    public void Every_module_call_is_captured_with_the_traces_shape()
    {
        OSNet model = SmallModel(out Tensor x);
        var recorder = new ActivationRecorder();
        Tensor y = model.Forward(x, recorder);
        CostTable table = CostTable.For(model, 32, 16);
        var calls = new Dictionary<string, int>();
        var expected = table.Rows.Select(r =>
        {
            calls[r.Name] = calls.GetValueOrDefault(r.Name) + 1;
            return (Key: ActivationRecorder.KeyOf(r.Name, calls[r.Name]), r.OutputShape);
        }).ToDictionary(p => p.Key, p => p.OutputShape);
        Assert.That(recorder.Items.Select(i => i.Key), Is.EquivalentTo(expected.Keys));
        foreach (var (key, tensor) in recorder.Items)
        {
            Assert.That(tensor.Shape, Is.EqualTo(expected[key]), key);
        }

        Assert.That(recorder.Items.Select(i => i.Key), Does.Contain("conv2.0.gate@4").And.Contain("conv2.0.IN"));
        Assert.That(recorder["fc"].Data, Is.EqualTo(y.Data));
    }

    [Test]
    public void Capture_does_not_change_the_output_and_captured_layers_compose()
    {
        OSNet model = SmallModel(out Tensor x);
        var recorder = new ActivationRecorder(name => name.StartsWith("conv2.0", StringComparison.Ordinal));
        Tensor captured = model.Forward(x, recorder);
        Tensor plain = model.Forward(x);
        Assert.That(captured.Data, Is.EqualTo(plain.Data));
        Assert.That(recorder.Items.All(i => i.Key.StartsWith("conv2.0", StringComparison.Ordinal)), Is.True);

        // The second lite conv of stream b consumes the first one's output.
        var block = (OSBlock)model.GetSubmodule("conv2.0");
        Tensor again = ((Sequential)block.Conv2b)[1].Forward(recorder["conv2.0.conv2b.0"]);
        Assert.That(again.Data, Is.EqualTo(recorder["conv2.0.conv2b.1"].Data));
        // The gate's k-th call gates the k-th stream.
        Tensor gated = block.Gate.Forward(recorder["conv2.0.conv2c"]);
        Assert.That(gated.Data, Is.EqualTo(recorder["conv2.0.gate@3"].Data));
    }

    [Test]
    public void Named_modules_follow_pytorchs_preorder()
    {
        var names = OSNet.Create("osnet_x0_25").NamedModules().Select(p => p.Key).Take(8).ToList();
        Assert.That(names, Is.EqualTo(new[] { "", "conv1", "conv1.conv", "conv1.bn", "conv1.relu", "maxpool", "conv2", "conv2.0" }));
        Assert.Throws<KeyNotFoundException>(() => OSNet.Create("osnet_x0_25").GetSubmodule("conv2.9"));
    }
}

/// <summary>Dumping activations to a folder, one .npy per module call.</summary>
[TestFixture]
public class ActivationDirectoryTests
{
    [Test]
    public void Every_call_lands_in_its_own_file_with_the_recorders_key()
    {
        string folder = Path.Combine(Path.GetTempPath(), "learn-activations-" + Guid.NewGuid().ToString("N"));
        try
        {
            OSNet model = OSNet.Create("osnet_x0_25", 16);
            model.LoadStateDict(OSNetFixtureWeights.For(model, "dump", 3));
            Tensor x = OSNetFixtureWeights.Input(3, "dump/input", [1, 3, 32, 16]);
            var dump = new ActivationDirectory(folder, name => name.StartsWith("conv2.0.gate", StringComparison.Ordinal) || name == "fc");
            var recorder = new ActivationRecorder(name => name.StartsWith("conv2.0.gate", StringComparison.Ordinal) || name == "fc");
            model.Forward(x, dump);
            model.Forward(x, recorder);
            Assert.That(dump.Written, Is.EqualTo(recorder.Items.Select(i => i.Key)));
            Assert.That(dump.Written, Does.Contain("conv2.0.gate@4").And.Contain("conv2.0.gate.fc1@2"));
            foreach (var (key, tensor) in recorder.Items)
            {
                Tensor read = global::Learn.IO.Npy.Read(Path.Combine(folder, key + ".npy"));
                Assert.That(read.Shape, Is.EqualTo(tensor.Shape), key);
                Assert.That(read.Data, Is.EqualTo(tensor.Data), key);
            }
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
