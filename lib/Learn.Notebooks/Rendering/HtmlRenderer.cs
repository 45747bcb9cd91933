using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Learn.Notebooks.Format;
using Learn.Notebooks.Kernel;

namespace Learn.Notebooks.Rendering;

/// <summary>
/// Renders an executed notebook to one static page (markdown through Markdig, highlighted code,
/// outputs) and the lessons to an index page. Pages reference <c>assets/</c> (see
/// <see cref="SiteAssets"/>), so they work from disk with the network off.
/// </summary>
public static class HtmlRenderer
{
    /// <summary>One line of the index: the page, its title, and whether the notebook ran cleanly.</summary>
    /// <param name="Page">The page file name, relative to the index.</param>
    /// <param name="Title">The lesson title.</param>
    /// <param name="Ok">True if the notebook ran without error.</param>
    /// <param name="Problem">The failure summary, or null.</param>
    public sealed record IndexEntry(string Page, string Title, bool Ok, string? Problem);

    /// <summary>The title: the first markdown heading's text (code backticks dropped, as it is shown as plain text), else the file name.</summary>
    public static string Title(Notebook notebook, string fileName)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        foreach (var cell in notebook.Cells.Where(c => c.CellType == "markdown"))
        {
            foreach (string line in cell.Source.Split('\n'))
            {
                if (line.StartsWith('#'))
                {
                    return line.TrimStart('#').Trim().Replace("`", "", StringComparison.Ordinal);
                }
            }
        }

