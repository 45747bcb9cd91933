using System.Text.Json;
using System.Text.Json.Nodes;
using Learn.Lessons;
using Learn.Tests.Notebooks;

namespace Learn.Tests.Lessons;

/// <summary>
/// The lessons' exercises: committed notebooks hold stubs, not answers; every stored solution, put into a copy of
/// its lesson, runs through <c>learn notebooks run</c> and is judged right; a wrong answer stops the run.
/// </summary>
[NonParallelizable]
public class LessonSolutionTests
{
    private static string Root => NotebookTestSupport.RepoRoot;

    private static readonly string Scratch = Path.Combine(Path.GetTempPath(), "learn-lesson-solution-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static IEnumerable<TestCaseData> SolutionFiles() =>
        Directory.GetFiles(Path.Combine(Root, "notebooks", "solutions"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => new TestCaseData(Path.GetFileNameWithoutExtension(f)).SetName($"Solutions are right: {Path.GetFileName(f)}"));

    [OneTimeSetUp]
    public void BuildWhatTheLessonsReference() => NotebookTestSupport.EnsureLearnReleaseBuilt();

    [OneTimeTearDown]
    public void RemoveScratch()
    {
        if (Directory.Exists(Scratch))
        {
            Directory.Delete(Scratch, recursive: true);
        }
    }

    [Test]
    public void Every_lesson_has_solutions()
    {
        var lessons = Directory.GetFiles(Path.Combine(Root, "notebooks"), "0*.ipynb")
            .Select(f => Path.GetFileNameWithoutExtension(f)!).Where(n => n != "00-sample").ToList();
        Assert.That(lessons, Is.Not.Empty);
        foreach (string lesson in lessons)
        {
            Assert.That(File.Exists(Path.Combine(Root, "notebooks", "solutions", lesson + ".json")), Is.True, lesson);
        }
    }

    [TestCaseSource(nameof(SolutionFiles))]
    public void Committed_lesson_holds_stubs_not_answers(string lesson)
    {
        var solutions = Exercise.Solutions(Path.Combine(Root, "notebooks", "solutions", lesson + ".json"));
        var cells = Cells(ReadLesson(lesson));
        Assert.That(solutions, Is.Not.Empty);
        foreach (var (id, solution) in solutions)
        {
            Assert.That(cells.ContainsKey(id), Is.True, $"{lesson}: no cell {id} for a stored solution");
            string stub = cells[id];
            Assert.That(stub, Is.Not.EqualTo(solution), $"{lesson} cell {id} holds its solution");
            Assert.That(stub, Does.Contain("= null;"), $"{lesson} cell {id} is not a stub: {stub}");
        }
    }

    [TestCaseSource(nameof(SolutionFiles))]
    public void Solutions_put_into_the_lesson_are_judged_right(string lesson)
    {
        var solutions = Exercise.Solutions(Path.Combine(Root, "notebooks", "solutions", lesson + ".json"));
        var notebook = ReadLesson(lesson);
        foreach (var cell in notebook["cells"]!.AsArray())
        {
            if (solutions.TryGetValue((string)cell!["id"]!, out var solution))
            {
                cell["source"] = Lines(solution);
            }
        }

        var (result, outputs) = RunCopy(lesson, notebook);
        Assert.That(result.ExitCode, Is.Zero, result.Stdout + result.Stderr);
        Assert.That(outputs, Does.Not.Contain(Exercise.NotAnsweredYet));
        Assert.That(outputs, Does.Not.Contain(Exercise.NotPredictedYet));
        int rightCount = outputs.Split('\n').Count(l => l.StartsWith("exercise ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(": right", StringComparison.Ordinal));
        int exercises = solutions.Values.Count(s => s.Contains("answer", StringComparison.Ordinal));
        Assert.That(rightCount, Is.EqualTo(exercises), outputs);
    }

    [Test]
    public void Unanswered_exercises_say_so_and_a_wrong_answer_stops_the_run()
    {
        var notebook = JsonNode.Parse("""
            {"cells": [], "metadata": {"kernelspec": {"display_name": ".NET (C#)", "language": "C#", "name": ".net-csharp"},
             "language_info": {"name": "polyglot-notebook"}, "polyglot_notebook": {"kernelInfo": {"defaultKernelName": "csharp", "items": [{"aliases": [], "name": "csharp"}]}}},
             "nbformat": 4, "nbformat_minor": 5}
            """)!;
        JsonObject Code(string id, string source) => new()
        {
            ["cell_type"] = "code", ["execution_count"] = null, ["id"] = id,
            ["metadata"] = new JsonObject { ["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" } },
            ["outputs"] = new JsonArray(), ["source"] = Lines(source),
        };
        var cells = notebook["cells"]!.AsArray();
        cells.Add(Code("c1", "#r \"../lib/Learn.Lessons/bin/Release/net10.0/Learn.Lessons.dll\"\nusing Learn.Lessons;"));
        cells.Add(Code("c2", "int? answer1 = null;"));
        cells.Add(Code("c3", "Exercise.Check(\"exercise 1\", answer1, a => a == 16);\nConsole.WriteLine(\"reached the end\");"));

        var (unanswered, outputs) = RunCopy("99-stub", notebook);
        Assert.That(unanswered.ExitCode, Is.Zero, unanswered.Stdout + unanswered.Stderr);
        Assert.That(outputs, Does.Contain("exercise 1: " + Exercise.NotAnsweredYet));
        Assert.That(outputs, Does.Contain("reached the end"));

        cells[1]!["source"] = Lines("int? answer1 = 15;");
        var (wrong, wrongOutputs) = RunCopy("99-stub", notebook);
        Assert.That(wrong.ExitCode, Is.EqualTo(1), wrong.Stdout + wrong.Stderr);
        Assert.That(wrongOutputs, Does.Contain("exercise 1: wrong"));
        Assert.That(wrongOutputs, Does.Not.Contain("reached the end"));
    }

    [Test]
    public void Exercise_check_judges_null_right_and_wrong()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Exercise.Check("e", (int?)null, a => a == 3), Is.False);
            Assert.That(Exercise.Check("e", (int?)3, a => a == 3), Is.True);
            Assert.That(() => Exercise.Check("e", (int?)4, a => a == 3), Throws.TypeOf<WrongAnswerException>());
            Assert.That(Exercise.Check("e", () => throw new NotImplementedException()), Is.False);
            Assert.That(() => Exercise.Check("e", () => throw new ArgumentException("bad shape")),
                Throws.TypeOf<WrongAnswerException>().With.Message.Contains("bad shape"));
            Assert.That(Exercise.Predict("p", (int?)null, 3), Is.False);
            Assert.That(Exercise.Predict("p", (int?)2, 3), Is.False, "a wrong prediction does not throw");
            Assert.That(Exercise.Predict("p", (int?)3, 3), Is.True);
        });
    }

