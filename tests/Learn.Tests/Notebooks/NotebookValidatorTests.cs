using System.Diagnostics;
using System.Text.Json.Nodes;
using Learn.Notebooks.Format;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

public class NotebookValidatorTests
{
    /// <summary>The official schema as Debian's python3-nbformat installs it (jupyter/nbformat).</summary>
    private const string OfficialSchema = "/usr/lib/python3/dist-packages/nbformat/v4/nbformat.v4.5.schema.json";

    private const string Python = "/usr/bin/python3";

    private static JsonObject Sample() => (JsonObject)JsonNode.Parse(File.ReadAllText(Data("outputs.ipynb")))!;

    private static JsonObject Cell(JsonObject nb, int i) => nb["cells"]![i]!.AsObject();

    private static JsonArray OutputList(params JsonObject[] outputs) => new(outputs);

    /// <summary>
    /// Each mutation breaks one nbformat 4.5 rule; the message must name the place. The first 19 are the
    /// cases the hand-written validator this replaced was tested on.
    /// </summary>
    private static IEnumerable<TestCaseData> Broken()
    {
        yield return Case("markdown cell without id", nb => Cell(nb, 0).Remove("id"), "cells[0]: missing required property \"id\"");
        yield return Case("duplicate id", nb => Cell(nb, 2)["id"] = (string?)Cell(nb, 1)["id"], "cells[2].id: \"", Rule.NbformatCode);
        yield return Case("id with a space", nb => Cell(nb, 1)["id"] = "a b", "cells[1].id: must be 1-64 characters");
        yield return Case("id too long", nb => Cell(nb, 1)["id"] = new string('a', 65), "cells[1].id: must be 1-64 characters");
        yield return Case("minor 4", nb => nb["nbformat_minor"] = 4, "nbformat_minor: must be an integer >= 5");
        yield return Case("major 3", nb => nb["nbformat"] = 3, "nbformat: must be the integer 4");
        yield return Case("unknown top-level key", nb => nb["extra"] = 1, "notebook: unexpected property \"extra\"");
        yield return Case("code cell without outputs", nb => Cell(nb, 1).Remove("outputs"), "cells[1]: missing required property \"outputs\"");
        yield return Case("negative execution count", nb => Cell(nb, 1)["execution_count"] = -1, "cells[1].execution_count: must be an integer >= 0 or null");
        yield return Case("outputs on a markdown cell", nb => Cell(nb, 0)["outputs"] = new JsonArray(), "cells[0]: unexpected property \"outputs\"");
        yield return Case("unknown cell type", nb => Cell(nb, 0)["cell_type"] = "heading", "cells[0].cell_type: must be \"code\", \"markdown\" or \"raw\" (found \"heading\")");
        yield return Case("source a number", nb => Cell(nb, 0)["source"] = 5, "cells[0].source: must be a string or an array of strings");
        yield return Case("kernelspec without display_name", nb => nb["metadata"]!["kernelspec"]!.AsObject().Remove("display_name"), "metadata.kernelspec: missing required property \"display_name\"");
        yield return Case("stream without text", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout" }), "cells[1].outputs[0]: missing required property \"text\"");
        yield return Case("display data without metadata", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "display_data", ["data"] = new JsonObject() }), "cells[1].outputs[0]: missing required property \"metadata\"");
        yield return Case("JSON under text/plain", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "display_data", ["metadata"] = new JsonObject(), ["data"] = new JsonObject { ["text/plain"] = new JsonObject() } }), "cells[1].outputs[0].data['text/plain']: must be a string or an array of strings (only application/*json may hold JSON)");
        yield return Case("error traceback a string", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "error", ["ename"] = "E", ["evalue"] = "v", ["traceback"] = "t" }), "cells[1].outputs[0].traceback: must be an array of strings");
        yield return Case("unknown output type", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "pager" }), "cells[1].outputs[0].output_type: must be stream, display_data, execute_result or error (found \"pager\")");
        yield return Case("tags with a comma", nb => Cell(nb, 1)["metadata"]!["tags"] = new JsonArray("a,b"), "cells[1].metadata.tags[0]: must be a non-empty string without commas");
        yield return Case("repeated tags", nb => Cell(nb, 1)["metadata"]!["tags"] = new JsonArray("a", "a"), "cells[1].metadata.tags: must not repeat an item");
        yield return Case("nbformat 4.0 (draft-04: not an integer)", nb => nb["nbformat"] = JsonNode.Parse("4.0"), "nbformat: must be the integer 4 (found 4.0)");
        yield return Case("id a number", nb => Cell(nb, 1)["id"] = 7, "cells[1].id: must be 1-64 characters");
        yield return Case("cell a number", nb => nb["cells"]![0] = 3, "cells[0]: must be an object (found 3)");
        yield return Case("cells an object", nb => nb["cells"] = new JsonObject(), "cells: must be an array");
        yield return Case("source with a number line", nb => Cell(nb, 1)["source"] = new JsonArray("x", 1), "cells[1].source: must be a string or an array of strings");
        yield return Case("execution count a string", nb => Cell(nb, 1)["execution_count"] = "1", "cells[1].execution_count: must be an integer >= 0 or null");
        yield return Case("scrolled neither boolean nor auto", nb => Cell(nb, 1)["metadata"]!["scrolled"] = "x", "cells[1].metadata.scrolled: must be one of true, false, \"auto\"");
        yield return Case("empty cell name", nb => Cell(nb, 1)["metadata"]!["name"] = "", "cells[1].metadata.name: must be a non-empty string");
        yield return Case("kernelspec name a number", nb => nb["metadata"]!["kernelspec"]!["name"] = 1, "metadata.kernelspec.name: must be a string");
        yield return Case("stream name missing", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "stream", ["text"] = "x" }), "cells[1].outputs[0]: missing required property \"name\"");
        yield return Case("unexpected key in an output", nb => Cell(nb, 1)["outputs"] = OutputList(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = "x", ["extra"] = 1 }), "cells[1].outputs[0]: unexpected property \"extra\"");
        yield return Case("unexpected key with a newline and an escape", nb => nb["x\ny\u001b"] = 1, "notebook: unexpected property \"x\\ny\\u001b\"");
        yield return Case("nbformat_minor beyond int", nb => nb["nbformat_minor"] = 99999999999L, "nbformat_minor: 99999999999 is too large", Rule.ThisProject);
        yield return Case("execution count beyond int", nb => Cell(nb, 1)["execution_count"] = 99999999999L, "cells[1].execution_count: 99999999999 is too large", Rule.ThisProject);
    }

    /// <summary>Who enforces a rule: the schema; nbformat's code beside its schema (unique ids); or only this project.</summary>
    public enum Rule
    {
        Schema,
        NbformatCode,
        ThisProject,
    }

    private static TestCaseData Case(string name, Action<JsonObject> breakIt, string expected, Rule rule = Rule.Schema) =>
        new TestCaseData(breakIt, expected, rule).SetName($"Schema violation is reported: {name}");

    [Test]
    public void The_sample_and_lesson_notebooks_are_valid()
    {
        Assert.That(NotebookValidator.ValidateSchema(Sample()), Is.Empty);
        var files = Directory.GetFiles(NotebooksDir, "*.ipynb").Concat(Directory.GetFiles(Path.GetDirectoryName(Data("outputs.ipynb"))!, "*.ipynb"))
            .Where(f => !f.EndsWith("invalid-json.ipynb", StringComparison.Ordinal)).ToList();
        Assert.That(files.Count(f => f.StartsWith(NotebooksDir, StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(10), "the ten lessons");
        foreach (string file in files)
        {
            Assert.That(NotebookValidator.ValidateSchema(JsonNode.Parse(File.ReadAllText(file))), Is.Empty, file);
        }
    }

    [TestCaseSource(nameof(Broken))]
    public void Schema_violations_are_reported(Action<JsonObject> breakIt, string expected, Rule rule)
    {
        var nb = Sample();
        breakIt(nb);
        var problems = NotebookValidator.ValidateSchema(nb);
        Assert.That(problems, Has.Some.StartsWith(expected));
        // The schema alone reports exactly the schema's rules; the rest are the hand-written checks.
        Assert.That(NbformatSchema.Validate(nb), rule == Rule.Schema ? Is.Not.Empty : Is.Empty);
    }

    /// <summary>
    /// The independent check: Debian's nbformat (Python, its own validator over the same schema file, plus its
    /// unique-id check) must give the verdict this project gives on every broken notebook, and pass the sample.
    /// </summary>
    [Test]
    public void Debian_nbformat_gives_the_same_verdicts()
    {
        var cases = Broken().Select(c => (Name: c.TestName!, Break: (Action<JsonObject>)c.Arguments[0]!, Rule: (Rule)c.Arguments[2]!)).ToList();
        string dir = NewTempDir();
        var files = new List<string> { Data("outputs.ipynb") };
        for (int i = 0; i < cases.Count; i++)
        {
            var nb = Sample();
            cases[i].Break(nb);
            string file = Path.Combine(dir, $"case{i}.ipynb");
            File.WriteAllText(file, nb.ToJsonString());
            files.Add(file);
        }

        var verdicts = NbformatVerdicts(files);
        Assert.That(verdicts[0], Is.EqualTo("valid"), "nbformat must accept the unbroken sample");
        for (int i = 0; i < cases.Count; i++)
        {
            string expected = cases[i].Rule == Rule.ThisProject ? "valid" : "invalid";
            Assert.That(verdicts[i + 1], Is.EqualTo(expected), cases[i].Name);
        }
    }

    /// <summary>
    /// Random single mutations of the lessons and the sample (a key removed, added or given a value of another
    /// kind or range), each judged by Debian's nbformat and by this validator: the verdicts must agree, apart
    /// from integers too large for an int (this project's rule only), and a notebook this validator accepts must
    /// load. Fixed seed, so a failure names the same mutant on every run.
    /// </summary>
    [Test]
    public void Random_mutations_get_Debian_nbformats_verdict()
    {
        Func<JsonNode?>[] values =
        [
            () => 5, () => -1, () => JsonNode.Parse("1.5"), () => JsonNode.Parse("4.0"), () => 99999999999L, () => 0,
            () => "x", () => "a b", () => "", () => "a,b", () => "code", () => "stream", () => new string('a', 65),
            () => null, () => true, () => new JsonArray(), () => new JsonObject(), () => new JsonArray("a", "a"), () => new JsonArray("x", 1),
        ];
        string[] keys = ["extra", "id", "outputs", "execution_count", "attachments", "metadata", "source", "name", "text", "data"];
        var sources = Directory.GetFiles(NotebooksDir, "*.ipynb").Order(StringComparer.Ordinal).Append(Data("outputs.ipynb")).ToList();
        var rng = new Random(10);
        string dir = NewTempDir();
        var files = new List<string>();
        var mutants = new List<(string What, IReadOnlyList<string> Problems, JsonObject Tree)>();
        for (int k = 0; k < 400; k++)
        {
            var root = JsonNode.Parse(File.ReadAllText(sources[rng.Next(sources.Count)]))!.AsObject();
            var containers = new List<JsonNode>();
            Containers(root, containers);
            var target = containers[rng.Next(containers.Count)];
            string what = target.GetPath();
            switch (target)
            {
                case JsonObject o when o.Count > 0 && rng.Next(3) == 0:
                    string removed = o.ElementAt(rng.Next(o.Count)).Key;
                    o.Remove(removed);
                    what += $" without {removed}";
                    break;
                case JsonObject o when rng.Next(2) == 0 || o.Count == 0:
                    string key = keys[rng.Next(keys.Length)];
                    o[key] = values[rng.Next(values.Length)]();
                    what += $".{key} = {o[key]?.ToJsonString() ?? "null"}";
                    break;
                case JsonObject o:
                    string replaced = o.ElementAt(rng.Next(o.Count)).Key;
                    o[replaced] = values[rng.Next(values.Length)]();
                    what += $".{replaced} = {o[replaced]?.ToJsonString() ?? "null"}";
                    break;
                case JsonArray a when a.Count > 0:
                    int i = rng.Next(a.Count);
                    a[i] = values[rng.Next(values.Length)]();
                    what += $"[{i}] = {a[i]?.ToJsonString() ?? "null"}";
                    break;
            }

            string file = Path.Combine(dir, $"mutant{k}.ipynb");
            File.WriteAllText(file, root.ToJsonString());
            files.Add(file);
            var reparsed = NotebookJson.ParseNode(File.ReadAllText(file), file).AsObject();
            mutants.Add((what, NotebookValidator.ValidateSchema(reparsed), reparsed));
        }

        var verdicts = NbformatVerdicts(files);
        // Both verdicts must be common, or the comparison would prove little.
        Assert.That(verdicts.Count(v => v == "invalid"), Is.InRange(80, 320), "mutants nbformat rejects");
        for (int k = 0; k < mutants.Count; k++)
        {
            var (what, problems, tree) = mutants[k];
            bool onlyTooLarge = problems.Count > 0 && problems.All(p => p.Contains(" is too large (at most ", StringComparison.Ordinal));
            string ours = problems.Count > 0 && !onlyTooLarge ? "invalid" : "valid";
            Assert.That(ours, Is.EqualTo(verdicts[k]), $"mutant {k}: {what}: {string.Join("; ", problems)}");
            if (problems.Count == 0)
            {
                Assert.DoesNotThrow(() => NotebookJson.FromNode(tree), $"mutant {k}: {what}");
            }
        }
    }

    private static void Containers(JsonNode? node, List<JsonNode> found)
    {
        if (node is JsonObject o)
        {
            found.Add(o);
            foreach (var (_, child) in o)
            {
                Containers(child, found);
            }
        }
        else if (node is JsonArray a)
        {
            found.Add(a);
            foreach (var child in a)
            {
                Containers(child, found);
            }
        }
    }

    [Test]
    public void Debian_nbformat_accepts_the_lessons()
    {
        var lessons = Directory.GetFiles(NotebooksDir, "*.ipynb").Order(StringComparer.Ordinal).ToList();
        Assert.That(NbformatVerdicts(lessons), Is.All.EqualTo("valid"));
    }

    [Test]
    public void The_embedded_schema_is_the_official_file()
    {
        if (!File.Exists(OfficialSchema))
        {
            RequireOrSkip($"{OfficialSchema} is absent: install Debian's python3-nbformat to compare the embedded copy");
        }

        Assert.That(NbformatSchema.OfficialText(), Is.EqualTo(File.ReadAllText(OfficialSchema)));
    }

    [Test]
    public void Executed_copies_pass_the_official_schema()
    {
        var run = Outputs;
        string executed = Path.Combine(run.OutDir, "outputs.ipynb");
        Assert.That(NotebookValidator.ValidateSchema(JsonNode.Parse(File.ReadAllText(executed))), Is.Empty);
        Assert.That(NbformatVerdicts([executed]), Is.EqualTo(new[] { "valid" }));
    }

    [Test]
    public void Nesting_up_to_the_parse_limit_is_validated_without_error()
    {
        // The schema validator reads its own copy of the tree (Newtonsoft's); it must take every depth the parser
        // accepted (Newtonsoft alone stops at 64).
        // Root object and metadata are two levels; the arrays fill the rest up to the limit.
        int arrays = NotebookJson.MaxDepth - 2;
        string text = File.ReadAllText(Data("outputs.ipynb"));
        text = text.Insert(text.LastIndexOf("\"metadata\": {", StringComparison.Ordinal) + "\"metadata\": {".Length,
            "\"deep\": " + new string('[', arrays) + new string(']', arrays) + ",");
        var node = NotebookJson.ParseNode(text, "deep.ipynb");
        Assert.That(NotebookValidator.ValidateSchema(node), Is.Empty);
        var tooDeep = Assert.Throws<NotebookFormatException>(() => NotebookJson.ParseNode(text.Replace("[]", "[[]]", StringComparison.Ordinal), "deep.ipynb"))!;
        Assert.That(tooDeep.Message, Does.StartWith("deep.ipynb: invalid JSON"));
    }

    [Test]
    public void A_file_over_the_size_limit_is_refused_before_it_is_read()
    {
        string path = Path.Combine(NewTempDir(), "huge.ipynb");
        using (var file = File.Create(path))
        {
            file.SetLength(NotebookJson.MaxFileBytes + 1); // sparse: no disk is written
        }

        var e = Assert.Throws<NotebookFormatException>(() => NotebookJson.Load(path))!;
        Assert.That(e.Message, Is.EqualTo($"{path}: larger than 64 MiB, too large for a notebook"));
        Assert.That(Learn.Notebooks.NotebookCommand.Check(path), Is.EqualTo(new[] { "larger than 64 MiB, too large for a notebook" }));
    }

    [Test]
    public void Wrong_kernel_metadata_is_reported()
    {
        var nb = NotebookJson.FromNode(Sample());
        nb.Metadata["kernelspec"]!["name"] = "python3";
        nb.Cells[1].Metadata["polyglot_notebook"]!["kernelName"] = "fsharp";
        var problems = NotebookValidator.ValidatePolyglot(nb);
        Assert.That(problems, Has.Some.StartsWith("metadata.kernelspec.name: must be \".net-csharp\""));
        Assert.That(problems, Has.Some.StartsWith("cell 2: metadata.polyglot_notebook.kernelName must be \"csharp\""));
    }

    /// <summary>
    /// "valid" or "invalid" per file: Debian's nbformat validator over its v4.5 schema file, then nbformat.validate
    /// (its checks beside the schema, such as unique ids) without repairs.
    /// </summary>
    private static List<string> NbformatVerdicts(List<string> files)
    {
        const string script = """
            import json, sys, warnings
            warnings.simplefilter("ignore")
            import nbformat
            for path in sys.argv[1:]:
                with open(path, encoding="utf-8") as f:
                    nb = json.load(f)
                # The schema first: nbformat.validate's own normalising step crashes on some broken trees
                # (a cell that is a number), before its schema check would have rejected them.
                if any(True for _ in nbformat.validator.get_validator(version=4, version_minor=5).iter_errors(nb)):
                    print("invalid")
                    continue
                try:
                    nbformat.validate(nb, version=4, version_minor=5, repair_duplicate_cell_ids=False)
                    print("valid")
                except nbformat.ValidationError:
                    print("invalid")
            """;
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in (string[])["-c", script, .. files])
        {
            start.ArgumentList.Add(arg);
        }

        string stdout;
        string stderr;
        int exit;
        try
        {
            using var process = Process.Start(start)!;
            var err = process.StandardError.ReadToEndAsync();
            stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            stderr = err.Result;
            exit = process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            RequireOrSkip($"{Python} cannot start ({e.Message}): Debian's python3 with python3-nbformat cross-checks the validator");
            throw;
        }

        if (exit != 0 && stderr.Contains("No module named 'nbformat'", StringComparison.Ordinal))
        {
            RequireOrSkip("Debian's python3-nbformat is missing: it cross-checks the validator");
        }

        Assert.That(exit, Is.Zero, stderr);
        var verdicts = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.That(verdicts, Has.Count.EqualTo(files.Count), stderr);
        return verdicts;
    }
}
