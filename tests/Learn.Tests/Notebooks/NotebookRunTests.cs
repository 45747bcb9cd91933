using System.Diagnostics;
using System.Text.Json.Nodes;
using Learn.Notebooks.Format;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

/// <summary>Broken notebooks give the right report and exit code; outputs of each kind are captured.</summary>
public class NotebookRunTests
{
    private static (NotebookTestSupport.CommandResult Result, Notebook Executed) RunBroken(string name, params string[] extra)
    {
        string path = Data(name);
        string before = File.ReadAllText(path);
        string dir = NewTempDir();
        var result = Command(["run", path, "--out", dir, .. extra]);
        Assert.That(result.ExitCode, Is.EqualTo(1), "a failing notebook makes the command exit 1");
        Assert.That(File.ReadAllText(path), Is.EqualTo(before), "the source notebook is never touched by a failing run");
        string executed = Path.Combine(dir, Path.GetFileNameWithoutExtension(name) + ".ipynb");
        Assert.That(File.Exists(Path.Combine(dir, Path.GetFileNameWithoutExtension(name) + ".html")), Is.True, "the page shows where it broke");
        return (result, NotebookJson.Load(executed));
    }

    private static string Text(JsonObject output) => PolyglotJson.JoinLines(output["text"] ?? output["evalue"]);

    [Test]
    public void A_compile_error_names_the_notebook_cell_and_line()
    {
        var (result, executed) = RunBroken("compile-error.ipynb");
        Assert.That(result.Stderr, Does.Contain("compile-error.ipynb: cell 3, line 2: error CS0103: The name 'undefinedName' does not exist"));
        Assert.That(Text(executed.Cells[1].Outputs[0]), Is.EqualTo("1\n"), "cells before the error keep their outputs");
        Assert.That((string?)executed.Cells[2].Outputs[^1]["output_type"], Is.EqualTo("error"));
        Assert.That(Text(executed.Cells[2].Outputs[^1]), Does.StartWith("cell3(2,"));
        Assert.That(executed.Cells[2].Metadata["tags"]!.AsArray().Select(t => (string?)t), Does.Contain("learn-error"), "the failing cell is marked");
        Assert.That(executed.Cells[3].Outputs, Is.Empty, "cells after the error do not run");
        Assert.That(executed.Cells[3].ExecutionCount, Is.Null);
        Assert.That((int)executed.Metadata["learn"]!["error"]!["cell"]!, Is.EqualTo(3));
    }

    [Test]
    public void A_runtime_exception_names_the_cell_and_line_and_keeps_earlier_output()
    {
        var (result, executed) = RunBroken("runtime-error.ipynb");
        Assert.That(result.Stderr, Does.Contain("runtime-error.ipynb: cell 2, line 3: System.InvalidOperationException: claim false: 1 + 1 != 3"));
        var outputs = executed.Cells[1].Outputs;
        Assert.That(Text(outputs[0]), Is.EqualTo("in the failing cell\n"), "output printed before the throw is kept");
        Assert.That((string?)outputs[1]["ename"], Is.EqualTo("Error"));
        Assert.That(Text(outputs[1]), Does.Contain("in cell2:line 3"));
        Assert.That(Text(outputs[1]), Does.Not.Contain("Microsoft.CodeAnalysis"), "scripting plumbing is cut from the trace");
    }

