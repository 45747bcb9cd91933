using Learn.IO;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// The real process, as a user runs it: the exit code reaches the shell, stderr carries one line, and the
/// library assembly loads next to the command's own (an assembly named "learn" once shadowed Learn.dll).
/// </summary>
[TestFixture]
public sealed class ProcessTests : CliTestBase
{
    [Test]
    public void Conv2d_runs_as_a_process()
    {
        Tensor x = Tensor.Random(1, 1, 2, 5, 5), w = Tensor.Random(2, 3, 2, 3, 3);
        (int code, string stdout, string stderr) = Launch("conv2d", "--input", Save("x.npy", x), "--weight", Save("w.npy", w), "--padding", "1", "--output", P("y.npy"));
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout.Trim(), Is.EqualTo($"{P("y.npy")}: [1, 3, 5, 5]"));
        Assert.That(Npy.Read(P("y.npy")).Shape, Is.EqualTo(new[] { 1, 3, 5, 5 }));
    }

    [Test]
    public void Bad_input_reaches_the_shell_as_exit_code_and_one_line()
    {
        File.WriteAllText(P("w.npy"), "not numpy");
        (int code, string stdout, string stderr) = Launch("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 2, 5, 5)), "--weight", P("w.npy"), "--output", P("y.npy"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Is.EqualTo($"learn: {P("w.npy")}: not an .npy file (missing the \\x93NUMPY magic)\n"));
        Assert.That(File.Exists(P("y.npy")), Is.False);

        Assert.That(Launch("conv2d", "--nope").Code, Is.EqualTo(2));
    }

    private static (int Code, string Out, string Err) Launch(params string[] args) => LearnProcess.Run(null, null, 60, args);
}
