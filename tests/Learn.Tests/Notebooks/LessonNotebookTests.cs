using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

/// <summary>Every notebook in notebooks/ runs cleanly, each as its own test case, and passes the check.</summary>
public class LessonNotebookTests
{
    private static IEnumerable<TestCaseData> Lessons() =>
        Directory.GetFiles(Path.Combine(RepoRoot, "notebooks"), "*.ipynb").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(f).SetName($"Lesson runs cleanly: {Path.GetFileName(f)}"));

    [OneTimeSetUp]
    public void BuildTheLibraryTheLessonsReference() => EnsureLearnReleaseBuilt();

    [TestCaseSource(nameof(Lessons))]
    public void Lesson_runs_without_error(string path)
    {
        string before = File.ReadAllText(path);
        var result = RunLesson(path);
        string dir = result.OutDir;
        Assert.That(result.ExitCode, Is.Zero, result.Stdout + result.Stderr);
        string name = Path.GetFileNameWithoutExtension(path);
        Assert.That(File.Exists(Path.Combine(dir, name + ".ipynb")), Is.True);
        Assert.That(File.Exists(Path.Combine(dir, name + ".html")), Is.True);
        Assert.That(File.ReadAllText(Path.Combine(dir, "index.html")), Does.Contain(name + ".html"));
        Assert.That(File.ReadAllText(path), Is.EqualTo(before), "run without --inplace must not touch the source");
    }

    [Test]
    public void Committed_lessons_pass_the_check()
    {
        var result = Command(["check", NotebooksDir]);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("passed, 0 failed"));
    }

    [Test]
    public void The_sample_exercises_every_feature()
    {
        string text = File.ReadAllText(Path.Combine(NotebooksDir, "00-sample.ipynb"));
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("Plotly.NET.CSharp.Chart"), "a chart");
            Assert.That(text, Does.Contain("Tensor.Random"), "a tensor");
            Assert.That(text, Does.Contain("display("), "display()");
            Assert.That(text, Does.Contain(".Display()"), "x.Display()");
            Assert.That(text, Does.Contain("Console.WriteLine"), "Console output");
            Assert.That(text, Does.Contain("throw new InvalidOperationException"), "a check that throws");
        });
    }
}
