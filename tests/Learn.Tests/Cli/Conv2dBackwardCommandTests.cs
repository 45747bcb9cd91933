using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Learn.IO;
using Learn.Ops;
using Learn.Tensors;
using Learn.Tests.Golden;
using Learn.Verification;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn conv2d-backward</c> end to end on temporary files: what it writes equals the library's gradients, and
/// PyTorch autograd's on every conv2d case of reference-weights/gradients; every bad input gives one line, the
/// right exit code and none of the output files.
/// </summary>
[TestFixture]
public sealed class Conv2dBackwardCommandTests : CliTestBase
{
    private static readonly string[] Outputs = ["gx.npy", "gw.npy", "gb.npy"];

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, int[] x, int[] w, bool bias, string[] args, ConvOptions options) =>
            new TestCaseData(x, w, bias, args, options).SetName("Conv2d_backward_matches_library_" + name);

        yield return Case("plain_3x3", [1, 3, 5, 5], [4, 3, 3, 3], false, [], new ConvOptions());
        yield return Case("stride3x2_pad2x4_dil2x1_batch2_bias", [2, 3, 9, 10], [5, 3, 4, 5], true,
            ["--stride", "3,2", "--padding", "2,4", "--dilation", "2,1"],
            new ConvOptions { Stride = [3, 2], Padding = Padding.Of(2, 4), Dilation = [2, 1] });
        yield return Case("depthwise_multiplier2_reflect", [1, 4, 6, 7], [8, 1, 3, 3], true,
            ["--groups", "4", "--padding", "1", "--padding-mode", "reflect"],
            new ConvOptions { Groups = 4, Padding = Padding.Of(1), PaddingMode = PaddingMode.Reflect });
        yield return Case("same_even_kernel_circular", [1, 2, 7, 8], [3, 2, 4, 2], false,
            ["--padding", "same", "--padding-mode", "circular"],
            new ConvOptions { Padding = Padding.Same, PaddingMode = PaddingMode.Circular });
        yield return Case("unbatched_grouped", [4, 5, 6], [6, 2, 3, 3], true, ["--groups", "2"], new ConvOptions { Groups = 2 });
    }

    [TestCaseSource(nameof(Cases))]
    public void Writes_what_the_library_computes(int[] xShape, int[] wShape, bool bias, string[] args, ConvOptions options)
    {
        Tensor x = Tensor.Random(1, xShape), w = Tensor.Random(2, wShape);
        Tensor g = Tensor.Random(3, Conv.Conv2d(x, w, null, options).Shape);
        var argv = new List<string> { "conv2d-backward", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--grad-output", Save("g.npy", g),
            "--grad-input", P("gx.npy"), "--grad-weight", P("gw.npy") };
        if (bias)
        {
            argv.AddRange(["--bias", "--grad-bias", P("gb.npy")]);
        }

        CliResult r = Run([.. argv, .. args]);

        Assert.That(r.Code, Is.Zero, r.Err);
        Assert.That(r.Err, Is.Empty);
        ConvGradients expected = ConvBackward.Conv2d(x, w, g, bias, options);
        Assert.That(Npy.Read(P("gx.npy")).Data, Is.EqualTo(expected.Input.Data), "the CLI runs the same reference, so the bits agree");
        Assert.That(Npy.Read(P("gx.npy")).Shape, Is.EqualTo(x.Shape));
        Assert.That(Npy.Read(P("gw.npy")).Data, Is.EqualTo(expected.Weight.Data));
        Assert.That(File.Exists(P("gb.npy")), Is.EqualTo(bias));
        if (bias)
        {
            Assert.That(Npy.Read(P("gb.npy")).Data, Is.EqualTo(expected.Bias!.Data));
        }

        Assert.That(r.Out, Does.Contain(x.ShapeString).And.Contain(w.ShapeString));
    }

    public static IEnumerable<TestCaseData> AutogradCases() =>
        from c in GradientCase.LoadAll(out _)
        where c.Op == "conv2d"
        from impl in new[] { "naive", "fast" }
        select new TestCaseData(c, impl).SetName($"Cli_matches_autograd_{c.Name}_{impl}");

    // Independent of the library's own tests: PyTorch's numbers, through the command's argument spelling.
    [TestCaseSource(nameof(AutogradCases))]
    public void Matches_pytorch_autograd(GradientCase fixture, string impl)
    {
        var argv = new List<string>
        {
            "conv2d-backward", "--input", Input(fixture, "input"), "--weight", Input(fixture, "weight"), "--grad-output", Input(fixture, "grad_output"),
            "--stride", Spell(fixture.Args.GetProperty("stride")), "--padding", Spell(fixture.Args.GetProperty("padding")),
            "--dilation", Spell(fixture.Args.GetProperty("dilation")), "--groups", fixture.Args.GetProperty("groups").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--padding-mode", fixture.Args.GetProperty("padding_mode").GetString()!, "--impl", impl,
            "--grad-input", P("gx.npy"), "--grad-weight", P("gw.npy"),
        };
        if (fixture.Args.GetProperty("bias").GetBoolean())
        {
            argv.AddRange(["--bias", "--grad-bias", P("gb.npy")]);
        }

        CliResult r = Run([.. argv]);

        Assert.That(r.Code, Is.Zero, r.Err);
        Assert.Multiple(() =>
        {
            foreach ((string gradient, string file) in new[] { ("grad_input", "gx.npy"), ("grad_weight", "gw.npy"), ("grad_bias", "gb.npy") })
            {
                Assert.That(File.Exists(P(file)), Is.EqualTo(fixture.Expected.ContainsKey(gradient)), file);
                if (fixture.Expected.ContainsKey(gradient))
                {
                    long k = fixture.ReductionLength[gradient];
                    var c = Comparison.Of(Npy.Read(P(file)), fixture.LoadExpected(gradient), Tolerance.ForReduction(k));
                    Assert.That(c.Close, Is.True, $"{gradient} (K={k}): {c.Describe()}");
                }
            }
        });
    }

    private static string Input(GradientCase fixture, string role) =>
        Path.Combine(Path.GetDirectoryName(GradientCaseDirectory(fixture))!, fixture.Inputs[role]);

    private static string GradientCaseDirectory(GradientCase fixture)
    {
        // The manifest's paths are relative to reference-weights/gradients; find it as the fixture loader does.
        for (string? d = Directory.GetCurrentDirectory(); d is not null; d = Path.GetDirectoryName(d))
        {
            string manifest = Path.Combine(d, "reference-weights", "gradients", "manifest.json");
            if (File.Exists(manifest))
            {
                return manifest;
            }
        }

        for (string? d = AppContext.BaseDirectory; d is not null; d = Path.GetDirectoryName(d))
        {
            string manifest = Path.Combine(d, "reference-weights", "gradients", "manifest.json");
            if (File.Exists(manifest))
            {
                return manifest;
            }
        }

        throw new FileNotFoundException("reference-weights/gradients/manifest.json for " + fixture.Name);
    }

    private static string Spell(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString()!,
        JsonValueKind.Number => v.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => string.Join(",", v.EnumerateArray().Select(e => e.GetInt32())),
    };

    // --- bad input: one line, exit 1 (data) or 2 (usage), none of the outputs written ---

    private CliResult RunBackward(Tensor g, params string[] extra)
    {
        Tensor x = Tensor.Random(1, 1, 2, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3);
        return Run(["conv2d-backward", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--grad-output", Save("g.npy", g),
            "--grad-input", P("gx.npy"), "--grad-weight", P("gw.npy"), .. extra]);
    }

    private void AssertNoOutput()
    {
        foreach (string file in Outputs)
        {
            Assert.That(File.Exists(P(file)), Is.False, file);
        }

        Assert.That(Directory.GetFiles(Folder, "*.tmp"), Is.Empty, "no temporary file left behind");
    }

    [Test]
    public void Grad_output_of_the_wrong_shape_names_both_shapes()
    {
        CliResult r = RunBackward(Tensor.Random(3, 1, 3, 6, 6));
        AssertOneLineError(r, 1, "learn conv2d-backward: grad_output of size [1, 3, 6, 6] does not match the conv2d output of size [1, 3, 4, 4]");
        AssertNoOutput();
    }

    [Test]
    public void Groups_that_do_not_divide_the_channels_are_refused()
    {
        CliResult r = RunBackward(Tensor.Random(3, 1, 3, 4, 4), "--groups", "3");
        AssertOneLineError(r, 1, "learn conv2d-backward: Given groups=3, weight of size [3, 2, 3, 3], expected input[1, 2, 6, 6] to have 6 channels, but got 2 channels instead");
        AssertNoOutput();
    }

    [Test]
    public void Mismatched_dtypes_are_refused_naming_the_file()
    {
        Tensor x = Tensor.Random(1, 1, 2, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3);
        string g = P("g64.npy");
        File.WriteAllBytes(g, Float64Npy(Tensor.Random(3, 1, 3, 4, 4)));
        CliResult r = Run("conv2d-backward", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--grad-output", g,
            "--grad-input", P("gx.npy"), "--grad-weight", P("gw.npy"));
        AssertOneLineError(r, 1, $"learn: {g}: --grad-output is float64 but --input is float32");
        AssertNoOutput();
    }

    [Test]
    public void All_float64_inputs_are_accepted_and_written_as_float32()
    {
        Tensor x = Tensor.Random(1, 1, 2, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3), g = Tensor.Random(3, 1, 3, 4, 4);
        File.WriteAllBytes(P("x.npy"), Float64Npy(x));
        File.WriteAllBytes(P("w.npy"), Float64Npy(w));
        File.WriteAllBytes(P("g.npy"), Float64Npy(g));
        CliResult r = Run("conv2d-backward", "--input", P("x.npy"), "--weight", P("w.npy"), "--grad-output", P("g.npy"),
            "--grad-input", P("gx.npy"), "--grad-weight", P("gw.npy"));
        Assert.That(r.Code, Is.Zero, r.Err);
        Assert.That(Npy.Read(P("gw.npy")).Data, Is.EqualTo(ConvBackward.Conv2d(x, w, g).Weight.Data));
    }

    [Test]
    public void Bias_and_grad_bias_come_together()
    {
        Tensor g = Tensor.Random(3, 1, 3, 4, 4);
        AssertOneLineError(RunBackward(g, "--bias"), 2, "learn: --bias: needs --grad-bias");
        AssertOneLineError(RunBackward(g, "--grad-bias", P("gb.npy")), 2, "learn: --grad-bias: needs --bias");
        AssertNoOutput();
    }

    [Test]
    public void Two_gradients_to_one_file_is_a_usage_error()
    {
        Tensor x = Tensor.Random(1, 1, 2, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3), g = Tensor.Random(3, 1, 3, 4, 4);
        CliResult r = Run("conv2d-backward", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--grad-output", Save("g.npy", g),
            "--grad-input", P("gx.npy"), "--grad-weight", P("gx.npy"));
        AssertOneLineError(r, 2, "learn: --grad-input: ", "--grad-weight");
        AssertNoOutput();
    }

    [TestCase("--grad-output")]
    [TestCase("--grad-weight")]
    [TestCase("--grad-input")]
    public void Missing_required_option_is_named(string option)
    {
        var args = new List<string> { "conv2d-backward", "--input", Save("x.npy", Tensor.Random(1, 1, 2, 5, 5)), "--weight", Save("w.npy", Tensor.Random(2, 3, 2, 3, 3)),
            "--grad-output", Save("g.npy", Tensor.Random(3, 1, 3, 3, 3)), "--grad-input", P("gx.npy"), "--grad-weight", P("gw.npy") };
        args.RemoveRange(args.IndexOf(option), 2);
        AssertOneLineError(Run([.. args]), 2, $"learn: {option}: required option missing");
        AssertNoOutput();
    }

    [Test]
    public void Same_padding_with_stride_is_a_usage_error()
    {
        AssertOneLineError(RunBackward(Tensor.Random(3, 1, 3, 4, 4), "--padding", "same", "--stride", "2"), 2, "learn: --padding: 'same' needs stride 1");
        AssertNoOutput();
    }

    [Test]
    public void Output_into_a_missing_folder_is_refused_before_any_work()
    {
        Tensor x = Tensor.Random(1, 1, 2, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3), g = Tensor.Random(3, 1, 3, 4, 4);
        string missing = Path.Combine(Folder, "no-such-folder", "gw.npy");
        CliResult r = Run("conv2d-backward", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--grad-output", Save("g.npy", g),
            "--grad-input", P("gx.npy"), "--grad-weight", missing);
        AssertOneLineError(r, 1, $"learn: {missing}: cannot write");
        AssertNoOutput();
    }

    private static byte[] Float64Npy(Tensor t)
    {
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({string.Join(", ", t.Shape)}{(t.Rank == 1 ? "," : "")}), }}";
        header = header.PadRight(((header.Length + 11) / 64 + 1) * 64 - 11) + "\n";
        var bytes = new byte[10 + header.Length + 8 * t.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header).CopyTo(bytes, 10);
        for (int i = 0; i < t.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(10 + header.Length + 8 * i), t.Data[i]);
        }

        return bytes;
    }
}
