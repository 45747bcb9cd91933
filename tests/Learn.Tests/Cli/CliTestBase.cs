using Learn.IO;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>What one in-process run of <c>learn</c> returned and printed.</summary>
public sealed record CliResult(int Code, string Out, string Err)
{
    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs <c>learn</c> in process (<see cref="Learn.Cli.Cli.Run(string[], TextWriter, TextWriter)"/>) in a fresh temporary folder.</summary>
public abstract class CliTestBase
{
    protected string Folder { get; private set; } = "";

    [SetUp]
    public void CreateFolder()
    {
        Folder = Path.Combine(Path.GetTempPath(), "learn-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(Folder, recursive: true);

    /// <summary>A path in the temporary folder.</summary>
    protected string P(string name) => Path.Combine(Folder, name);

    /// <summary>Writes <paramref name="t"/> to <c>name</c> in the folder and returns the path.</summary>
    protected string Save(string name, Tensor t)
    {
        string path = P(name);
        Npy.Write(path, t);
        return path;
    }

    protected static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int code = Learn.Cli.Cli.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// The contract for bad input: the exit code, exactly one line on stderr starting with <paramref name="prefix"/>
    /// and containing each of <paramref name="fragments"/>, no stack trace, nothing on stdout.
    /// </summary>
    protected static void AssertOneLineError(CliResult r, int code, string prefix, params string[] fragments)
    {
        Assert.Multiple(() =>
        {
            Assert.That(r.Code, Is.EqualTo(code), r.Err);
            Assert.That(r.ErrLines, Has.Length.EqualTo(1), "exactly one line on stderr: " + r.Err);
            Assert.That(r.Err, Does.StartWith(prefix));
            Assert.That(r.Err, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(r.Err, Does.Not.Contain("Exception"), "no exception type names for expected failures");
            Assert.That(r.Out, Is.Empty);
            foreach (string fragment in fragments)
            {
                Assert.That(r.Err, Does.Contain(fragment));
            }
        });
    }
}
