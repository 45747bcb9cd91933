using System.Text.Json.Nodes;
using Learn.Notebooks.Format;
using NJsonSchema;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

public class NotebookValidatorTests
{
    /// <summary>The official schema as Debian's python3-nbformat installs it (jupyter/nbformat).</summary>
    private const string OfficialSchema = "/usr/lib/python3/dist-packages/nbformat/v4/nbformat.v4.5.schema.json";

    private static JsonObject Sample() => (JsonObject)JsonNode.Parse(File.ReadAllText(Data("outputs.ipynb")))!;

    private static JsonObject Cell(JsonObject nb, int i) => nb["cells"]![i]!.AsObject();

    /// <summary>Each mutation breaks one nbformat 4.5 rule; the message must name the place.</summary>
    private static IEnumerable<TestCaseData> Broken()
    {
        yield return Case("markdown cell without id", nb => Cell(nb, 0).Remove("id"), "cells[0]: missing required property \"id\"");
        yield return Case("duplicate id", nb => Cell(nb, 2)["id"] = (string?)Cell(nb, 1)["id"], "is used by an earlier cell");
        yield return Case("id with a space", nb => Cell(nb, 1)["id"] = "a b", "cells[1].id: must be 1-64 characters");
        yield return Case("id too long", nb => Cell(nb, 1)["id"] = new string('a', 65), "cells[1].id: must be 1-64 characters");
        yield return Case("minor 4", nb => nb["nbformat_minor"] = 4, "nbformat_minor: must be an integer >= 5");
        yield return Case("major 3", nb => nb["nbformat"] = 3, "nbformat: must be the integer 4");
        yield return Case("unknown top-level key", nb => nb["extra"] = 1, "notebook: unexpected property \"extra\"");
        yield return Case("code cell without outputs", nb => Cell(nb, 1).Remove("outputs"), "cells[1]: missing required property \"outputs\"");
        yield return Case("negative execution count", nb => Cell(nb, 1)["execution_count"] = -1, "cells[1].execution_count");
        yield return Case("outputs on a markdown cell", nb => Cell(nb, 0)["outputs"] = new JsonArray(), "cells[0]: unexpected property \"outputs\"");
        yield return Case("unknown cell type", nb => Cell(nb, 0)["cell_type"] = "heading", "cells[0].cell_type");
        yield return Case("source a number", nb => Cell(nb, 0)["source"] = 5, "cells[0].source");
        yield return Case("kernelspec without display_name", nb => nb["metadata"]!["kernelspec"]!.AsObject().Remove("display_name"), "metadata.kernelspec: missing required property \"display_name\"");
        yield return Case("stream without text", nb => Cell(nb, 1)["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout" }), "cells[1].outputs[0]: missing required property \"text\"");
        yield return Case("display data without metadata", nb => Cell(nb, 1)["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "display_data", ["data"] = new JsonObject() }), "missing required property \"metadata\"");
        yield return Case("JSON under text/plain", nb => Cell(nb, 1)["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "display_data", ["metadata"] = new JsonObject(), ["data"] = new JsonObject { ["text/plain"] = new JsonObject() } }), "[\"text/plain\"]");
        yield return Case("error traceback a string", nb => Cell(nb, 1)["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "error", ["ename"] = "E", ["evalue"] = "v", ["traceback"] = "t" }), "traceback: must be an array of strings");
        yield return Case("unknown output type", nb => Cell(nb, 1)["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "pager" }), "output_type: must be");
        yield return Case("tags with a comma", nb => Cell(nb, 1)["metadata"]!["tags"] = new JsonArray("a,b"), "tags");
    }

    private static TestCaseData Case(string name, Action<JsonObject> breakIt, string expected) =>
        new TestCaseData(breakIt, expected).SetName($"Schema violation is reported: {name}");

    [Test]
    public void The_sample_notebooks_are_valid()
    {
        Assert.That(NotebookValidator.ValidateSchema(Sample()), Is.Empty);
        foreach (string file in Directory.GetFiles(NotebooksDir, "*.ipynb"))
        {
            Assert.That(NotebookValidator.ValidateSchema(JsonNode.Parse(File.ReadAllText(file))), Is.Empty, file);
        }
    }

    [TestCaseSource(nameof(Broken))]
    public void Schema_violations_are_reported(Action<JsonObject> breakIt, string expected)
    {
        var nb = Sample();
        breakIt(nb);
        var problems = NotebookValidator.ValidateSchema(nb);
        Assert.That(problems, Has.Some.Contains(expected));
    }

    [TestCaseSource(nameof(Broken))]
    public void The_official_schema_agrees(Action<JsonObject> breakIt, string expected)
    {
        var schema = LoadOfficialSchema();
        var nb = Sample();
        Assert.That(schema.Validate(nb.ToJsonString()), Is.Empty, "the unbroken notebook must pass the official schema");
        breakIt(nb);
        bool uniqueIdRule = expected.Contains("earlier cell", StringComparison.Ordinal);
        // Unique ids are the one rule the schema cannot express (nbformat checks it in code).
        Assert.That(schema.Validate(nb.ToJsonString()), uniqueIdRule ? Is.Empty : Is.Not.Empty);
    }

    [Test]
    public void Executed_copies_pass_the_official_schema()
    {
        var schema = LoadOfficialSchema();
        var run = Outputs;
        string executed = File.ReadAllText(Path.Combine(run.OutDir, "outputs.ipynb"));
        Assert.That(schema.Validate(executed), Is.Empty);
        Assert.That(NotebookValidator.ValidateSchema(JsonNode.Parse(executed)), Is.Empty);
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

    private static JsonSchema LoadOfficialSchema()
    {
        if (!File.Exists(OfficialSchema))
        {
            NotebookTestSupport.RequireOrSkip($"{OfficialSchema} is absent: install Debian's python3-nbformat to cross-check against the official schema");
        }

        // NJsonSchema cannot resolve references into "#/definitions/misc/..." (a container, not a
        // schema), so those definitions are lifted one level up; the rules themselves are unchanged.
        var schema = JsonNode.Parse(File.ReadAllText(OfficialSchema))!.AsObject();
        var definitions = schema["definitions"]!.AsObject();
        var misc = definitions["misc"]!.AsObject();
        definitions.Remove("misc");
        foreach (var (name, definition) in misc.ToList())
        {
            misc.Remove(name);
            definitions["misc_" + name] = definition;
        }

        string text = schema.ToJsonString().Replace("#/definitions/misc/", "#/definitions/misc_", StringComparison.Ordinal);
        return JsonSchema.FromJsonAsync(text).GetAwaiter().GetResult();
    }
}
