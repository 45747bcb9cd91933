using Learn.IO;
using Learn.Tests.Models;

namespace Learn.Tests.Cli;

/// <summary><c>learn convert</c>: a bit-exact round trip through safetensors, the strict check, refusals that write nothing.</summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class ConvertCommandTests : CliTestBase
{
    private static string Osnet(string file) => Path.Combine(OSNetFixtures.Root, file);

    [TestCase("osnet_x0_25.pth", "osnet_x0_25")]
    [TestCase("osnet_x0_25_legacy.pth", "osnet_x0_25")]
    [TestCase("osnet_x0_5_fp16.pth", "osnet_x0_5")]
    public void Round_trip_loads_the_same_tensors_bit_for_bit(string file, string variant)
    {
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--variant", variant] })
        {
            string output = P($"w{extra.Length}.safetensors");
            CliResult r = Run(["convert", Osnet(file), output, .. extra]);
            Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
            Assert.That(r.Out, Is.EqualTo($"{output}: 487 tensors{(extra.Length > 0 ? $", all of {variant}" : "")}\n"));
            StateDict original = Checkpoint.Load(Osnet(file)), converted = Checkpoint.Load(output);
            Assert.That(converted.Names, Is.EqualTo(original.Names), "same names, same order");
            foreach (var (name, tensor) in original)
            {
                Assert.That(converted[name].Shape, Is.EqualTo(tensor.Shape), name);
                Assert.That(converted[name].Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(tensor.Data.Select(BitConverter.SingleToInt32Bits)), name);
            }

            Assert.That(SafeTensors.ReadMetadata(output), Is.EquivalentTo(new Dictionary<string, string> { ["format"] = "pt" }));
        }
    }

    [Test]
    public void Normalizes_prefixes_and_drops_batch_counters()
    {
        Assert.That(Run("convert", Osnet("osnet_x0_25_legacy.pth"), P("w.safetensors")).Code, Is.Zero);
        StateDict raw = SafeTensors.Read(P("w.safetensors")); // not normalized on reading: what the file holds
        Assert.That(raw.Names, Has.None.StartWith("module."));
        Assert.That(raw.Names, Has.None.EndWith("num_batches_tracked"));
        Assert.That(raw.Names[0], Is.EqualTo("conv1.conv.weight"));
    }

    [Test]
    public void Variant_check_is_strict_and_lists_the_mismatch_without_writing()
    {
        string file = Osnet("osnet_x0_25.pth");
        CliResult r = Run("convert", file, P("w.safetensors"), "--variant", "osnet_ibn_x1_0");
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Out, Is.Empty);
        Assert.That(r.ErrLines[0], Does.StartWith($"learn convert: {file}: state_dict does not match osnet_ibn_x1_0: "));
        Assert.That(r.Err, Does.Contain("  missing      conv2.0.IN.weight [256]").And.Contain("  unexpected   conv1.bn.running_mean [16]"));
        Assert.That(File.Exists(P("w.safetensors")), Is.False);
        Assert.That(Directory.GetFileSystemEntries(Folder), Is.Empty, "no temporary file either");
    }

    [Test]
    public void Refusals_are_one_line_and_write_nothing()
    {
        string hostile = Path.Combine(Learn.Tests.IO.CheckpointFixtures.Folder, "hostile_eval_legacy.pth");
        AssertOneLineError(Run("convert", hostile, P("w.safetensors")), 1, $"learn: {hostile}: ", "refusing global '__builtin__.eval'");
        byte[] whole = File.ReadAllBytes(Osnet("osnet_x0_25.pth"));
        File.WriteAllBytes(P("cut.pth"), whole[..(whole.Length * 2 / 3)]);
        AssertOneLineError(Run("convert", P("cut.pth"), P("w.safetensors")), 1, $"learn: {P("cut.pth")}: ");
        AssertOneLineError(Run("convert", Osnet("osnet_x0_25.pth"), P("no/such/w.safetensors")), 1, $"learn: {P("no/such/w.safetensors")}: cannot write: folder");
        AssertOneLineError(Run("convert", Osnet("osnet_x0_25.pth")), 2, "learn: OUT.safetensors: missing argument");
        AssertOneLineError(Run("convert", Osnet("osnet_x0_25.pth"), P("w.safetensors"), "--variant", "x1"), 2, "learn: --variant: must be one of");
        Assert.That(Directory.GetFileSystemEntries(Folder), Is.EquivalentTo(new[] { P("cut.pth") }));
    }
}
