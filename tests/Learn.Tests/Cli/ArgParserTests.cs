using Learn.Cli.CommandLine;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// The parser on a verb table of its own, shaped like the verbs to come (<c>diff DIR_A DIR_B</c>, flags like
/// <c>--json</c>, <c>notebooks run [PATHS...]</c>), so new verbs can rely on it.
/// </summary>
[TestFixture]
public sealed class ArgParserTests
{
    private static readonly Verb Diff = new()
    {
        Name = "diff",
        Summary = "compare two dumps",
        Arguments = [new("DIR_A", "first"), new("DIR_B", "second")],
        Options = [new("--atol", "X", "tolerance"), new("--json", null, "machine output")],
        Run = Echo,
    };

    private static readonly Verb Notebooks = new()
    {
        Name = "notebooks",
        Summary = "run and check notebooks",
        Subverbs =
        [
            new Verb
            {
                Name = "run",
                Summary = "execute notebooks",
                Arguments = [new("PATHS", "notebooks", Variadic: true)],
                Options = [new("--timeout", "SECONDS", "per cell", Default: "60"), new("--inplace", null, "rewrite the sources")],
                Run = Echo,
            },
            new Verb { Name = "check", Summary = "validate", Arguments = [new("PATHS", "notebooks", Variadic: true)], Run = Echo },
        ],
    };

    private static readonly Verb[] Table = [Diff, Notebooks];

    // Prints what was parsed so the tests can see it.
    private static int Echo(ParsedArgs a, CliContext c)
    {
        c.Out.Write($"{c.CommandPath}|A={a.Argument("DIR_A")}|B={a.Argument("DIR_B")}|atol={a.Text("--atol")}|json={a.Has("--json")}");
        c.Out.Write($"|paths={string.Join(",", a.Arguments("PATHS"))}|timeout={a.Value("--timeout", ParsedArgs.Convert.Int(1), 60)}|inplace={a.Has("--inplace")}");
        return 0;
    }

    private static CliResult Run(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int code = Learn.Cli.Cli.Run(Table, args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    [Test]
    public void Positionals_options_and_flags_in_any_order()
    {
        CliResult r = Run("diff", "--json", "a", "--atol", "1e-3", "b");
        Assert.That(r.Out, Does.StartWith("learn diff|A=a|B=b|atol=1e-3|json=True"));
    }

    [Test]
    public void Equals_form_and_negative_number_values()
    {
        Assert.That(Run("diff", "a", "b", "--atol=-1").Out, Does.Contain("atol=-1"));
        Assert.That(Run("diff", "a", "b", "--atol", "-1").Out, Does.Contain("atol=-1"));
    }

    [Test]
    public void Double_dash_makes_the_rest_positional()
    {
        Assert.That(Run("diff", "--", "--json", "-x").Out, Does.StartWith("learn diff|A=--json|B=-x|atol=|json=False"));
    }

    [Test]
    public void Flag_with_a_value_is_refused()
    {
        CliResult r = Run("diff", "a", "b", "--json=yes");
        Assert.That((r.Code, r.Err), Is.EqualTo((2, "learn: --json: is a flag and takes no value\n")));
    }

    [Test]
    public void Option_followed_by_an_option_has_no_value()
    {
        CliResult r = Run("diff", "a", "b", "--atol", "--json");
        Assert.That((r.Code, r.Err), Is.EqualTo((2, "learn: --atol: needs a value (X)\n")));
    }

    [Test]
    public void Single_dash_word_is_an_unknown_option()
    {
        CliResult r = Run("diff", "a", "b", "-v");
        Assert.That((r.Code, r.Err), Is.EqualTo((2, "learn: -v: unknown option (learn diff --help lists the options)\n")));
    }

    [Test]
    public void Subverb_with_variadic_paths_and_converted_option()
    {
        CliResult r = Run("notebooks", "run", "a.ipynb", "b.ipynb", "--timeout", "5", "--inplace");
        Assert.That(r.Out, Does.StartWith("learn notebooks run|").And.Contain("|paths=a.ipynb,b.ipynb|timeout=5|inplace=True"));
        Assert.That(Run("notebooks", "check").Out, Does.Contain("|paths=|"), "a variadic argument may be empty");
    }

    [Test]
    public void Subverb_errors_name_the_full_command()
    {
        Assert.That(Run("notebooks").Err, Is.EqualTo("learn notebooks: missing sub-verb: one of run, check\n"));
        Assert.That(Run("notebooks", "walk").Err, Is.EqualTo("learn: walk: unknown sub-verb (learn notebooks --help lists them)\n"));
        Assert.That(Run("notebooks", "run", "--timeout", "0").Err, Is.EqualTo("learn: --timeout: must be an integer >= 1, got '0'\n"));
    }

    [Test]
    public void Subverb_help()
    {
        CliResult group = Run("notebooks", "--help");
        Assert.That(group.Code, Is.Zero);
        Assert.That(group.Out, Does.StartWith("Usage: learn notebooks SUBVERB").And.Contain("  run ").And.Contain("  check "));
        CliResult run = Run("notebooks", "run", "--help");
        Assert.That(run.Out, Does.StartWith("Usage: learn notebooks run [PATHS...] [--timeout SECONDS] [--inplace]"));
        Assert.That(run.Out, Does.Contain("(default 60)"));
    }
}
