using Learn.Cli.CommandLine;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// What System.CommandLine adds under the verb specs: typo corrections, <c>learn help VERB</c>, shell completion
/// through the <c>[suggest]</c> directive, still one line per usage error.
/// </summary>
[TestFixture]
public sealed class CommandLineTests : CliTestBase
{
    [Test]
    public void Mistyped_verb_suggests_the_verb()
    {
        AssertOneLineError(Run("conv"), 2, "learn: conv: unknown verb (learn --help lists them); did you mean conv2d");
    }

    [Test]
    public void Mistyped_verb_with_help_suggests_the_verb()
    {
        AssertOneLineError(Run("conv", "--help"), 2, "learn: conv: unknown verb", "did you mean conv2d");
    }

    [Test]
    public void Mistyped_option_suggests_the_option()
    {
        AssertOneLineError(Run("conv2d", "--inptu", "x.npy"), 2,
            "learn: --inptu: unknown option (learn conv2d --help lists the options); did you mean --input?");
    }

    [Test]
    public void Unrelated_word_gets_no_suggestion()
    {
        CliResult r = Run("zzzzzzzz");
        AssertOneLineError(r, 2, "learn: zzzzzzzz: unknown verb (learn --help lists them)");
        Assert.That(r.Err, Does.Not.Contain("did you mean"));
    }

    [Test]
    public void Help_verb_prints_the_verbs_help()
    {
        foreach (Verb verb in Learn.Cli.Cli.Verbs)
        {
            CliResult viaHelp = Run("help", verb.Name);
            CliResult viaOption = Run(verb.Name, "--help");
            Assert.That((viaHelp.Code, viaHelp.Out), Is.EqualTo((0, viaOption.Out)), verb.Name);
        }

        Assert.That(Run("help").Out, Is.EqualTo(Run("--help").Out));
        AssertOneLineError(Run("help", "conv"), 2, "learn: conv: unknown verb", "did you mean conv2d");
    }

    [Test]
    public void Every_verb_and_sub_verb_help_lists_options_and_exit_codes()
    {
        foreach ((Verb verb, string path) in AllVerbs(Learn.Cli.Cli.Verbs, "learn"))
        {
            CliResult r = Run([.. path.Split(' ')[1..], "--help"]);
            Assert.That(r.Code, Is.Zero, path);
            Assert.That(r.Out, Does.StartWith($"Usage: {path}"), path);
            Assert.That(r.Out, Does.Contain("Exit codes: 0 success"), path);
            foreach (OptionSpec option in verb.Options)
            {
                Assert.That(r.Out, Does.Contain($"  {option.Name}"), $"{path} {option.Name}");
                Assert.That(r.Out, Does.Contain(option.Description), $"{path} {option.Name}");
            }
        }
    }

    [Test]
    public void Suggest_directive_completes_verbs_and_options()
    {
        CliResult verbs = Run("[suggest:3]", "con");
        Assert.That(verbs.Code, Is.Zero);
        Assert.That(verbs.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), Is.EqualTo(new[] { "conv2d", "conv2d-backward", "convert" }));
        CliResult options = Run("[suggest:9]", "compare ");
        Assert.That(options.Out.Split('\n'), Does.Contain("--atol").And.Contain("--rtol"));
    }

    [TestCase("bash", "complete -o default -F _learn_complete learn")]
    [TestCase("zsh", "compdef _learn_complete learn")]
    public void Completion_prints_a_script_that_uses_the_directive(string shell, string registration)
    {
        CliResult r = Run("completion", shell);
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Out, Does.Contain("[suggest:").And.Contain(registration));
        AssertOneLineError(Run("completion", "fish"), 2, "learn: fish: unknown shell");
    }

    [Test]
    public void Flag_given_a_value_with_equals_is_named()
    {
        AssertOneLineError(Run("cost", "--variant", "osnet_x0_25", "--json=yes"), 2, "learn: --json: is a flag and takes no value");
    }

    [Test]
    public void Response_files_are_not_expanded()
    {
        // System.CommandLine would read arguments from a file named @...; learn takes the word as it is.
        File.WriteAllText(P("args.rsp"), "--help");
        AssertOneLineError(Run("compare", "@" + P("args.rsp"), "b.npy"), 1, "learn: @");
    }

    [Test]
    public void Progress_is_never_drawn_into_a_writer_that_is_not_the_terminal()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr, "learn verify");
        Assert.That(ProgressDisplay.IsShown(context), Is.False);
        var steps = new List<string>();
        int result = ProgressDisplay.Run(context, "work", 2, progress =>
        {
            progress.Report("a");
            progress.Report("b");
            steps.Add("done");
            return 7;
        });
        Assert.That((result, steps.Count, stdout.ToString(), stderr.ToString()), Is.EqualTo((7, 1, "", "")));
    }

    [Test]
    public void Notebooks_clear_removes_what_check_refuses()
    {
        string notebook = P("sample.ipynb");
        var root = (System.Text.Json.Nodes.JsonObject)System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(SampleNotebook()))!;
        var code = root["cells"]!.AsArray().OfType<System.Text.Json.Nodes.JsonObject>().First(c => (string?)c["cell_type"] == "code");
        code["execution_count"] = 3;
        code["outputs"] = System.Text.Json.Nodes.JsonNode.Parse("""[{"output_type": "stream", "name": "stdout", "text": ["hi\\n"]}]""");
        File.WriteAllText(notebook, root.ToJsonString());

        CliResult before = Run("notebooks", "check", notebook);
        Assert.That((before.Code, before.Err), Is.EqualTo((1, $"{notebook}: cell {root["cells"]!.AsArray().IndexOf(code) + 1}: has stored outputs or an execution count (clear outputs before committing)\n")));
        CliResult clear = Run("notebooks", "clear", notebook);
        Assert.That((clear.Code, clear.Out), Is.EqualTo((0, $"{notebook}: outputs cleared\n1 notebooks: 1 cleared, 0 already clear, 0 unreadable\n")));
        CliResult after = Run("notebooks", "check", notebook);
        Assert.That((after.Code, after.Err), Is.EqualTo((0, "")));
        Assert.That(Run("notebooks", "clear", notebook).Out, Is.EqualTo($"{notebook}: no outputs\n1 notebooks: 0 cleared, 1 already clear, 0 unreadable\n"));
    }

    [Test]
    public void Notebooks_usage_errors_are_one_line()
    {
        AssertOneLineError(Run("notebooks", "check", P("missing.ipynb")), 2, "learn notebooks check: ", "missing.ipynb: no such file or folder");
        AssertOneLineError(Run("notebooks", "run", "--timeout"), 2, "learn: --timeout: needs a value (SECONDS)");
        AssertOneLineError(Run("notebooks", "export", SampleNotebook()), 2, "learn: --to: required option missing");
        AssertOneLineError(Run("notebooks", "walk"), 2, "learn: walk: unknown sub-verb (learn notebooks --help lists them)");
    }

    /// <summary>notebooks/00-sample.ipynb of this checkout.</summary>
    internal static string SampleNotebook()
    {
        for (DirectoryInfo? dir = new(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            string path = Path.Combine(dir.FullName, "notebooks", "00-sample.ipynb");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("notebooks/00-sample.ipynb not found above the test folder");
    }

    internal static IEnumerable<(Verb Verb, string Path)> AllVerbs(IEnumerable<Verb> verbs, string parent)
    {
        foreach (Verb verb in verbs)
        {
            string path = $"{parent} {verb.Name}";
            yield return (verb, path);
            foreach ((Verb, string) sub in AllVerbs(verb.Subverbs, path))
            {
                yield return sub;
            }
        }
    }
}
