using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

/// <summary>Arguments that could hang a run or overwrite a source notebook are usage errors; clear removes outputs.</summary>
public class NotebookCommandSafetyTests
{
    [TestCase("NaN")]
    [TestCase("-1")]
    [TestCase("0")]
    [TestCase("Infinity")]
    [TestCase("1e300")]
    public void A_timeout_that_is_not_a_positive_bounded_number_is_a_usage_error(string timeout)
    {
        var result = Command(["run", Data("outputs.ipynb"), "--out", NewTempDir(), "--timeout", timeout]);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.StartWith($"learn notebooks: --timeout: '{timeout}' is not a positive number of seconds (at most 86400)"));
    }

    [Test]
    public void Run_refuses_an_out_folder_that_holds_the_source()
    {
        string dir = NewTempDir();
        string source = Path.Combine(dir, "outputs.ipynb");
        File.Copy(Data("outputs.ipynb"), source);
        byte[] before = File.ReadAllBytes(source);
        var result = Command(["run", source, "--out", dir]);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Contain("would overwrite the source"));
        Assert.That(File.ReadAllBytes(source), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(dir), Is.EqualTo(new[] { source }), "nothing written beside the source");
    }

    [Test]
    public void Export_refuses_to_write_over_the_notebook()
    {
        string dir = NewTempDir();
        string source = Path.Combine(dir, "outputs.ipynb");
        File.Copy(Data("outputs.ipynb"), source);
        byte[] before = File.ReadAllBytes(source);
        var result = Command(["export", source, "--to", "cs", "--out", source]);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr, Does.Contain("is the notebook itself"));
        Assert.That(File.ReadAllBytes(source), Is.EqualTo(before));
    }

    [Test]
    public void Clear_removes_the_outputs_a_run_stored_and_check_then_passes()
    {
        // An executed copy (outputs and execution counts) is what a learner saves from Jupyter or Polyglot.
        string executed = Path.Combine(Outputs.OutDir, "outputs.ipynb");
        Assume.That(Outputs.ExitCode, Is.Zero, Outputs.Stderr);
        string dir = NewTempDir();
        string copy = Path.Combine(dir, "outputs.ipynb");
        File.Copy(executed, copy);
        Assert.That(Command(["check", copy]).ExitCode, Is.EqualTo(1), "the executed copy has outputs");

        var result = Command(["clear", copy]);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("1 cleared"));
        var check = Command(["check", copy]);
        Assert.That(check.ExitCode, Is.Zero, check.Stderr);

        byte[] once = File.ReadAllBytes(copy);
        var again = Command(["clear", copy]);
        Assert.That(again.Stdout, Does.Contain("0 cleared, 1 already clear"));
        Assert.That(File.ReadAllBytes(copy), Is.EqualTo(once), "a clear notebook is not rewritten");
    }
}

/// <summary>The runner's channel to its child is a private pipe: what a cell writes to the raw stdout is no message.</summary>
public class NotebookHostChannelTests
{
    [Test]
    public void A_cell_writing_protocol_lines_to_raw_stdout_cannot_forge_a_result()
    {
        string dir = NewTempDir();
        var result = Command(["run", Data("raw-stdout.ipynb"), "--out", dir]);
        Assert.That(result.ExitCode, Is.Zero, result.Stdout + result.Stderr);
        Assert.That(result.Stdout + result.Stderr, Does.Not.Contain("forged"));
        var executed = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "raw-stdout.ipynb")))!;
        string outputs = string.Concat(executed["cells"]!.AsArray().Select(c => c!["outputs"]?.ToJsonString()));
        Assert.That(outputs, Does.Contain("real output").And.Contain("second cell ran"));
        Assert.That(outputs, Does.Not.Contain("forged").And.Not.Contain("\"error\""));
    }
}
