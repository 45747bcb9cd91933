using Learn.Analysis;
using Learn.IO;
using Learn.Models;
using Learn.Tensors;
using Learn.Tests.Models;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn osnet</c> end to end on PyTorch's own checkpoint bytes (zip, legacy nested with module. prefixes,
/// float16) and on safetensors, against PyTorch's float64 outputs under the project rule; the strict report;
/// refusals that leave nothing behind.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class OSNetCommandTests : CliTestBase
{
    private static string Osnet(string file) => Path.Combine(OSNetFixtures.Root, file);

    private static string Input => Osnet("input.npy");

    /// <summary>K of the 512-d feature at the fixture's input size, from the model's own trace.</summary>
    internal static long FeatureK(string variant) =>
        CostTable.For(OSNet.Create(variant, OSNetFixtures.NumClasses), 256, 128, batch: 2).Output.Reduction;

    /// <summary>Asserts <paramref name="path"/> holds PyTorch's feature for <paramref name="variant"/> within the rule.</summary>
    internal static void AssertFeatureMatchesPytorch(string variant, string path)
    {
        Tensor expected = OSNetFixtures.Read(Path.Combine(variant, "output.npy"));
        OSNetFixtures.AssertClose($"{variant} feature from {Path.GetFileName(path)}", Npy.Read(path), expected, FeatureK(variant));
    }

    private CliResult RunOsnet(string variant, string weights, params string[] more) =>
        Run(["osnet", "--variant", variant, "--weights", weights, "--input", Input, "--output", P("y.npy"), .. more]);

    [Test]
    public void Zip_checkpoint_reproduces_pytorch()
    {
        CliResult r = RunOsnet("osnet_x0_25", Osnet("osnet_x0_25.pth"));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        Assert.That(r.Out, Is.EqualTo($"{P("y.npy")}: [2, 512]\n"));
        AssertFeatureMatchesPytorch("osnet_x0_25", P("y.npy"));
    }

    [Test]
    public void Legacy_checkpoint_nested_with_module_prefixes_gives_the_zip_result_bit_for_bit()
    {
        CliResult legacy = RunOsnet("osnet_x0_25", Osnet("osnet_x0_25_legacy.pth"));
        Assert.That((legacy.Code, legacy.Err), Is.EqualTo((0, "")));
        AssertFeatureMatchesPytorch("osnet_x0_25", P("y.npy"));
        Tensor fromLegacy = Npy.Read(P("y.npy"));
        Assert.That(RunOsnet("osnet_x0_25", Osnet("osnet_x0_25.pth")).Code, Is.Zero);
        Assert.That(fromLegacy.Data, Is.EqualTo(Npy.Read(P("y.npy")).Data), "the same weights in either format");
    }

    [Test]
    public void Float16_checkpoint_reproduces_pytorch()
    {
        CliResult r = RunOsnet("osnet_x0_5", Osnet("osnet_x0_5_fp16.pth"));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        AssertFeatureMatchesPytorch("osnet_x0_5", P("y.npy"));
    }

    [Test]
    public void Safetensors_converted_from_the_checkpoint_reproduces_pytorch()
    {
        Assert.That(Run("convert", Osnet("osnet_x0_25.pth"), P("w.safetensors")).Code, Is.Zero);
        CliResult r = RunOsnet("osnet_x0_25", P("w.safetensors"));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        AssertFeatureMatchesPytorch("osnet_x0_25", P("y.npy"));
    }

    [Test]
    public void Unbatched_image_gives_a_512_vector_equal_to_its_batch_row()
    {
        Tensor x = Npy.Read(Input);
        int sample = x.Length / 2;
        string one = Save("one.npy", new Tensor([3, 256, 128], x.Data.AsSpan(sample, sample).ToArray()));
        CliResult r = Run("osnet", "--variant", "osnet_x0_25", "--weights", Osnet("osnet_x0_25.pth"), "--input", one, "--output", P("one_y.npy"));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        Tensor y = Npy.Read(P("one_y.npy"));
        Assert.That(y.Shape, Is.EqualTo(new[] { 512 }));
        Tensor expected = OSNetFixtures.Read("osnet_x0_25/output.npy");
        var row = new Tensor([512], expected.Data.AsSpan(512, 512).ToArray());
        OSNetFixtures.AssertClose("sample 1 alone", y, row, FeatureK("osnet_x0_25"));
    }

    // The x0_25 weights as safetensors, edited: one key dropped, one added, one reshaped.
    private string EditedCheckpoint()
    {
        StateDict original = Checkpoint.Load(Osnet("osnet_x0_25.pth"));
        var edited = new StateDict();
        foreach (var (name, tensor) in original)
        {
            if (name == "conv3.0.gate.fc2.bias")
            {
                continue;
            }

            edited.Add(name, name == "conv2.1.conv2c.1.conv2.weight" ? Tensor.Zeros(16, 1, 5, 5) : tensor);
        }

        edited.Add("head.extra.weight", Tensor.Zeros(4, 2));
        string path = P("edited.safetensors");
        SafeTensors.Write(path, edited);
        return path;
    }

    [Test]
    public void Strict_by_default_a_mismatch_lists_every_key_and_writes_nothing()
    {
        string weights = EditedCheckpoint();
        CliResult r = RunOsnet("osnet_x0_25", weights, "--activations", P("act"));
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Out, Is.Empty);
        Assert.That(r.ErrLines, Is.EqualTo(new[]
        {
            $"learn osnet: {weights}: state_dict does not match osnet_x0_25: 1 missing, 1 unexpected, 1 mis-shaped",
            "  missing      conv3.0.gate.fc2.bias [24]",
            "  unexpected   head.extra.weight [4, 2]",
            "  wrong shape  conv2.1.conv2c.1.conv2.weight: model [16, 1, 3, 3], checkpoint [16, 1, 5, 5]",
        }));
        Assert.That(File.Exists(P("y.npy")), Is.False);
        Assert.That(Directory.Exists(P("act")), Is.False);
        Assert.That(Directory.EnumerateFileSystemEntries(Folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { "edited.safetensors" }), "no temporary files left");
    }

    [Test]
    public void Non_strict_prints_the_same_report_loads_what_matches_and_runs()
    {
        string weights = EditedCheckpoint();
        CliResult r = RunOsnet("osnet_x0_25", weights, "--non-strict");
        Assert.That(r.Code, Is.Zero, r.Err);
        Assert.That(r.ErrLines[0], Is.EqualTo($"learn osnet: {weights}: state_dict does not match osnet_x0_25: 1 missing, 1 unexpected, 1 mis-shaped"));
        Assert.That(r.ErrLines[^1], Is.EqualTo("  --non-strict: loaded the 485 of 487 tensors that match; the others keep their defaults"));
        Assert.That(r.Out, Is.EqualTo($"{P("y.npy")}: [2, 512]\n"));

        // What was loaded, exactly: the library with the same partial load gives the same bits.
        OSNet model = OSNet.Create("osnet_x0_25", OSNetFixtures.NumClasses);
        model.LoadStateDict(Checkpoint.Load(weights), strict: false);
        Assert.That(Npy.Read(P("y.npy")).Data, Is.EqualTo(model.Forward(Npy.Read(Input)).Data));
    }

    [Test]
    public void Non_strict_without_a_mismatch_is_silent_and_exact()
    {
        CliResult r = RunOsnet("osnet_x0_25", Osnet("osnet_x0_25.pth"), "--non-strict");
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        AssertFeatureMatchesPytorch("osnet_x0_25", P("y.npy"));
    }

    [TestCase("hostile_print.pth", "__builtin__.print")]
    [TestCase("hostile_eval_legacy.pth", "__builtin__.eval")]
    [TestCase("hostile_getcwd_protocol4.pth", "posix.getcwd")]
    [TestCase("hostile_whole_module.pth", "torch.nn.modules.linear.Linear")]
    public void Hostile_checkpoint_is_refused_in_one_line_and_nothing_is_written(string file, string global)
    {
        // Copied to a file name of its own so that the message is checked to name the file given.
        string weights = P("weights.pth");
        File.Copy(Path.Combine(Learn.Tests.IO.CheckpointFixtures.Folder, file), weights);
        CliResult r = RunOsnet("osnet_x0_25", weights, "--activations", P("act"));
        AssertOneLineError(r, 1, $"learn: {weights}: ", $"refusing global '{global}'", "nothing from the file was executed");
        Assert.That(File.Exists(P("y.npy")), Is.False);
        Assert.That(Directory.Exists(P("act")), Is.False);
    }

    [TestCase("osnet_x0_25.pth")]
    [TestCase("osnet_x0_25_legacy.pth")]
    public void Truncated_checkpoint_is_one_clear_error(string file)
    {
        byte[] whole = File.ReadAllBytes(Osnet(file));
        foreach (int length in new[] { whole.Length / 2, whole.Length - 100, 3 })
        {
            string weights = P($"cut{length}.pth");
            File.WriteAllBytes(weights, whole[..length]);
            CliResult r = RunOsnet("osnet_x0_25", weights);
            AssertOneLineError(r, 1, $"learn: {weights}: ");
            Assert.That(File.Exists(P("y.npy")), Is.False);
        }
    }

    [Test]
    public void Truncated_safetensors_is_one_clear_error()
    {
        Assert.That(Run("convert", Osnet("osnet_x0_25.pth"), P("w.safetensors")).Code, Is.Zero);
        byte[] whole = File.ReadAllBytes(P("w.safetensors"));
        File.WriteAllBytes(P("cut.safetensors"), whole[..(whole.Length - 8)]);
        AssertOneLineError(RunOsnet("osnet_x0_25", P("cut.safetensors")), 1, $"learn: {P("cut.safetensors")}: ", "truncated");
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    [Test]
    public void Activations_are_every_module_call_named_as_pytorchs_hooks_with_an_ordered_index()
    {
        CliResult r = RunOsnet("osnet_x0_25", Osnet("osnet_x0_25.pth"), "--activations", P("act"));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        Assert.That(r.Out, Does.StartWith($"{P("act")}: 549 layer outputs and activations.json\n"));

        // The file names are the manifest's keys (PyTorch's forward hooks, recorded at batch 1), with its shapes at
        // batch 2, and the input; each layer's float32 noise is recorded (the input's is 0: nothing computes it).
        var manifest = OSNetFixtures.Variant("osnet_x0_25").GetProperty("output_shapes").EnumerateObject()
            .ToDictionary(p => p.Name, p => OSNetFixtures.Shape(p.Value).Select((d, i) => i == 0 ? 2 : d).ToArray());
        manifest["input"] = Npy.Read(Input).Shape;
        var files = Directory.GetFiles(P("act"), "*.npy").Select(f => Path.GetFileNameWithoutExtension(f)).ToList();
        Assert.That(files, Is.EquivalentTo(manifest.Keys));
        var index = Learn.Layers.ActivationDirectory.ReadIndex(P("act"))!;
        Assert.That(index.Select(e => e.Key), Is.EquivalentTo(manifest.Keys));
        Assert.That(index.Take(5).Select(e => e.Key), Is.EqualTo(new[] { "input", "conv1.conv", "conv1.bn", "conv1.relu", "conv1" }), "the order the layers ran");
        Assert.That(index[0].Noise, Is.Zero);
        Assert.That(index.Skip(1).All(e => e.Noise >= 0) && index.Skip(1).Count(e => e.Noise > 0) > 500, "every computed layer has a float32 noise");
        Assert.That(index[^1].Key, Is.EqualTo("fc"));
        Assert.That(index.Select(e => e.Key).ToList().IndexOf("conv2.0.gate@4"), Is.LessThan(index.Select(e => e.Key).ToList().IndexOf("conv2.0.conv3")));

        // Each stage PyTorch exported matches under the rule, with the K the index recorded.
        foreach (var entry0 in index)
        {
            Assert.That(entry0.Shape, Is.EqualTo(manifest[entry0.Key]), entry0.Key);
        }

        Assert.That(Npy.Read(Path.Combine(P("act"), "input.npy")).Data, Is.EqualTo(Npy.Read(Input).Data));
        foreach (string stage in OSNetFixtures.Stages)
        {
            var entry = index.Single(e => e.Key == stage);
            Tensor ours = Npy.Read(Path.Combine(P("act"), stage + ".npy"));
            Assert.That(ours.Shape, Is.EqualTo(manifest[stage]), stage);
            Assert.That(entry.Shape, Is.EqualTo(manifest[stage]), stage);
            OSNetFixtures.AssertClose(stage, ours, OSNetFixtures.Read($"osnet_x0_25/{stage}.npy"), entry.Reduction!.Value);
        }

        Assert.That(Npy.Read(Path.Combine(P("act"), "fc.npy")).Data, Is.EqualTo(Npy.Read(P("y.npy")).Data), "fc is the feature");
    }

    [Test]
    public void Activation_folder_that_holds_other_files_is_refused_before_any_work()
    {
        Directory.CreateDirectory(P("act"));
        File.WriteAllText(P("act/notes.txt"), "mine");
        CliResult r = RunOsnet("osnet_x0_25", Osnet("osnet_x0_25.pth"), "--activations", P("act"));
        AssertOneLineError(r, 1, $"learn: {P("act")}: is not empty and not an earlier activation dump");
        Assert.That(Directory.GetFiles(P("act")), Has.Length.EqualTo(1));
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    [TestCase("--variant", "osnet_x2_0", 2, "learn: --variant: must be one of osnet_x1_0, osnet_x0_75, osnet_x0_5, osnet_x0_25, osnet_ibn_x1_0, got 'osnet_x2_0'")]
    [TestCase("--impl", "quick", 2, "learn: --impl: must be one of naive, fast, got 'quick'")]
    public void Bad_options_are_usage_errors(string option, string value, int code, string message)
    {
        var args = new List<string> { "osnet", "--variant", "osnet_x0_25", "--weights", Osnet("osnet_x0_25.pth"), "--input", Input, "--output", P("y.npy") };
        int at = args.IndexOf(option);
        if (at >= 0)
        {
            args[at + 1] = value;
        }
        else
        {
            args.AddRange([option, value]);
        }

        AssertOneLineError(Run([.. args]), code, message);
    }

    [Test]
    public void Fast_path_is_checked_against_the_reference_or_refused_in_one_line()
    {
        CliResult r = RunOsnet("osnet_x0_25", Osnet("osnet_x0_25.pth"), "--impl", "fast");
        if (r.Code == 0)
        {
            AssertFeatureMatchesPytorch("osnet_x0_25", P("y.npy")); // the fast path, once merged
        }
        else
        {
            AssertOneLineError(r, 2, "learn: --impl: 'fast' ");
            Assert.That(File.Exists(P("y.npy")), Is.False);
        }
    }

    [Test]
    public void Wrong_input_shape_and_missing_files_are_data_failures_naming_the_file()
    {
        string x4 = Save("x4.npy", Tensor.Zeros(1, 4, 64, 32));
        AssertOneLineError(Run("osnet", "--variant", "osnet_x0_25", "--weights", Osnet("osnet_x0_25.pth"), "--input", x4, "--output", P("y.npy")),
            1, $"learn: {x4}: OSNet takes images [N, 3, H, W] or [3, H, W], got [1, 4, 64, 32]");
        string tiny = Save("tiny.npy", Tensor.Zeros(1, 3, 16, 8));
        AssertOneLineError(Run("osnet", "--variant", "osnet_x0_25", "--weights", Osnet("osnet_x0_25.pth"), "--input", tiny, "--output", P("y.npy")),
            1, $"learn: {tiny}: images 16x8 are too small for OSNet: ", "smaller than the window");
        AssertOneLineError(RunOsnet("osnet_x0_25", P("absent.pth")), 1, $"learn: {P("absent.pth")}: no such file");
        File.WriteAllText(P("text.pth"), "not a checkpoint at all");
        AssertOneLineError(RunOsnet("osnet_x0_25", P("text.pth")), 1, $"learn: {P("text.pth")}: neither a torch.save checkpoint");
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    [Test]
    public void Help_names_the_formats_and_the_variants()
    {
        CliResult r = Run("osnet", "--help");
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Out, Does.Contain("--non-strict").And.Contain("osnet_ibn_x1_0").And.Contain("safetensors").And.Contain("activations.json"));
    }
}