    [Test]
    public void An_infinite_loop_is_stopped_at_the_timeout()
    {
        var watch = Stopwatch.StartNew();
        var (result, executed) = RunBroken("infinite-loop.ipynb", "--timeout", "2");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)));
        Assert.That(result.Stderr, Does.Contain("infinite-loop.ipynb: cell 2: the cell ran longer than the timeout of 2 s and was stopped"));
        Assert.That(Text(executed.Cells[0].Outputs[0]), Is.EqualTo("starting\n"));
        Assert.That(Text(executed.Cells[1].Outputs[0]), Does.StartWith("Timeout:"));
        Assert.That(executed.Cells[2].Outputs, Is.Empty);
    }

    [Test]
    public void A_cell_that_ends_the_process_is_reported_on_that_cell()
    {
        var (result, executed) = RunBroken("host-exit.ipynb");
        Assert.That(result.Stderr, Does.Contain("host-exit.ipynb: cell 2: the notebook host stopped during this cell: the notebook host exited with code 3"));
        Assert.That(Text(executed.Cells[0].Outputs[0]), Is.EqualTo("alive\n"));
    }

    [Test]
    public void A_package_used_without_its_reference_does_not_compile()
    {
        string dir = NewTempDir();
        string path = Path.Combine(dir, "no-reference.ipynb");
        // The runner ships Plotly.NET, but like Polyglot it is visible only after #r "nuget: ...".
        File.WriteAllText(path, File.ReadAllText(Data("host-exit.ipynb")).Replace("Environment.Exit(3);", "Plotly.NET.GenericChart c = null;", StringComparison.Ordinal));
        var result = Command(["run", path, "--out", Path.Combine(dir, "site")]);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("cell 2, line 1: error CS0246"));
    }

    [Test]
    public void A_package_that_cannot_be_restored_is_named_on_its_line()
    {
        // A version the package source does not have: the kernel's own restore fails and says which package.
        var (result, executed) = RunBroken("unknown-package.ipynb");
        Assert.That(result.Stderr, Does.Contain("unknown-package.ipynb: cell 2, line 1: error NU1102: Unable to find package Newtonsoft.Json with version (>= 99.0.0)"));
        Assert.That(Text(executed.Cells[1].Outputs[^1]), Does.Not.Contain("Project.fsproj"), "the kernel's temporary restore project is not part of the error");
    }

    [Test]
    public void An_unknown_magic_fails_as_in_the_kernel()
    {
        var (result, _) = RunBroken("unknown-magic.ipynb");
        Assert.That(result.Stderr, Does.Contain("unknown-magic.ipynb: cell 1, line 1: error DNI101: Unknown magic command '#!nosuchmagic'"));
    }

    [Test]
    public void The_real_kernel_restores_packages_and_runs_formatters_and_magics()
    {
        string dir = NewTempDir();
        var result = Command(["run", Data("kernel-features.ipynb"), "--out", dir]);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        var cells = NotebookJson.Load(Path.Combine(dir, "kernel-features.ipynb")).Cells;
        string Data0(int cell, int output, string mime) => PolyglotJson.JoinLines(cells[cell].Outputs[output]["data"]![mime]);
        Assert.Multiple(() =>
        {
            Assert.That(Data0(1, 0, "text/html"), Does.Contain("<strong>Installed Packages</strong>").And.Contain("Newtonsoft.Json, 13.0.4"), "#r \"nuget:\" restored by the kernel");
            Assert.That(Data0(1, 1, "text/plain"), Is.EqualTo("{\"a\":1,\"b\":[2,3]}"), "the restored Newtonsoft.Json runs");
            Assert.That(Data0(3, 0, "text/html"), Is.EqualTo("<b>(1, 2)</b>"), "Formatter.Register changes how a type shows");
            Assert.That(Text(cells[4].Outputs[0]), Is.EqualTo("499500\n"));
            Assert.That(Data0(4, 1, "text/plain"), Does.Match("^Wall time: [0-9.]+ms$"), "#!time");
            Assert.That(Data0(5, 0, "text/html"), Does.Contain("[ p\t , total\t  ]"), "#!who lists the variables");
            Assert.That(Data0(6, 0, "text/html"), Does.Contain("<td>Submission#N+Point</td>"), "#!whos, with the submission number made stable");
        });
    }

    [Test]
    public void Invalid_json_fails_run_and_check_with_one_line()
    {
        string path = Data("invalid-json.ipynb");
        var run = Command(["run", path, "--out", NewTempDir()]);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Stderr.Trim(), Does.StartWith("failed: ").And.Contain("invalid-json.ipynb: invalid JSON at line 4").And.Not.Contain("\n"));
        var check = Command(["check", path]);
        Assert.That(check.ExitCode, Is.EqualTo(1));
        Assert.That(check.Stderr, Does.Contain("invalid JSON at line 4"));
    }

    [Test]
    public void Every_output_kind_is_captured()
    {
        var run = Outputs;
        Assert.That(run.ExitCode, Is.Zero, run.Stdout + run.Stderr);
        var nb = NotebookJson.Load(Path.Combine(run.OutDir, "outputs.ipynb"));
        var c2 = nb.Cells[1].Outputs;
        Assert.Multiple(() =>
        {
            Assert.That(c2.Select(o => (string?)o["output_type"]), Is.EqualTo(new[] { "stream", "stream", "display_data" }));
            Assert.That(Text(c2[0]), Is.EqualTo("to stdout\nmerged with the line before\n"), "consecutive writes merge into one stream output");
            Assert.That((string?)c2[1]["name"], Is.EqualTo("stderr"));
            // What the real kernel gives (the same as nbclient stores from the tool's kernel): a trailing int as the
            // kernel's HTML plain-text view, a string as text/plain.
            Assert.That(PolyglotJson.JoinLines(c2[2]["data"]!["text/html"]), Does.StartWith("<div class=\"dni-plaintext\"><pre>42</pre></div>"), "the trailing expression is displayed");
            Assert.That(nb.Cells[1].ExecutionCount, Is.EqualTo(1));

            var c3 = nb.Cells[2].Outputs.Select(o => o["data"]!.AsObject()).ToList();
            Assert.That(PolyglotJson.JoinLines(c3[0]["text/plain"]), Is.EqualTo("via display"));
            Assert.That(PolyglotJson.JoinLines(c3[1]["text/html"]), Does.StartWith("<div class=\"dni-plaintext\"><pre>[ 1.5, 2 ]</pre></div>"));
            Assert.That(PolyglotJson.JoinLines(c3[2]["text/html"]), Is.EqualTo("<i>html</i>"));
            Assert.That(PolyglotJson.JoinLines(c3[3]["text/html"]), Is.EqualTo("<b>helper</b>"));
            Assert.That(PolyglotJson.JoinLines(c3[4]["text/plain"]), Is.EqualTo("to stdout!"), "variables and usings persist across cells");

            var c4 = nb.Cells[3].Outputs.Select(o => o["data"]!.AsObject()).ToList();
            // The kernel sends Update() to the front end, which redraws; the stored output keeps the first value, as nbclient's does.
            Assert.That(PolyglotJson.JoinLines(c4[0]["text/plain"]), Is.EqualTo("first version"));
            Assert.That(PolyglotJson.JoinLines(c4[1]["text/html"]), Does.Contain("&lt;null&gt;"));

            Assert.That(PolyglotJson.JoinLines(nb.Cells[4].Outputs[0]["data"]!["text/html"]), Does.Contain("<strong>rendered</strong>"), "#!markdown cells render");

            var chart = nb.Cells[5].Outputs[^1]["data"]!.AsObject();
            Assert.That(PolyglotJson.JoinLines(nb.Cells[5].Outputs[0]["data"]!["text/html"]), Does.Contain("Installed Packages"), "the kernel's restore report");
            Assert.That(chart["application/vnd.plotly.v1+json"]!["data"]![0]!["type"]!.GetValue<string>(), Is.EqualTo("bar"));
            string html = PolyglotJson.JoinLines(chart["text/html"]);
            Assert.That(html, Does.Contain("<div id=\"learn-chart-1\""), "the chart id is stable");
            Assert.That(html, Does.Not.Contain("cdn.plot.ly"), "no plotly.js download in the fragment");
            Assert.That(html.Length, Is.LessThan(100_000), "plotly.js is not embedded per chart");
        });
    }

    [Test]
    public void Running_twice_gives_byte_identical_files()
    {
        var first = Outputs;
        string dir = NewTempDir();
        var second = Command(["run", Data("outputs.ipynb"), "--out", dir]);
        Assert.That(second.ExitCode, Is.Zero);
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "outputs.ipynb")), Is.EqualTo(File.ReadAllBytes(Path.Combine(first.OutDir, "outputs.ipynb"))));
        Assert.That(File.ReadAllBytes(Path.Combine(dir, "outputs.html")), Is.EqualTo(File.ReadAllBytes(Path.Combine(first.OutDir, "outputs.html"))));
    }

    [Test]
    public void Inplace_rewrites_the_source_only_after_a_complete_run()
    {
        string dir = NewTempDir();
        string good = Path.Combine(dir, "good.ipynb");
        string bad = Path.Combine(dir, "bad.ipynb");
        File.Copy(Data("unknown-package.ipynb"), bad);
        File.WriteAllText(good, File.ReadAllText(Data("runtime-error.ipynb")).Replace("throw new InvalidOperationException(\\\"claim false: 1 + 1 != 3\\\");", "values.Count", StringComparison.Ordinal));
        string badBefore = File.ReadAllText(bad);
        var result = Command(["run", good, bad, "--out", Path.Combine(dir, "site"), "--inplace"]);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(File.ReadAllText(bad), Is.EqualTo(badBefore), "a failed notebook is not rewritten");
        var rewritten = NotebookJson.Load(good);
        Assert.That(rewritten.Cells[1].Outputs.Count, Is.EqualTo(2), "the complete run's outputs are written back");
        Assert.That(File.ReadAllText(good), Is.EqualTo(File.ReadAllText(Path.Combine(dir, "site", "good.ipynb"))));
        Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "bad.ipynb", "good.ipynb" }), "no temporary files are left");
        var check = Command(["check", good]);
        Assert.That(check.ExitCode, Is.EqualTo(1), "check refuses a notebook with stored outputs");
        Assert.That(check.Stderr, Does.Contain("has stored outputs"));
    }

    [Test]
    public void Wrong_kernel_metadata_fails_check_and_run()
    {
        string dir = NewTempDir();
        string path = Path.Combine(dir, "python.ipynb");
        File.WriteAllText(path, File.ReadAllText(Data("host-exit.ipynb")).Replace("\".net-csharp\"", "\"python3\"", StringComparison.Ordinal));
        var check = Command(["check", path]);
        Assert.That(check.ExitCode, Is.EqualTo(1));
        Assert.That(check.Stderr, Does.Contain("python.ipynb: metadata.kernelspec.name: must be \".net-csharp\" (found \"python3\")"));
        var run = Command(["run", path, "--out", Path.Combine(dir, "site")]);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Stderr, Does.Contain("metadata.kernelspec.name"));
    }

    [TestCase(new[] { "run", "--bogus" }, "unknown option '--bogus'")]
    [TestCase(new[] { "run", "no/such.ipynb" }, "no/such.ipynb: no such file or folder")]
    [TestCase(new[] { "run", "--timeout", "soon" }, "--timeout: 'soon' is not a positive number")]
    [TestCase(new[] { "export", "x.ipynb", "--to", "py" }, "--to 'py' is not supported")]
    [TestCase(new[] { "frobnicate" }, "unknown verb 'frobnicate'")]
    [TestCase(new string[0], "missing verb")]
    public void Usage_errors_exit_2_with_one_line(string[] args, string expected)
    {
        var result = Command(args);
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr.Split('\n')[0], Does.StartWith("learn notebooks: ").And.Contain(expected));
    }
}
