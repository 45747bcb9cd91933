using System.Diagnostics;
using System.Text;
using Learn.Notebooks.Format;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

/// <summary>A notebook exported to a file-based app runs with <c>dotnet run</c> and prints the notebook's text outputs.</summary>
public class NotebookExportTests
{
    [Test]
    public void The_exported_sample_prints_the_same_text_as_the_notebook()
    {
        string sample = Path.Combine(NotebooksDir, "00-sample.ipynb");
        var run = RunLesson(sample);
        string dir = run.OutDir;
        Assert.That(run.ExitCode, Is.Zero, run.Stdout + run.Stderr);
        string expected = TextOutputs(NotebookJson.Load(Path.Combine(dir, "00-sample.ipynb")));

        string app = Path.Combine(dir, "sample.cs");
        var export = Command(["export", sample, "--to", "cs", "--out", app]);
        Assert.That(export.ExitCode, Is.Zero, export.Stderr);
        string source = File.ReadAllText(app);
        Assert.That(source, Does.Contain("#:project ").And.Contain("lib/Learn\n"));
        Assert.That(source, Does.Contain("#:package Plotly.NET.CSharp@0.14.0"));

        var psi = new ProcessStartInfo("dotnet", ["run", app]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.That(p.WaitForExit(300_000), Is.True, "dotnet run did not finish in 5 minutes");
        Assert.That(p.ExitCode, Is.Zero, stdout + stderr.GetAwaiter().GetResult());
        Assert.That(stdout, Is.EqualTo(expected));
    }

    [Test]
    public void A_notebook_a_file_cannot_express_is_refused_with_one_line()
    {
        var result = Command(["export", Data("unknown-package.ipynb"), "--to", "cs", "--out", Path.Combine(NewTempDir(), "x.cs")]);
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr.Trim(), Does.Contain("cell 2, line 1").And.Not.Contain("\n"));
    }

    [Test]
    public void Usings_are_hoisted_types_move_last_and_trailing_values_are_displayed()
    {
        var notebook = new Notebook { Metadata = PolyglotMetadata.NotebookMetadata() };
        notebook.Cells.Add(new NotebookCell { Id = "a", CellType = "markdown", Source = "# T" });
        notebook.Cells.Add(new NotebookCell { Id = "b", CellType = "code", Metadata = PolyglotMetadata.CodeCellMetadata(), Source = "#!csharp\nusing System.Numerics;\nrecord P(int X);\nvar p = new P(1);\np.X + 1" });
        notebook.Cells.Add(new NotebookCell { Id = "c", CellType = "code", Metadata = PolyglotMetadata.CodeCellMetadata(), Source = "Console.WriteLine(p);" });
        string dir = NewTempDir();
        string text = Learn.Notebooks.Export.FileAppExporter.Export(notebook, Path.Combine(NotebooksDir, "t.ipynb"), Path.Combine(dir, "t.cs"));
        int usingAt = text.IndexOf("using System.Numerics;", StringComparison.Ordinal);
        int valueAt = text.IndexOf("display(p.X + 1);", StringComparison.Ordinal);
        int printAt = text.IndexOf("Console.WriteLine(p);", StringComparison.Ordinal);
        int recordAt = text.IndexOf("record P(int X);", StringComparison.Ordinal);
        Assert.That(new[] { usingAt, valueAt, printAt, recordAt }, Is.All.GreaterThan(0));
        Assert.That(usingAt, Is.LessThan(valueAt));
        Assert.That(printAt, Is.LessThan(recordAt), "types follow all top-level statements (CS8803)");
        Assert.That(text, Does.Contain("// # T"), "markdown becomes comments");
        Assert.That(text, Does.Not.Contain("#!csharp\n"));
    }

    /// <summary>What the notebook printed as text: stream text and the text/plain of displays, in order.</summary>
    private static string TextOutputs(Notebook notebook)
    {
        var sb = new StringBuilder();
        foreach (var output in notebook.Cells.Where(c => c.IsCode).SelectMany(c => c.Outputs))
        {
            if ((string?)output["output_type"] == "stream")
            {
                sb.Append(PolyglotJson.JoinLines(output["text"]));
            }
            else if (output["data"]?["text/plain"] is { } text)
            {
                string s = PolyglotJson.JoinLines(text);
                sb.Append(s.EndsWith('\n') ? s : s + "\n");
            }
        }

        return sb.ToString();
    }
}
