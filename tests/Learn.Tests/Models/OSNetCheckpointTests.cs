using Learn.IO;
using Learn.Models;
using Learn.Tensors;
using Learn.Tests.Cli;
using Learn.Verification;

namespace Learn.Tests.Models;

/// <summary>
/// Every variant from a checkpoint file. No checkpoints of the large variants are committed; the generator
/// reproduces PyTorch's exact weights (checked against the manifest's checksums in <see cref="StateDictTests"/>),
/// written as safetensors, half of them with DataParallel's <c>module.</c> prefixes. The golden runs
/// (<see cref="OSNetGoldenTests"/>: every stage, the feature and the logits at batch 2) load their weights this
/// way (<see cref="OSNetFixtures.BuildFromCheckpoint"/>), so they run each variant end to end from a checkpoint
/// without a second forward pass; here the loaded tensors are checked bit for bit, and the largest plain variant goes
/// through <c>learn osnet</c> itself.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public class OSNetCheckpointTests
{
    public static IEnumerable<string> AllVariants => OSNetFixtures.Variants;

    [TestCaseSource(nameof(AllVariants))]
    public void Generated_checkpoint_loads_into_the_model_bit_for_bit(string variant)
    {
        string path = Path.Combine(Path.GetTempPath(), $"learn-{variant}-{Guid.NewGuid():N}.safetensors");
        try
        {
            OSNetFixtures.WriteCheckpoint(variant, path);
            Assert.That(SafeTensors.Read(path).Names[0], Is.EqualTo(OSNetFixtures.HasModulePrefix(variant) ? "module.conv1.conv.weight" : "conv1.conv.weight"));
            OSNet loaded = OSNet.Create(variant, OSNetFixtures.NumClasses);
            StateDictMatch match = loaded.LoadStateDict(Checkpoint.Load(path));
            Assert.That(match.IsExact, match.Report);
            var expected = OSNetFixtureWeights.For(loaded, variant, OSNetFixtures.Seed);
            foreach (var (name, tensor) in loaded.NamedTensors())
            {
                Assert.That(tensor.Shape, Is.EqualTo(expected[name].Shape), name);
                Assert.That(tensor.Data, Is.EqualTo(expected[name].Data), name);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Learn_osnet_reproduces_pytorch_from_a_module_prefixed_safetensors_checkpoint_of_x1_0()
    {
        const string variant = "osnet_x1_0";
        Assert.That(OSNetFixtures.HasModulePrefix(variant), Is.True);
        string folder = Path.Combine(Path.GetTempPath(), "learn-ckpt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string checkpoint = Path.Combine(folder, $"{variant}.safetensors"), output = Path.Combine(folder, "y.npy");
            OSNetFixtures.WriteCheckpoint(variant, checkpoint);
            using var stdout = new StringWriter { NewLine = "\n" };
            using var stderr = new StringWriter { NewLine = "\n" };
            int code = Learn.Cli.Cli.Run(
                ["osnet", "--variant", variant, "--weights", checkpoint, "--input", Path.Combine(OSNetFixtures.Root, "input.npy"), "--output", output],
                stdout, stderr);
            Assert.That((code, stderr.ToString()), Is.EqualTo((0, "")));
            Tensor y = Npy.Read(output);
            Assert.That(y.Shape, Is.EqualTo(new[] { 2, 512 }));
            OSNetCommandTests.AssertFeatureMatchesPytorch(variant, output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
