using System.Reflection;
using Learn.Notebooks.Execution;
using Learn.Notebooks.Kernel;
using Learn.Tensors;

namespace Learn.Tests.Notebooks;

public class CellPreprocessorTests
{
    [Test]
    public void Directives_are_blanked_so_line_numbers_still_match()
    {
        var cell = CellPreprocessor.Prepare("#!csharp\n#r \"nuget: Plotly.NET, 6.0.0\"\n#r \"../lib/Learn.dll\"\nint x = 1;");
        Assert.That(cell.Error, Is.Null);
        Assert.That(cell.Code, Is.EqualTo("\n\n\nint x = 1;"));
        Assert.That(cell.Packages.Select(p => p.Name), Is.EqualTo(new[] { "Plotly.NET" }));
        Assert.That(cell.LearnReferences, Is.EqualTo(new[] { ("../lib/Learn.dll", 3) }));
    }

    [TestCase("#r \"nuget: plotly.net\"", "Plotly.NET")]
    [TestCase("#r \"nuget:Plotly.NET.CSharp,0.14.0\"", "Plotly.NET.CSharp")]
    [TestCase("#r \"nuget: MathNet.Numerics, *\"", "MathNet.Numerics")]
    public void Shipped_packages_are_accepted_without_a_version_or_with_theirs(string line, string name)
    {
        var cell = CellPreprocessor.Prepare(line);
        Assert.That(cell.Error, Is.Null);
        Assert.That(cell.Packages.Single().Name, Is.EqualTo(name));
    }

    [TestCase("#r \"nuget: Plotly.NET, 5.1.0\"", 1, "ships Plotly.NET 6.0.0 only")]
    [TestCase("1;\n#r \"nuget: TorchSharp, 0.107.0\"", 2, "does not ship TorchSharp")]
    [TestCase("#!fsharp\nlet x = 1", 1, "#!fsharp is not supported")]
    [TestCase("int a = 1;\n#!time", 2, "#!time is not supported")]
    [TestCase("int a = 1;\n#!markdown", 2, "#!markdown is accepted only as the first line")]
    [TestCase("#i \"nuget: https://example.invalid/feed\"", 1, "#i (package sources) is not supported")]
    public void Anything_outside_the_subset_is_refused_with_its_line(string source, int line, string expected)
    {
        var cell = CellPreprocessor.Prepare(source);
        Assert.That(cell.Error, Does.Contain(expected));
        Assert.That(cell.ErrorLine, Is.EqualTo(line));
    }

    [Test]
    public void A_first_line_markdown_magic_makes_a_markdown_cell()
    {
        var cell = CellPreprocessor.Prepare("#!markdown\n# Title");
        Assert.That(cell.Markdown, Is.EqualTo("# Title"));
    }

    [Test]
    public void The_shipped_versions_are_the_referenced_ones()
    {
        foreach (var package in ShippedPackages.All.Values)
        {
            string? version = package.Assemblies[0].GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
            Assert.That(version?.Split('+')[0], Is.EqualTo(package.Version), package.Name);
        }
    }

    [Test]
    public void Tensors_format_as_nested_text_and_a_table()
    {
        var t = new Tensor([2, 2], [1f, -0.5f, 0.25f, 2f]);
        Assert.That(Formatter.TensorText(t), Is.EqualTo("Tensor[2, 2]\n[[1, -0.5],\n [0.25, 2]]"));
        string html = Formatter.TensorHtml(t);
        Assert.That(html, Does.Contain("<table").And.Contain(">-0.5</td>").And.Contain("Tensor[2, 2]"));
        var big = Tensor.Zeros(1, 64, 8, 8);
        Assert.That(Formatter.TensorText(big), Is.EqualTo("Tensor[1, 64, 8, 8] (4096 values; min 0, max 0, mean 0)"));
        Assert.That(Formatter.TensorHtml(big), Does.Contain("56 more slices"));
    }

    [Test]
    public void Plain_values_are_invariant_text()
    {
        Assert.That(Formatter.PlainText(1.5), Is.EqualTo("1.5"));
        Assert.That(Formatter.PlainText(new[] { 1, 2, 3 }), Is.EqualTo("[1, 2, 3]"));
        Assert.That(Formatter.PlainText(null), Is.EqualTo("<null>"));
        Assert.That(() => Formatter.Format(42, "image/png"), Throws.TypeOf<NotSupportedException>().With.Message.Contains("text/plain"));
    }
}
