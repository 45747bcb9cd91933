using System.Globalization;
using System.Text.RegularExpressions;
using FsCheck;
using FsCheck.Fluent;
using Learn.Ops;
using Learn.Tensors;
using Learn.Tests.Cli;
using Learn.Tests.Fast;

namespace Learn.Tests.Hardening;

/// <summary>
/// Issue 12, defects 1 and 2: sizes near int.MaxValue never wrap. The geometry is computed in long, PyTorch's
/// refusals keep PyTorch's wording, no message holds a wrapped (negative) number, and the fast kernels run only
/// inside the envelope <see cref="ConvGeometry.RequireFastKernelBounds"/> states.
/// </summary>
[TestFixture]
public sealed partial class ConvGeometryOverflowTests : CliTestBase
{
    private const string Max = "2147483647";

    // PyTorch 1.13's message for these calls, printed by /usr/bin/python3 (torch.nn.functional.conv2d).
    private const string TorchKernelTooBig40 = "Calculated padded input size per channel: (40 x 40). Kernel size: (4294967295 x 4294967295). Kernel size can't be greater than actual input size";
    private const string TorchKernelTooBig40Mixed = "Calculated padded input size per channel: (40 x 40). Kernel size: (4294967295 x 3). Kernel size can't be greater than actual input size";
    private const string TorchKernelTooBig8 = "Calculated padded input size per channel: (8 x 8). Kernel size: (4294967295 x 4294967295). Kernel size can't be greater than actual input size";

