using System.Diagnostics;
using Learn.IO;
using Learn.Tensors;
using Learn.Tests.Cli;

namespace Learn.Tests.Hardening;

/// <summary>
/// Issue 12, defects 4 and 5: writes cannot be redirected by a planted link, special files are refused and left
/// as they are, and an output that is also an input is refused, through the exact CLI commands.
/// </summary>
[TestFixture]
public sealed class AtomicWriteTests : CliTestBase
{
    /// <summary>The old temporary name (.NAME.PID.tmp) as a link to a victim: the victim must stay untouched.</summary>
    [Test]
    public void A_link_planted_at_the_old_temporary_name_redirects_nothing()
    {
        File.WriteAllText(P("victim"), "victim");
        File.CreateSymbolicLink(P($".y.npy.{Environment.ProcessId}.tmp"), P("victim"));
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 1, 4, 4)), "--weight", Save("w.npy", Tensor.Random(2, 1, 1, 3, 3)), "--output", P("y.npy"));
        Assert.That(r.Code, Is.Zero, r.Err);
        Assert.That(File.ReadAllText(P("victim")), Is.EqualTo("victim"));
        Assert.That(Npy.Read(P("y.npy")).Shape, Is.EqualTo(new[] { 1, 1, 2, 2 }));

        Learn.Notebooks.Format.AtomicFile.WriteAllText(P("page.html"), "<p>page</p>");
        Assert.That(File.ReadAllText(P("victim")), Is.EqualTo("victim"));
    }

    /// <summary>A link at the target itself is replaced by the new file; the file it pointed to is not written.</summary>
    [Test]
    public void A_link_at_the_target_is_replaced_not_followed()
    {
        File.WriteAllText(P("victim"), "victim");
        File.CreateSymbolicLink(P("out.bin"), P("victim"));
        AtomicFile.WriteAllBytes(P("out.bin"), [1, 2, 3]);
        Assert.That(File.ReadAllText(P("victim")), Is.EqualTo("victim"));
        Assert.That(new FileInfo(P("out.bin")).LinkTarget, Is.Null);
        Assert.That(File.ReadAllBytes(P("out.bin")), Is.EqualTo(new byte[] { 1, 2, 3 }));
        Assert.That(Directory.GetFiles(Folder, "*.tmp"), Is.Empty, "no temporary left behind");
    }

    [Test]
    public void Fifo_as_output_is_refused_and_stays_a_fifo()
    {
        string fifo = P("fifo.npy");
        Assume.That(MakeFifo(fifo), "needs mkfifo");
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 1, 4, 4)), "--weight", Save("w.npy", Tensor.Random(2, 1, 1, 3, 3)), "--output", fifo);
        AssertOneLineError(r, 1, $"learn: {fifo}: cannot write: ", "is a FIFO");
        Assert.That(IsFifo(fifo), Is.True);
    }

    [Test]
    public void Character_device_as_output_is_refused()
    {
        Assume.That(File.Exists("/dev/null"), "needs /dev/null");
        CliResult r = Run("conv2d", "--input", Save("x.npy", Tensor.Random(1, 1, 1, 4, 4)), "--weight", Save("w.npy", Tensor.Random(2, 1, 1, 3, 3)), "--output", "/dev/null");
        AssertOneLineError(r, 1, "learn: /dev/null: cannot write: ", "is a character device");
    }

    [Test]
    public void Output_that_is_an_input_is_refused_by_path_and_through_a_link()
    {
        string x = Save("x.npy", Tensor.Random(1, 1, 1, 4, 4)), w = Save("w.npy", Tensor.Random(2, 1, 1, 3, 3));
        byte[] before = File.ReadAllBytes(x);
        AssertOneLineError(Run("conv2d", "--input", x, "--weight", w, "--output", x), 2, $"learn: {x}: is also an input");
        File.CreateSymbolicLink(P("alias.npy"), w);
        AssertOneLineError(Run("conv2d", "--input", x, "--weight", w, "--output", P("alias.npy")), 2, $"learn: {P("alias.npy")}: is also an input");
        Assert.That(File.ReadAllBytes(x), Is.EqualTo(before));
    }

    private static bool MakeFifo(string path)
    {
        try
        {
            using Process p = Process.Start("mkfifo", [path])!;
            p.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static bool IsFifo(string path)
    {
        using Process p = Process.Start(new ProcessStartInfo("stat", ["-c", "%F", path]) { RedirectStandardOutput = true })!;
        string kind = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return kind == "fifo";
    }
}