        return Path.GetFileNameWithoutExtension(fileName);
    }

    /// <summary>The HTML page of an executed notebook.</summary>
    /// <param name="notebook">The executed notebook (outputs present; a failing cell tagged).</param>
    /// <param name="fileName">The notebook file name, shown on the page.</param>
    /// <param name="failure">The failure summary to show in a banner, or null.</param>
    /// <param name="failedCell">The 1-based failing cell, or 0.</param>
    /// <param name="notebookDirectory">The notebook's folder, for the highlighter to read the cells' <c>#r</c> assemblies; null for none.</param>
    public static string RenderPage(Notebook notebook, string fileName, string? failure, int failedCell, string? notebookDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var body = new StringBuilder();
        bool charts = false;
        if (failure is not null)
        {
            body.Append("<div class=\"banner\" id=\"learn-error\"><strong>This notebook stopped with an error")
                .Append(failedCell > 0 ? $" at <a href=\"#cell-{failedCell}\">cell {failedCell}</a>" : "")
                .Append(":</strong> ").Append(Esc(failure)).Append("</div>\n");
        }

        // Classified together, in order, so names from earlier cells are known in later ones.
        var code = notebook.Cells.Where(c => c.IsCode).ToList();
        var highlighted = CSharpHighlighter.HighlightCells(code.Select(c => c.Source).ToList(), notebookDirectory);
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            int n = i + 1;
            if (cell.CellType == "markdown")
            {
                body.Append($"<section class=\"cell markdown\" id=\"cell-{n}\">\n")
                    .Append(Markdig.Markdown.ToHtml(cell.Source, MarkdownPipeline.Instance))
                    .Append("</section>\n");
                continue;
            }

            if (!cell.IsCode)
            {
                body.Append($"<section class=\"cell raw\" id=\"cell-{n}\"><pre>").Append(Esc(cell.Source)).Append("</pre></section>\n");
                continue;
            }

            string failed = n == failedCell ? " failed" : "";
            string count = cell.ExecutionCount is int c ? c.ToString(System.Globalization.CultureInfo.InvariantCulture) : " ";
            body.Append($"<section class=\"cell code{failed}\" id=\"cell-{n}\">\n")
                .Append($"<div class=\"prompt\">cell {n} [{count}]</div>\n")
                .Append("<pre class=\"source\"><code class=\"language-csharp\">").Append(highlighted[code.IndexOf(cell)]).Append("</code></pre>\n");
            foreach (var output in cell.Outputs)
            {
                charts |= Output(body, output);
            }

            body.Append("</section>\n");
        }

        string title = Title(notebook, fileName);
        string html = body.ToString();
        bool math = html.Contains("class=\"math\"", StringComparison.Ordinal);
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(Esc(title)).Append("</title>\n")
            .Append("<link rel=\"stylesheet\" href=\"assets/learn.css\">\n");
        if (math)
        {
            page.Append("<link rel=\"stylesheet\" href=\"assets/katex/katex.min.css\">\n")
                .Append("<script defer src=\"assets/katex/katex.min.js\"></script>\n")
                .Append("<script defer src=\"assets/katex/contrib/auto-render.min.js\"></script>\n")
                .Append("<script>document.addEventListener(\"DOMContentLoaded\", function () { renderMathInElement(document.body, { delimiters: [")
                .Append("{ left: \"\\\\[\", right: \"\\\\]\", display: true }, { left: \"\\\\(\", right: \"\\\\)\", display: false }] }); });</script>\n");
        }

        if (charts)
        {
            // Loaded once per page, before the chart fragments that call Plotly.newPlot.
            page.Append("<script src=\"assets/").Append(SiteAssets.PlotlyFile).Append("\"></script>\n");
        }

        page.Append("</head>\n<body>\n<main>\n<nav><a href=\"index.html\">All lessons</a> &middot; ")
            .Append(Esc(fileName)).Append("</nav>\n")
            .Append(html)
            .Append("</main>\n</body>\n</html>\n");
        return page.ToString();
    }

    /// <summary>The index page listing the lessons in order.</summary>
    public static string RenderIndex(IReadOnlyList<IndexEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>Lessons</title>\n<link rel=\"stylesheet\" href=\"assets/learn.css\">\n</head>\n<body>\n<main>\n")
            .Append("<h1>Lessons</h1>\n<p>Executed by <code>learn notebooks run</code>; each page shows the notebook with its outputs.</p>\n")
            .Append("<table class=\"index\">\n");
        foreach (var e in entries)
        {
            sb.Append("<tr><td><a href=\"").Append(Esc(e.Page)).Append("\">").Append(Esc(e.Title)).Append("</a></td><td>")
                .Append(e.Ok ? "<span class=\"ok\">ran cleanly</span>" : "<span class=\"failed-text\">failed: " + Esc(e.Problem ?? "") + "</span>")
                .Append("</td></tr>\n");
        }

        sb.Append("</table>\n</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    // Returns true if the output is a Plotly chart (the page then loads plotly.js).
    private static bool Output(StringBuilder sb, JsonObject output)
    {
        switch ((string?)output["output_type"])
        {
            case "stream":
                string name = (string?)output["name"] ?? "stdout";
                sb.Append($"<pre class=\"stream {Esc(name)}\">").Append(Esc(PolyglotJson.JoinLines(output["text"]))).Append("</pre>\n");
                return false;
            case "error":
                sb.Append("<pre class=\"error\">").Append(Esc(string.Concat(output["traceback"]!.AsArray().Select(t => (string?)t)))).Append("</pre>\n");
                return false;
            case "display_data" or "execute_result":
                var data = output["data"]!.AsObject();
                sb.Append("<div class=\"output\">");
                if (data["text/html"] is JsonNode html)
                {
                    sb.Append(PolyglotJson.JoinLines(html));
                }
                else if (data["image/svg+xml"] is JsonNode svg)
                {
                    sb.Append(PolyglotJson.JoinLines(svg));
                }
                else if (data["image/png"] is JsonNode png)
                {
                    sb.Append("<img alt=\"output\" src=\"data:image/png;base64,").Append(Esc(PolyglotJson.JoinLines(png).Trim())).Append("\">");
                }
                else if (data["text/plain"] is JsonNode text)
                {
                    sb.Append("<pre class=\"stream\">").Append(Esc(PolyglotJson.JoinLines(text))).Append("</pre>");
                }
                else
                {
                    sb.Append("<pre class=\"stream\">").Append(Esc(data.ToJsonString(new JsonSerializerOptions { WriteIndented = true }))).Append("</pre>");
                }

                sb.Append("</div>\n");
                return data.ContainsKey(Formatter.PlotlyMime);
            default:
                return false;
        }
    }

    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