    /// <summary>The exact commands of the issue: once an AccessViolationException, once stray heap memory in the output.</summary>
    [TestCase("naive", Max, TorchKernelTooBig40)]
    [TestCase("fast", Max, TorchKernelTooBig40)]
    [TestCase("fast", Max + ",1", TorchKernelTooBig40Mixed)]
    [TestCase("naive", Max + ",1", TorchKernelTooBig40Mixed)]
    public void Depthwise_dilation_at_int_max_is_refused_as_pytorch_refuses_it(string impl, string dilation, string torchMessage)
    {
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 3, 40, 40)), "--weight", Save("w.npy", Tensor.Random(2, 3, 1, 3, 3)),
            "--groups", "3", "--dilation", dilation, "--impl", impl, "--output", P("y.npy"));
        AssertOneLineError(r, 1, "learn conv2d: ", torchMessage);
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    /// <summary>Once a 10x10 output (dilation) and an all-zero 4x4 one (padding), exit 0.</summary>
    [TestCase("--dilation", "naive", TorchKernelTooBig8)]
    [TestCase("--dilation", "fast", TorchKernelTooBig8)]
    [TestCase("--padding", "naive", "Calculated padded input size per channel: (4294967302 x 4294967302) is larger than 2147483647")]
    [TestCase("--padding", "fast", "Calculated padded input size per channel: (4294967302 x 4294967302) is larger than 2147483647")]
    public void Overflowing_arguments_on_8x8_are_refused(string option, string impl, string message)
    {
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 1, 8, 8)), "--weight", Save("w.npy", Tensor.Random(2, 1, 1, 3, 3)),
            option, Max, "--impl", impl, "--output", P("y.npy"));
        AssertOneLineError(r, 1, "learn conv2d: ", message);
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    /// <summary>PyTorch computes a [1, 3, 1, 1] output for stride int.MaxValue; naive does too, fast says it cannot.</summary>
    [Test]
    public void Stride_at_int_max_is_computed_by_naive_and_refused_by_fast()
    {
        string x = Save("x.npy", Tensor.Random(3, 1, 3, 40, 40)), w = Save("w.npy", Tensor.Random(4, 3, 1, 3, 3));
        CliResult naive = Run("conv2d", "--input", x, "--weight", w, "--groups", "3", "--stride", Max, "--output", P("y.npy"));
        Assert.That(naive.Code, Is.Zero, naive.Err);
        Assert.That(Learn.IO.Npy.Read(P("y.npy")).Shape, Is.EqualTo(new[] { 1, 3, 1, 1 }));
        File.Delete(P("y.npy"));
        CliResult fast = Run("conv2d", "--input", x, "--weight", w, "--groups", "3", "--stride", Max, "--impl", "fast", "--output", P("y.npy"));
        AssertOneLineError(fast, 2, "learn: --impl: ", "use the naive implementation");
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    /// <summary>
    /// Property over hostile geometries (sizes from 1 to int.MaxValue): Resolve either refuses with a message
    /// holding no negative number, or gives PyTorch's output size computed here in BigInteger; and where it
    /// resolves and the fast kernels accept, fast equals naive under the tolerance rule. 300 cases from the fixed
    /// seed of <see cref="Fuzz.FuzzRun"/>. Every case's geometry is checked; the convolutions run only where the
    /// naive one costs at most <see cref="ConvolutionBudget"/> multiply-adds (a padding of 2^20 on a stride-1 axis
    /// asks for millions of outputs: minutes of naive loops that would test nothing the smaller cases do not).
    /// </summary>
    [Test]
    public void Hostile_geometries_resolve_exactly_or_are_refused_without_wrapped_numbers()
    {
        Gen<int> big = Gen.OneOf(Gen.Choose(1, 4), Gen.Elements(int.MaxValue, int.MaxValue - 1, int.MaxValue / 2, (1 << 30) + 1, 1 << 16, 65535));
        Gen<int> pad = Gen.OneOf(Gen.Choose(0, 3), Gen.Elements(int.MaxValue, int.MaxValue / 2, 1 << 30, 1 << 20));
        Gen<GeometryCase> cases =
            from h in Gen.Choose(1, 12)
            from w in Gen.Choose(1, 12)
            from kh in Gen.Choose(1, 4)
            from kw in Gen.Choose(1, 4)
            from sh in big
            from sw in big
            from dh in big
            from dw in big
            from ph in pad
            from pw in pad
            from depthwise in Gen.Elements(true, false)
            select new GeometryCase(h, w, kh, kw, sh, sw, dh, dw, ph, pw, depthwise);
        convolved = 0;
        Prop.ForAll(cases.ToArbitrary(), CheckCase).Check(Fuzz.FuzzRun.Config(300));
        TestContext.Out.WriteLine($"{convolved} of 300 cases convolved (naive, and fast where its bounds accept)");
        Assert.That(convolved, Is.GreaterThanOrEqualTo(20), "too few cases reach the convolutions to test fast against naive");
    }

    private const long ConvolutionBudget = 1L << 24;

    private static int convolved;

    private static void CheckCase(GeometryCase c)
    {
        int channels = c.Depthwise ? 3 : 2;
        Tensor x = Tensor.Random(7, 1, channels, c.H, c.W);
        Tensor w = Tensor.Random(8, c.Depthwise ? 3 : 2, c.Depthwise ? 1 : channels, c.KH, c.KW);
        var options = new ConvOptions { Stride = [c.SH, c.SW], Dilation = [c.DH, c.DW], Padding = Padding.Of(c.PH, c.PW), Groups = c.Depthwise ? 3 : 1 };
        long outH = Expected(c.H, c.PH, c.KH, c.DH, c.SH), outW = Expected(c.W, c.PW, c.KW, c.DW, c.SW);
        ConvGeometry g;
        try
        {
            g = ConvGeometry.Resolve(2, x, w, null, options);
        }
        catch (ArgumentException e)
        {
            Assert.That(NegativeNumber().IsMatch(e.Message), Is.False, $"{c}: wrapped number in '{e.Message}'");
            return;
        }

        Assert.That(outH >= 1 && outW >= 1, $"{c}: resolved although PyTorch's sizes are {outH} x {outW}");
        Assert.That(g.OutputShape(), Is.EqualTo(new[] { 1, w.Size(0), (int)outH, (int)outW }), c.ToString());
        if (outH * outW * w.Size(0) * g.ReductionLength > ConvolutionBudget)
        {
            return;
        }

        convolved++;
        Tensor naive = Conv.Conv2d(x, w, null, options, Implementation.Naive);
        try
        {
            g.RequireFastKernelBounds();
        }
        catch (NotSupportedException)
        {
            Assert.Throws<NotSupportedException>(() => Conv.Conv2d(x, w, null, options, Implementation.Fast), c.ToString());
            return;
        }

        Close.Assert(Conv.Conv2d(x, w, null, options, Implementation.Fast), naive, g.ReductionLength, c.ToString());
    }

    /// <summary>PyTorch's output size in unbounded integers: floor((in + 2p - d(k-1) - 1) / s) + 1, or 0 when the kernel does not fit.</summary>
    private static long Expected(int input, int pad, int kernel, int dilation, int stride)
    {
        var padded = new System.Numerics.BigInteger(input) + (2 * new System.Numerics.BigInteger(pad));
        var span = (new System.Numerics.BigInteger(dilation) * (kernel - 1)) + 1;
        if (padded < span)
        {
            return 0;
        }

        var output = ((padded - span) / stride) + 1;
        return output > long.MaxValue ? long.MaxValue : (long)output;
    }

    [GeneratedRegex(@"(?<![\w\]])-\d")]
    private static partial Regex NegativeNumber();

    private sealed record GeometryCase(int H, int W, int KH, int KW, int SH, int SW, int DH, int DW, int PH, int PW, bool Depthwise)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"input {H}x{W} kernel {KH}x{KW} stride {SH},{SW} dilation {DH},{DW} padding {PH},{PW}{(Depthwise ? " depthwise" : "")}");
    }
}
