using System.Net;
using System.Text.RegularExpressions;
using Learn.Notebooks.Format;
using Learn.Notebooks.Rendering;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

public partial class CSharpHighlighterTests
{
    [GeneratedRegex("<span class=\"[a-z-]+\">|</span>")]
    private static partial Regex Tags();

    private static string Text(string html) => WebUtility.HtmlDecode(Tags().Replace(html, ""));

    [TestCase("int x = 1;", "<span class=\"tok-kw\">int</span> x = <span class=\"tok-num\">1</span>;")]
    [TestCase("var s = \"a\\n\"; // note", "<span class=\"tok-kw\">var</span> s = <span class=\"tok-str\">&quot;a</span><span class=\"tok-esc\">\\n</span><span class=\"tok-str\">&quot;</span>; <span class=\"tok-com\">// note</span>")]
    [TestCase("#r \"nuget: Newtonsoft.Json, 13.0.4\"", "<span class=\"tok-dir\">#r</span> <span class=\"tok-str\">&quot;nuget: Newtonsoft.Json, 13.0.4&quot;</span>")]
    [TestCase("Console.WriteLine(Math.Max(1, 2));", "<span class=\"tok-type\">Console</span>.<span class=\"tok-fn\">WriteLine</span>(<span class=\"tok-type\">Math</span>.<span class=\"tok-fn\">Max</span>(<span class=\"tok-num\">1</span>, <span class=\"tok-num\">2</span>));")]
    [TestCase("if (a < b && c > d) return;", "<span class=\"tok-kw\">if</span> (a &lt; b &amp;&amp; c &gt; d) <span class=\"tok-kw\">return</span>;")]
    public void Roslyn_classifies_the_tokens(string code, string expected)
    {
        Assert.That(CSharpHighlighter.Highlight(code), Is.EqualTo(expected));
    }

    [Test]
    public void Names_from_earlier_cells_are_known_in_later_ones()
    {
        // Learn.Tensors.Tensor is a type only once an earlier cell has its using, as in the kernel.
        var alone = CSharpHighlighter.HighlightCells(["var t = Tensor.Zeros(1);"]);
        var chained = CSharpHighlighter.HighlightCells(["using Learn.Tensors;\nint Twice(int v) => 2 * v;", "var t = Tensor.Zeros(1);\nTwice(3);"]);
        Assert.That(alone[0], Does.Not.Contain("<span class=\"tok-type\">Tensor</span>"));
        Assert.That(chained[1], Does.Contain("<span class=\"tok-type\">Tensor</span>.<span class=\"tok-fn\">Zeros</span>"));
        Assert.That(chained[1], Does.Contain("<span class=\"tok-fn\">Twice</span>(<span class=\"tok-num\">3</span>)"));
    }

    private static List<string> CodeCells(string file) =>
        NotebookJson.Load(file).Cells.Where(c => c.IsCode).Select(c => c.Source).ToList();

    [Test]
    public void A_lesson_highlights_the_same_twice()
    {
        var cells = CodeCells(Path.Combine(NotebooksDir, "01-convolution-from-scratch.ipynb"));
        Assert.That(CSharpHighlighter.HighlightCells(cells, NotebooksDir), Is.EqualTo(CSharpHighlighter.HighlightCells(cells, NotebooksDir)));
    }

    [Test]
    public void Every_lesson_cell_keeps_its_exact_text()
    {
        foreach (string file in Directory.GetFiles(NotebooksDir, "*.ipynb").Order(StringComparer.Ordinal))
        {
            var cells = CodeCells(file);
            var first = CSharpHighlighter.HighlightCells(cells, NotebooksDir);
            for (int i = 0; i < cells.Count; i++)
            {
                Assert.That(Text(first[i]), Is.EqualTo(cells[i]), $"{file}, code cell {i + 1}");
                Assert.That(first[i], Does.Not.Contain("<script").And.Not.Contain("<span class=\"\""), file);
            }

            Assert.That(string.Concat(first), Does.Contain("tok-kw"), file);
        }
    }

    [Test]
    public void Markup_in_code_is_escaped()
    {
        string html = CSharpHighlighter.Highlight("var s = \"</code><script>alert(1)</script>\"; // <b>");
        Assert.That(html, Does.Not.Contain("<script>").And.Not.Contain("<b>"));
        Assert.That(Text(html), Is.EqualTo("var s = \"</code><script>alert(1)</script>\"; // <b>"));
    }
}
