using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary><c>learn verify</c> on the committed fixtures (reference-weights/), and its argument errors.</summary>
[TestFixture]
public sealed class VerifyCommandTests : CliTestBase
{
    [Test]
    public void Committed_fixtures_all_pass()
    {
        string folder = Learn.Verification.FixtureSuite.FindDefaultDirectory()
            ?? RepositoryFolder("reference-weights");
        CliResult r = Run("verify", "--fixtures", folder);
        Assert.That(r.Code, Is.Zero, r.Out + r.Err);
        Assert.That(r.Err, Is.Empty);
        var suite = Learn.Verification.FixtureSuite.Load(folder);
        foreach (var c in suite.Cases)
        {
            Assert.That(r.Out, Does.Match($@"\n{System.Text.RegularExpressions.Regex.Escape(c.Name)} .* OK\n"), c.Name);
        }

        Assert.That(r.Out, Does.EndWith($"all {suite.Cases.Count} cases within tolerance\n"));
    }

    [Test]
    public void Missing_folder_is_named()
    {
        AssertOneLineError(Run("verify", "--fixtures", P("nowhere")), 1, $"learn: {P("nowhere")}: no such folder");
    }

    [Test]
    public void Folder_without_a_manifest_is_a_one_line_data_failure()
    {
        CliResult r = Run("verify", "--fixtures", Folder);
        AssertOneLineError(r, 1, "learn: ");
    }

    [Test]
    public void Unknown_implementation_is_a_usage_error()
    {
        AssertOneLineError(Run("verify", "--impl", "slow"), 2, "learn: --impl: must be one of naive, fast, got 'slow'");
    }

    private static string RepositoryFolder(string name)
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, name)))
            {
                return Path.Combine(dir.FullName, name);
            }
        }

        throw new DirectoryNotFoundException(name);
    }
}
