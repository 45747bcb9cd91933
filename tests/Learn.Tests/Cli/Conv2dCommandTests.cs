using Learn.IO;
using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn conv2d</c> end to end on temporary files: the written tensor equals the library's result for the
/// same arguments, PyTorch's result on two exported cases, and every bad input gives one line, the right exit
/// code and no output file.
/// </summary>
[TestFixture]
public sealed class Conv2dCommandTests : CliTestBase
{
    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, int[] x, int[] w, bool bias, string[] args, ConvOptions options) =>
            new TestCaseData(x, w, bias, args, options).SetName("Conv2d_matches_library_" + name);

        yield return Case("plain_3x3", [1, 3, 5, 5], [4, 3, 3, 3], false, [], new ConvOptions());
        yield return Case("stride3x2_pad2x4_dil2x1_batch2", [2, 3, 9, 10], [5, 3, 4, 5], true,
            ["--stride", "3,2", "--padding", "2,4", "--dilation", "2,1"],
            new ConvOptions { Stride = [3, 2], Padding = Padding.Of(2, 4), Dilation = [2, 1] });
        yield return Case("same_even_kernel_dil2x3", [1, 3, 7, 8], [2, 3, 4, 2], false,
            ["--padding", "same", "--dilation", "2,3"],
            new ConvOptions { Padding = Padding.Same, Dilation = [2, 3] });
        yield return Case("depthwise_multiplier2_bias", [1, 4, 6, 7], [8, 1, 3, 3], true,
            ["--groups", "4", "--padding", "1"],
            new ConvOptions { Groups = 4, Padding = Padding.Of(1) });
        yield return Case("grouped_g2_equals_form", [2, 6, 5, 5], [4, 3, 3, 3], false,
            ["--groups=2", "--stride=2"],
            new ConvOptions { Groups = 2, Stride = [2] });
        foreach (string mode in new[] { "zeros", "reflect", "replicate", "circular" })
        {
            yield return Case($"padding_mode_{mode}", [1, 2, 5, 6], [3, 2, 3, 3], true,
                ["--padding", "2,1", "--padding-mode", mode],
                new ConvOptions { Padding = Padding.Of(2, 1), PaddingMode = PaddingModes.Parse(mode) });
        }

        yield return Case("unbatched_input", [3, 5, 6], [2, 3, 3, 3], false, [], new ConvOptions());
        yield return Case("pointwise_valid", [1, 5, 4, 3], [7, 5, 1, 1], true, ["--padding", "valid"], new ConvOptions());
        yield return Case("impl_naive_explicit", [1, 2, 4, 4], [2, 2, 2, 2], false, ["--impl", "naive"], new ConvOptions());
    }

    [TestCaseSource(nameof(Cases))]
    public void Conv2d_writes_what_the_library_computes(int[] xShape, int[] wShape, bool withBias, string[] args, ConvOptions options)
    {
        Tensor x = Tensor.Random(1, xShape), w = Tensor.Random(2, wShape);
        Tensor? b = withBias ? Tensor.Random(3, wShape[0]) : null;
        var argv = new List<string> { "conv2d", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--output", P("y.npy") };
        if (b is not null)
        {
            argv.AddRange(["--bias", Save("b.npy", b)]);
        }

        CliResult r = Run([.. argv, .. args]);

        Assert.That(r.Code, Is.Zero, r.Err);
        Assert.That(r.Err, Is.Empty);
        Tensor expected = Conv.Conv2d(x, w, b, options);
        Tensor y = Npy.Read(P("y.npy"));
        Assert.That(y.Shape, Is.EqualTo(expected.Shape));
        Assert.That(y.Data, Is.EqualTo(expected.Data), "the CLI runs the same reference, so the bits agree");
        Assert.That(r.Out, Does.Contain(expected.ShapeString));
    }

    [TestCase("grouped_same_reflect", new[] { "--padding", "same", "--dilation", "2,1", "--groups", "2", "--padding-mode", "reflect" }, 2 * 4 * 5)]
    [TestCase("depthwise_circular_strided", new[] { "--stride", "3,2", "--padding", "2,1", "--dilation", "1,2", "--groups", "3", "--padding-mode", "circular" }, 1 * 4 * 3)]
    public void Conv2d_matches_pytorch_on_exported_cases(string name, string[] args, int reductionLength)
    {
        string folder = Path.Combine(DataFolder, name);
        string bias = Path.Combine(folder, "b.npy");
        var argv = new List<string> { "conv2d", "--input", Path.Combine(folder, "x.npy"), "--weight", Path.Combine(folder, "w.npy"), "--output", P("y.npy") };
        if (File.Exists(bias))
        {
            argv.AddRange(["--bias", bias]);
        }

        CliResult r = Run([.. argv, .. args]);

        Assert.That(r.Code, Is.Zero, r.Err);
        var c = Comparison.Of(Npy.Read(P("y.npy")), Npy.Read(Path.Combine(folder, "y.npy")), Tolerance.ForReduction(reductionLength));
        Assert.That(c.Close, Is.True, c.Describe());
    }

    [Test]
    public void Impl_fast_either_matches_naive_or_is_refused_in_one_line()
    {
        // The fast path lands on another branch; until then the library refuses Implementation.Fast.
        Tensor x = Tensor.Random(1, 1, 4, 6, 6), w = Tensor.Random(2, 8, 1, 3, 3);
        CliResult r = Run("conv2d", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--groups", "4", "--impl", "fast", "--output", P("y.npy"));
        if (r.Code == 0)
        {
            var c = Comparison.Of(Npy.Read(P("y.npy")), Conv.Conv2d(x, w, null, new ConvOptions { Groups = 4 }), Tolerance.ForReduction(9));
            Assert.That(c.Close, Is.True, c.Describe());
        }
        else
        {
            AssertOneLineError(r, 2, "learn: --impl: ", "'fast'");
            Assert.That(File.Exists(P("y.npy")), Is.False);
        }
    }

    // Usage errors: a bad or missing option, named; exit 2.
    [TestCase("--stride", "0", "--stride: must be one integer or two as h,w, each >= 1, but got '0'")]
    [TestCase("--stride", "1,2,3", "--stride: must be one integer or two")]
    [TestCase("--stride", "two", "--stride: must be one integer or two")]
    [TestCase("--padding", "-1", "--padding: must be same, valid, or one integer or two")]
    [TestCase("--padding", "full", "--padding: must be same, valid")]
    [TestCase("--padding-mode", "mirror", "--padding-mode: must be one of zeros, reflect, replicate, circular, got 'mirror'")]
    [TestCase("--dilation", "0,1", "--dilation: must be one integer or two as h,w, each >= 1")]
    [TestCase("--groups", "0", "--groups: must be an integer >= 1, got '0'")]
    [TestCase("--groups", "1.5", "--groups: must be an integer >= 1")]
    [TestCase("--impl", "slow", "--impl: must be one of naive, fast, got 'slow'")]
    [TestCase("--frobnicate", "1", "--frobnicate: unknown option (learn conv2d --help lists the options)")]
    public void Bad_option_is_a_usage_error_naming_it(string option, string value, string message)
    {
        CliResult r = RunConv2d(option, value);
        AssertOneLineError(r, 2, "learn: " + message);
        AssertNoOutput();
    }

    [Test]
    public void Same_padding_with_stride_is_refused_naming_the_option()
    {
        AssertOneLineError(RunConv2d("--padding", "same", "--stride", "2,1"), 2, "learn: --padding: 'same' needs stride 1", "--stride is 2,1");
        AssertNoOutput();
    }

    [TestCase("--input")]
    [TestCase("--weight")]
    [TestCase("--output")]
    public void Missing_required_option_is_named(string option)
    {
        var args = new List<string> { "conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 2, 5, 5)), "--weight", Save("w.npy", Tensor.Random(2, 3, 2, 3, 3)), "--output", P("y.npy") };
        int at = args.IndexOf(option);
        args.RemoveRange(at, 2);
        AssertOneLineError(Run([.. args]), 2, $"learn: {option}: required option missing");
        AssertNoOutput();
    }

    [Test]
    public void Option_without_value_repeated_option_and_stray_argument_are_usage_errors()
    {
        AssertOneLineError(RunConv2d("--groups"), 2, "learn: --groups: needs a value (g)");
        AssertOneLineError(RunConv2d("--groups", "1", "--groups", "1"), 2, "learn: --groups: given more than once");
        AssertOneLineError(RunConv2d("stray.npy"), 2, "learn: stray.npy: unexpected argument");
        AssertNoOutput();
    }

    // Data failures: the files or their shapes; exit 1, the file or the library's PyTorch-style message named.
    [Test]
    public void Channels_not_matching_groups_gives_pytorch_message_with_the_numbers()
    {
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 4, 5, 5)), "--weight", Save("w.npy", Tensor.Random(2, 4, 3, 3, 3)),
            "--groups", "2", "--output", P("y.npy"));
        AssertOneLineError(r, 1, "learn conv2d: Given groups=2, weight of size [4, 3, 3, 3], expected input[1, 4, 5, 5] to have 6 channels, but got 4 channels instead");
        AssertNoOutput();
    }

    [Test]
    public void Bias_of_the_wrong_length_is_refused()
    {
        CliResult r = RunConv2d("--bias", Save("b.npy", Tensor.Random(3, 4)));
        AssertOneLineError(r, 1, "learn conv2d: Given weight of size [3, 2, 3, 3], expected bias to be 1-dimensional with 3 elements, but got bias of size [4] instead");
        AssertNoOutput();
    }

    [Test]
    public void Input_of_the_wrong_rank_is_refused()
    {
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 2, 5, 5, 1, 1)), "--weight", Save("w.npy", Tensor.Random(2, 3, 2, 3, 3)), "--output", P("y.npy"));
        AssertOneLineError(r, 1, "learn conv2d: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [2, 5, 5, 1, 1]");
        AssertNoOutput();
    }

    [Test]
    public void Reflect_padding_as_large_as_the_input_is_refused()
    {
        CliResult r = RunConv2d("--padding", "5", "--padding-mode", "reflect");
        AssertOneLineError(r, 1, "learn conv2d: Padding size should be less than the corresponding input dimension", "padding (5, 5)");
        AssertNoOutput();
    }

    [Test]
    public void Kernel_larger_than_padded_input_is_refused()
    {
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 2, 2, 2)), "--weight", Save("w.npy", Tensor.Random(2, 1, 2, 3, 3)), "--output", P("y.npy"));
        AssertOneLineError(r, 1, "learn conv2d: Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3)");
        AssertNoOutput();
    }

    private static IEnumerable<TestCaseData> BadWeightFiles()
    {
        byte[] good = Npy.Serialize(Tensor.Random(2, 3, 2, 3, 3));
        TestCaseData Case(string name, byte[] bytes, string problem) => new TestCaseData(name, bytes, problem).SetName("Bad_weight_file_" + name);
        yield return Case("truncated", good[..^7], "data bytes but the file has");
        yield return Case("not_npy", "weights: 1 2 3\n"u8.ToArray(), "not an .npy file");
        yield return Case("big_endian", File.ReadAllBytes(Path.Combine(Learn.Tests.IO.NpyTests.DataFolder, "refuse_big_endian.npy")), "big-endian data ('>f4') is not supported");
        yield return Case("empty", [], "not an .npy file");
    }

    [TestCaseSource(nameof(BadWeightFiles))]
    public void Bad_weight_file_is_named_and_nothing_is_written(string name, byte[] bytes, string problem)
    {
        string weight = P(name + ".npy");
        File.WriteAllBytes(weight, bytes);
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 2, 5, 5)), "--weight", weight, "--output", P("y.npy"));
        AssertOneLineError(r, 1, $"learn: {weight}: ", problem);
        AssertNoOutput();
    }

    [Test]
    public void Missing_input_file_is_named()
    {
        CliResult r = Run("conv2d", "--input", P("absent.npy"), "--weight", Save("w.npy", Tensor.Random(2, 3, 2, 3, 3)), "--output", P("y.npy"));
        AssertOneLineError(r, 1, $"learn: {P("absent.npy")}: no such file");
        AssertNoOutput();
    }

    [Test]
    public void Output_in_a_missing_folder_is_refused_before_any_work()
    {
        CliResult r = RunConv2d("--output", P(Path.Combine("nowhere", "y.npy")));
        AssertOneLineError(r, 1, $"learn: {P(Path.Combine("nowhere", "y.npy"))}: cannot write: folder", "does not exist");
        Assert.That(Directory.Exists(P("nowhere")), Is.False);
    }

    [Test]
    public void Output_that_is_a_folder_is_refused()
    {
        Directory.CreateDirectory(P("out"));
        AssertOneLineError(RunConv2d("--output", P("out")), 1, $"learn: {P("out")}: is a folder");
    }

    [Test]
    public void Failure_leaves_an_existing_output_file_untouched()
    {
        File.WriteAllText(P("y.npy"), "previous result");
        CliResult r = RunConv2d("--groups", "2"); // 2 input channels, weight expects 2*2
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(File.ReadAllText(P("y.npy")), Is.EqualTo("previous result"));
        Assert.That(Directory.GetFiles(Folder).Select(Path.GetFileName), Is.EquivalentTo(new[] { "x.npy", "w.npy", "y.npy" }), "no temporary file left");
    }

    [Test]
    public void Help_lists_every_option_and_the_exit_codes()
    {
        CliResult r = Run("conv2d", "--help");
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Err, Is.Empty);
        foreach (string option in new[] { "--input", "--weight", "--bias", "--stride", "--padding", "--padding-mode", "--dilation", "--groups", "--impl", "--output" })
        {
            Assert.That(r.Out, Does.Contain(option + " "));
        }

        Assert.That(r.Out, Does.Contain("zeros|reflect|replicate|circular"));
        Assert.That(r.Out, Does.Contain("Exit codes: 0 success; 1 data failure"));
    }

    /// <summary>conv2d of x [1, 2, 5, 5] with w [3, 2, 3, 3] into y.npy, plus <paramref name="extra"/>.</summary>
    private CliResult RunConv2d(params string[] extra)
    {
        var args = new List<string> { "conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 2, 5, 5)), "--weight", Save("w.npy", Tensor.Random(2, 3, 2, 3, 3)) };
        if (!extra.Contains("--output"))
        {
            args.AddRange(["--output", P("y.npy")]);
        }

        return Run([.. args, .. extra]);
    }

    private void AssertNoOutput() =>
        Assert.That(Directory.GetFiles(Folder).Select(Path.GetFileName), Has.None.StartsWith("y.npy").And.None.StartsWith(".y.npy"),
            "no output file, not even a temporary one");

    private static string DataFolder { get; } = Path.Combine(Learn.Tests.IO.NpyTests.DataFolder, "..", "..", "Cli", "Data");
}
