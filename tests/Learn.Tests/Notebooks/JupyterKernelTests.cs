using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

/// <summary>
/// Every lesson, unchanged, executed by Jupyter's own client (Debian's python3-nbclient) in the real .NET
/// Interactive kernel (the `.net-csharp` kernelspec that `dotnet interactive jupyter install` writes), the way
/// a learner runs it in Jupyter or VS Code: no error output, every chart a real chart, tensors as tables.
/// .ci/run installs the tool, the kernelspec and nbclient; elsewhere the test is skipped when they are missing.
/// </summary>
[NonParallelizable]
public class JupyterKernelTests
{
    private const string PlotlyMime = "application/vnd.plotly.v1+json";
    private const string Python = "/usr/bin/python3";

    // Runs one notebook with nbclient and writes the executed copy even when a cell fails (nbclient stops there).
    private const string Runner = """
        import sys, os, nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        source, target = sys.argv[1], sys.argv[2]
        nb = nbformat.read(source, as_version=4)
        client = NotebookClient(nb, kernel_name='.net-csharp', timeout=900, startup_timeout=300,
                                resources={'metadata': {'path': os.path.dirname(os.path.abspath(source))}})
        status = 0
        try:
            client.execute()
        except CellExecutionError as e:
            status = 3
        nbformat.write(nb, target)
        sys.exit(status)
        """;

