using Learn.IO;
using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Tests.Fast;

/// <summary><c>learn conv2d --impl fast --kernel NAME</c>: the forced kernel runs and is named; one that cannot run the case is a usage error.</summary>
public class Conv2dKernelOptionTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "learn-kernel-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int code = Learn.Cli.Cli.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [TestCase("auto", "depthwise")]
    [TestCase("depthwise", "depthwise")]
    [TestCase("indirect", "indirect")]
    [TestCase("im2col", "im2col")]
    public void A_forced_kernel_runs_and_is_printed(string kernel, string ran)
    {
        Tensor x = Tensor.Random(1, 1, 4, 6, 7), w = Tensor.Random(2, 4, 1, 3, 3);
        Npy.Write(P("x.npy"), x);
        Npy.Write(P("w.npy"), w);
        var r = Run("conv2d", "--input", P("x.npy"), "--weight", P("w.npy"), "--groups", "4", "--padding", "1",
            "--impl", "fast", "--kernel", kernel, "--output", P("y.npy"));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        Assert.That(r.Out, Is.EqualTo($"{P("y.npy")}: [1, 4, 6, 7] (fast kernel: {ran})\n"));
        var c = Comparison.Of(Npy.Read(P("y.npy")), Conv.Conv2d(x, w, null, new ConvOptions { Groups = 4, Padding = Padding.Of(1) }), Tolerance.ForReduction(9));
        Assert.That(c.Close, Is.True, c.Describe());
    }

    [Test]
    public void A_kernel_that_cannot_run_the_case_is_a_usage_error_and_writes_nothing()
    {
        Npy.Write(P("x.npy"), Tensor.Random(1, 1, 4, 6, 7));
        Npy.Write(P("w.npy"), Tensor.Random(2, 4, 1, 3, 3));
        var r = Run("conv2d", "--input", P("x.npy"), "--weight", P("w.npy"), "--groups", "4", "--impl", "fast", "--kernel", "pointwise", "--output", P("y.npy"));
        Assert.That(r.Code, Is.EqualTo(2));
        Assert.That(r.Err, Does.StartWith("learn: --kernel: 'pointwise' does not compute this convolution; auto would run depthwise"));
        Assert.That(r.Err.TrimEnd('\n'), Does.Not.Contain("\n"));
        Assert.That(File.Exists(P("y.npy")), Is.False);

        var naive = Run("conv2d", "--input", P("x.npy"), "--weight", P("w.npy"), "--groups", "4", "--kernel", "im2col", "--output", P("y.npy"));
        Assert.That(naive.Code, Is.EqualTo(2));
        Assert.That(naive.Err, Does.Contain("--kernel: 'im2col' names a fast kernel: add --impl fast"));
    }
}