    private static JsonNode ReadLesson(string lesson) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "notebooks", lesson + ".ipynb")))!;

    private static Dictionary<string, string> Cells(JsonNode notebook) =>
        notebook["cells"]!.AsArray().ToDictionary(c => (string)c!["id"]!, c => string.Concat(c!["source"]!.AsArray().Select(l => (string)l!)));

    private static JsonArray Lines(string source)
    {
        var lines = new JsonArray();
        for (int start = 0; start < source.Length;)
        {
            int newline = source.IndexOf('\n', start);
            int end = newline < 0 ? source.Length : newline + 1;
            lines.Add(source[start..end]);
            start = end;
        }

        return lines;
    }

    /// <summary>
    /// Writes the notebook into a scratch copy of the repository's layout (notebooks/ beside links to lib/ and
    /// reference-weights/, so its relative paths resolve), runs it, and returns the run and its text outputs.
    /// </summary>
    private static (NotebookTestSupport.CommandResult Result, string Outputs) RunCopy(string lesson, JsonNode notebook)
    {
        string root = Path.Combine(Scratch, Guid.NewGuid().ToString("N")[..12]);
        string notebooks = Path.Combine(root, "notebooks");
        Directory.CreateDirectory(Path.Combine(notebooks, "solutions"));
        Directory.CreateSymbolicLink(Path.Combine(root, "lib"), Path.Combine(Root, "lib"));
        Directory.CreateSymbolicLink(Path.Combine(root, "reference-weights"), Path.Combine(Root, "reference-weights"));
        foreach (string file in Directory.GetFiles(Path.Combine(Root, "notebooks", "solutions")))
        {
            File.Copy(file, Path.Combine(notebooks, "solutions", Path.GetFileName(file)));
        }

        string path = Path.Combine(notebooks, lesson + ".ipynb");
        File.WriteAllText(path, notebook.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        string outDir = Path.Combine(root, "out");
        var result = NotebookTestSupport.Command(["run", path, "--out", outDir]);
        string executed = Path.Combine(outDir, lesson + ".ipynb");
        string outputs = File.Exists(executed) ? Outputs(JsonNode.Parse(File.ReadAllText(executed))!) : "";
        return (result, outputs);
    }

    private static string Outputs(JsonNode executed)
    {
        var text = new System.Text.StringBuilder();
        foreach (var cell in executed["cells"]!.AsArray())
        {
            foreach (var output in cell!["outputs"]?.AsArray() ?? [])
            {
                foreach (string key in new[] { "text", "evalue" })
                {
                    if (output![key] is JsonArray lines)
                    {
                        text.Append(string.Concat(lines.Select(l => (string)l!)));
                    }
                    else if (output[key] is JsonValue v)
                    {
                        text.Append((string)v!).Append('\n');
                    }
                }

                if (output!["traceback"] is JsonArray tb)
                {
                    text.AppendJoin('\n', tb.Select(l => (string)l!)).Append('\n');
                }
            }
        }

        return text.ToString();
    }
}
