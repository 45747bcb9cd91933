using System.Text.Json.Nodes;
using Learn.Notebooks.Format;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

public class NotebookFormatTests
{
    private static IEnumerable<string> ValidFiles() =>
        Directory.GetFiles(Path.Combine(RepoRoot, "notebooks"), "*.ipynb")
            .Concat(Directory.GetFiles(Path.GetDirectoryName(Data("outputs.ipynb"))!, "*.ipynb").Where(f => !f.EndsWith("invalid-json.ipynb", StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(ValidFiles))]
    public void Reading_and_writing_gives_back_the_same_bytes(string path)
    {
        string text = File.ReadAllText(path);
        string written = NotebookJson.Serialize(NotebookJson.Load(path));
        Assert.That(written, Is.EqualTo(text));
    }

    [Test]
    public void The_writer_sorts_keys_indents_by_one_space_and_ends_with_a_newline()
    {
        var node = new JsonObject { ["b"] = new JsonArray(1, "x\n\"<>"), ["a"] = new JsonObject(), ["c"] = new JsonArray() };
        Assert.That(PolyglotJson.Serialize(node), Is.EqualTo("{\n \"a\": {},\n \"b\": [\n  1,\n  \"x\\n\\\"<>\"\n ],\n \"c\": []\n}\n"));
    }

    [TestCase("", new string[0])]
    [TestCase("a", new[] { "a" })]
    [TestCase("a\n", new[] { "a\n" })]
    [TestCase("a\nb", new[] { "a\n", "b" })]
    [TestCase("a\n\nb\n", new[] { "a\n", "\n", "b\n" })]
    public void Multiline_strings_split_like_VS_Code(string text, string[] lines)
    {
        var split = PolyglotJson.SplitLines(text);
        Assert.That(split.Select(n => (string?)n), Is.EqualTo(lines));
        Assert.That(PolyglotJson.JoinLines(split), Is.EqualTo(text));
    }

    [Test]
    public void New_metadata_is_what_Polyglot_writes_for_CSharp()
    {
        var notebook = new Notebook { Metadata = PolyglotMetadata.NotebookMetadata() };
        notebook.Cells.Add(new NotebookCell { Id = "a1b2c3d4", CellType = "code", Metadata = PolyglotMetadata.CodeCellMetadata(), Source = "1" });
        Assert.That(NotebookValidator.ValidatePolyglot(notebook), Is.Empty);
        Assert.That(NotebookValidator.ValidateSchema(NotebookJson.ToNode(notebook)), Is.Empty);
        string json = NotebookJson.Serialize(notebook);
        Assert.That(json, Does.Contain("\"name\": \".net-csharp\""));
        Assert.That(json, Does.Contain("\"kernelName\": \"csharp\""));
    }

    [Test]
    public void Invalid_json_is_a_one_line_error_naming_the_file()
    {
        string path = Data("invalid-json.ipynb");
        var e = Assert.Throws<NotebookFormatException>(() => NotebookJson.Load(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": invalid JSON at line "));
        Assert.That(e.Message, Does.Not.Contain("\n"));
    }

    [Test]
    public void Saving_is_atomic_and_leaves_no_temporary_file()
    {
        string dir = NewTempDir();
        string path = Path.Combine(dir, "n.ipynb");
        NotebookJson.Save(NotebookJson.Load(Data("outputs.ipynb")), path);
        Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EqualTo(new[] { "n.ipynb" }));
        Assert.That(File.ReadAllText(path), Is.EqualTo(File.ReadAllText(Data("outputs.ipynb"))));
    }
}