    private static IEnumerable<TestCaseData> Lessons() =>
        Directory.GetFiles(Path.Combine(RepoRoot, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(f).SetName($"Lesson runs in the real kernel through Jupyter: {Path.GetFileName(f)}"));

    [OneTimeSetUp]
    public void RequireJupyterAndTheKernel()
    {
        var (code, output) = Run(Python, ["-c", "import nbclient, nbformat, jupyter_client; from jupyter_client.kernelspec import KernelSpecManager as K; print(K().get_kernel_spec('.net-csharp').argv[0])"], 120);
        if (code != 0)
        {
            RequireOrSkip("Jupyter's client (python3-nbclient) or the .net-csharp kernelspec (dotnet interactive jupyter install) is missing: " + output.Trim());
        }

        EnsureLearnReleaseBuilt();
    }

    [TestCaseSource(nameof(Lessons))]
    public void Lesson_runs_in_the_real_kernel(string path)
    {
        string script = Path.Combine(NewTempDir(), "run.py");
        File.WriteAllText(script, Runner);
        string executed = Path.Combine(Path.GetDirectoryName(script)!, Path.GetFileName(path));
        var (code, output) = Run(Python, [script, path, executed], 1500);
        Assert.That(File.Exists(executed), Is.True, $"nbclient wrote no executed copy (exit {code}):\n{output}");
        var nb = JsonNode.Parse(File.ReadAllText(executed))!;

        var problems = new List<string>();
        int charts = 0, tensors = 0, codeCells = 0;
        foreach (var (cell, index) in nb["cells"]!.AsArray().Select((c, i) => (c!, i + 1)))
        {
            if ((string?)cell["cell_type"] != "code")
            {
                continue;
            }

            codeCells++;
            foreach (var output1 in cell["outputs"]!.AsArray().Select(o => o!))
            {
                string kind = (string)output1["output_type"]!;
                if (kind == "error")
                {
                    problems.Add($"cell {index}: error output {(string?)output1["ename"]}: {Head((string?)output1["evalue"])}");
                    continue;
                }

                if (output1["data"] is not JsonObject data)
                {
                    continue;
                }

                if (data[PlotlyMime] is JsonNode figure)
                {
                    charts++;
                    string? why = NotAChart(figure, data);
                    if (why is not null)
                    {
                        problems.Add($"cell {index}: a chart output that is not a chart: {why}");
                    }
                }

                foreach (var (mime, value) in data)
                {
                    string text = Text(value);
                    // What the kernel shows for a chart nobody formats: the F# text of the chart object or its tree view.
                    if (mime != PlotlyMime && (text.Contains("Plotly.NET.GenericChart", StringComparison.Ordinal)
                        || text.Contains("MultiChart", StringComparison.Ordinal) || text.Contains("SingleChart", StringComparison.Ordinal)
                        || text.Contains("Plotly.NET.Trace", StringComparison.Ordinal)))
                    {
                        problems.Add($"cell {index}: a chart shown as {mime} text, not drawn: {Head(text)}");
                    }

                    if (mime == "text/html" && text.Contains("class=\"learn-tensor\"", StringComparison.Ordinal))
                    {
                        tensors++;
                    }
                }
            }
        }

        string source = File.ReadAllText(path);
        bool drawsCharts = source.Contains("Chart.", StringComparison.Ordinal) && source.Contains("Plotly", StringComparison.Ordinal);
        TestContext.Out.WriteLine($"{Path.GetFileName(path)}: {codeCells} code cells, {charts} charts, {tensors} tensor tables, nbclient exit {code}");
        Assert.Multiple(() =>
        {
            Assert.That(problems, Is.Empty, string.Join("\n", problems));
            Assert.That(code, Is.Zero, $"nbclient stopped the notebook:\n{Tail(output)}");
            if (Path.GetFileName(path) == "00-sample.ipynb")
            {
                Assert.That(tensors, Is.GreaterThan(0), "the sample displays a tensor, but no output is its HTML table");
            }

            if (drawsCharts)
            {
                Assert.That(charts, Is.GreaterThan(0), "the lesson draws charts, but no output carries " + PlotlyMime);
            }
        });
    }

    // A chart is a Plotly figure (an object with a data array of traces) plus HTML that draws it with Plotly.newPlot.
    private static string? NotAChart(JsonNode figure, JsonObject data)
    {
        JsonNode? parsed = figure;
        if (figure is JsonValue v && v.TryGetValue(out string? s))
        {
            // The kernel's Jupyter layer sends JSON mime values as strings; nbclient stores them as they came.
            try
            {
                parsed = JsonNode.Parse(s);
            }
            catch (JsonException e)
            {
                return $"{PlotlyMime} is not JSON ({e.Message})";
            }
        }

        if (parsed?["data"] is not JsonArray traces || traces.Count == 0)
        {
            return $"{PlotlyMime} has no traces";
        }

        string html = data["text/html"] is JsonNode h ? Text(h) : "";
        return html.Contains("Plotly.newPlot", StringComparison.Ordinal) ? null : "its text/html does not draw it";
    }

    /// <summary>
    /// `learn notebooks run` gives, cell by cell, the outputs Jupyter's client gets from the tool's kernel for a
    /// notebook that restores a package, registers a formatter and uses #!time, #!who and #!whos. Compared after the
    /// differences the runner documents: Jupyter's bootstrap script in the first cell (Jupyter mode only), a trailing
    /// value stored as execute_result by Jupyter and as display_data by Polyglot and the runner, Submission#N, and the
    /// number after "Wall time:".
    /// </summary>
    [Test]
    public void The_runner_gives_the_outputs_Jupyter_gives()
    {
        string source = Data("kernel-features.ipynb");
        string dir = NewTempDir();
        string script = Path.Combine(dir, "run.py");
        File.WriteAllText(script, Runner);
        string viaJupyter = Path.Combine(dir, "jupyter.ipynb");
        var (code, output) = Run(Python, [script, source, viaJupyter], 900);
        Assert.That(code, Is.Zero, output);
        var runner = Command(["run", source, "--out", Path.Combine(dir, "site")]);
        Assert.That(runner.ExitCode, Is.Zero, runner.Stderr);

        var expected = Comparable(JsonNode.Parse(File.ReadAllText(viaJupyter))!, dropBootstrap: true);
        var actual = Comparable(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "site", "kernel-features.ipynb")))!, dropBootstrap: false);
        Assert.That(actual, Is.EqualTo(expected));
    }

    private static List<string> Comparable(JsonNode notebook, bool dropBootstrap)
    {
        var cells = new List<string>();
        foreach (var cell in notebook["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code"))
        {
            var outputs = new List<string>();
            foreach (var o in cell!["outputs"]!.AsArray().Select(o => o!))
            {
                string kind = (string)o["output_type"]!;
                string body = o["data"] is JsonObject data
                    ? string.Join("\n", data.Select(kv => kv.Key + "=" + Text(kv.Value)))
                    : Text(o["text"]);
                if (dropBootstrap && body.Contains("dotnet-interactive-this-cell", StringComparison.Ordinal))
                {
                    continue;
                }

                body = System.Text.RegularExpressions.Regex.Replace(body, "Submission#[0-9]+", "Submission#N");
                body = System.Text.RegularExpressions.Regex.Replace(body, "^text/plain=Wall time: [0-9.]+ms$", "text/plain=Wall time: (time)ms");
                outputs.Add((kind == "execute_result" ? "display_data" : kind) + ": " + body);
            }

            cells.Add(string.Join("\n---\n", outputs));
        }

        return cells;
    }

    private static string Text(JsonNode? value) => value switch
    {
        JsonArray lines => string.Concat(lines.Select(l => (string?)l)),
        JsonValue one when one.TryGetValue(out string? s) => s,
        null => "",
        _ => value.ToJsonString(),
    };

    private static string Head(string? s) => s is null ? "" : s.Length <= 300 ? s : s[..300] + "...";

    private static string Tail(string s) => s.Length <= 3000 ? s : "..." + s[^3000..];

    private static (int Code, string Output) Run(string file, string[] args, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, $"timed out after {timeoutSeconds} s\n{stdout.Result}{stderr.Result}");
        }

        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
