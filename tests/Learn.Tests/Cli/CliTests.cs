using Learn.Cli.CommandLine;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>The top level of <c>learn</c>: help, version, unknown verbs, and the last-resort error handler.</summary>
[TestFixture]
public sealed class CliTests : CliTestBase
{
    [TestCase("--help")]
    [TestCase("-h")]
    public void Help_lists_the_verbs_and_exit_codes(string flag)
    {
        CliResult r = Run(flag);
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Err, Is.Empty);
        foreach (Verb verb in Learn.Cli.Cli.Verbs)
        {
            Assert.That(r.Out, Does.Contain($"  {verb.Name} "), verb.Name);
        }

        Assert.That(r.Out, Does.Contain("Exit codes: 0 success; 1 data failure"));
        Assert.That(r.Out, Does.Contain("2 usage error"));
        Assert.That(r.Out, Does.Contain("70 internal error"));
    }

    [Test]
    public void Every_verb_has_help()
    {
        foreach (Verb verb in Learn.Cli.Cli.Verbs)
        {
            CliResult r = Run(verb.Name, "--help");
            Assert.That(r.Code, Is.Zero, verb.Name);
            Assert.That(r.Out, Does.StartWith($"Usage: learn {verb.Name}"), verb.Name);
        }
    }

    [Test]
    public void Help_wins_over_other_errors_in_the_same_line()
    {
        CliResult r = Run("compare", "--bogus", "-h");
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Out, Does.StartWith("Usage: learn compare A.npy B.npy"));
    }

    [Test]
    public void Version_prints_one_line()
    {
        CliResult r = Run("--version");
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Out, Does.Match(@"^learn \d+\.\d+\.\d+\S*\n$"));
    }

    [Test]
    public void No_verb_is_a_usage_error()
    {
        AssertOneLineError(Run(), 2, "learn: missing verb (learn --help lists them)");
    }

    [Test]
    public void Unknown_verb_is_named()
    {
        AssertOneLineError(Run("conv9d", "--input", "x.npy"), 2, "learn: conv9d: unknown verb (learn --help lists them)");
    }

    [Test]
    public void Option_before_the_verb_is_named()
    {
        AssertOneLineError(Run("--input", "x.npy", "conv2d"), 2, "learn: --input: unknown option here; options go after the verb");
    }

    [Test]
    public void Unexpected_exception_is_one_line_internal_error_with_exit_70()
    {
        Verb broken = new() { Name = "broken", Summary = "throws", Run = (_, _) => throw new InvalidOperationException("index went\nwrong") };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = Learn.Cli.Cli.Run([broken], ["broken"], stdout, stderr);
        Assert.That(code, Is.EqualTo(70));
        Assert.That(stderr.ToString(), Is.EqualTo("learn: internal error: InvalidOperationException: index went; wrong" + Environment.NewLine));
        Assert.That(stderr.ToString(), Does.Not.Contain("   at "));
    }

    [Test]
    public void Argument_exception_outside_a_verb_mapping_is_internal()
    {
        // Only the verbs decide which library exceptions are data failures; a stray one is a bug.
        Verb broken = new() { Name = "broken", Summary = "throws", Run = (_, _) => throw new ArgumentException("bad", "x") };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        Assert.That(Learn.Cli.Cli.Run([broken], ["broken"], stdout, stderr), Is.EqualTo(70));
        Assert.That(stderr.ToString(), Does.StartWith("learn: internal error: ArgumentException: bad"));
    }

    [Test]
    public void OneLine_strips_the_parameter_suffix_and_folds_lines()
    {
        Assert.That(Learn.Cli.Cli.OneLine(new ArgumentOutOfRangeException("impl", "unknown implementation")), Is.EqualTo("unknown implementation"));
        Assert.That(Learn.Cli.Cli.OneLine("a\r\n  b\n\nc"), Is.EqualTo("a; b; c"));
    }
}
