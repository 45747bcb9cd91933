using System.Net;
using System.Text;
using System.Text.Json;
using Learn.Verification;
using Plotly.NET;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn diff --html FILE</c>: one self-contained page (plotly.js inlined from the copy Plotly.NET embeds, so it
/// draws offline) with the per-layer error/tolerance chart of both checks on a log scale, the line at 1 where a
/// layer fails, the first divergence marked, and the table with the first diverging rows highlighted.
/// </summary>
internal static class DiffReportHtml
{
    /// <summary>One report on the page: a heading, and the report or why there is none.</summary>
    internal sealed record Section(string Heading, PortReport? Report, string? Failure);

    /// <summary><c>learn diff --html</c>: one report.</summary>
    public static void Write(string path, string port, string reference, PortReport report) =>
        Write(path, "learn diff", [$"port: {port}", $"reference: {reference}"], [new Section("", report, null)]);

    /// <summary>
    /// The page: <paramref name="title"/>, the <paramref name="header"/> lines, then per section its verdicts, chart
    /// and table (<c>learn diff-onnx</c> writes one section per batch).
    /// </summary>
    public static void Write(string path, string title, IReadOnlyList<string> header, IReadOnlyList<Section> sections)
    {
        var page = new StringBuilder();
        page.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
            .Append("body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}")
            .Append("td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right;font-family:monospace}")
            .Append("tr.bad{background:#fde2e1}tr.first{background:#f9b9b5;font-weight:bold}</style>\n<script>")
            .Append(PlotlyJs().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase))
            .Append("</script></head><body>\n");
        page.Append("<h1>").Append(E(title)).Append("</h1>\n<p>").Append(string.Join("<br>", header.Select(E))).Append("</p>\n");
        for (int s = 0; s < sections.Count; s++)
        {
            Section section = sections[s];
            if (section.Heading.Length > 0)
            {
                page.Append("<h2>").Append(E(section.Heading)).Append("</h2>\n");
            }

            if (section.Report is PortReport report)
            {
                AppendReport(page, report, "chart" + (s == 0 ? "" : (s + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            else
            {
                page.Append("<p class=\"failure\"><b>Fails:</b> ").Append(E(section.Failure ?? "")).Append("</p>\n");
            }
        }

        page.Append("</body></html>\n");
        Learn.IO.AtomicFile.WriteAllBytes(path, Encoding.UTF8.GetBytes(page.ToString()));
    }

    private static void AppendReport(StringBuilder page, PortReport report, string chart)
    {
        var keys = report.Layers.Select(l => l.Key).ToList();
        string Series(Func<PortLayer, LayerVerdict?> pick) => JsonSerializer.Serialize(report.Layers.Select(l =>
            pick(l) is LayerVerdict v ? (double?)Math.Max(1e-3, double.IsFinite(v.WorstRatio) ? v.WorstRatio : 1e6) : null).ToList());

        string? firstP = report.FirstPropagated?.Key, firstI = report.FirstIsolated?.Key;
        page.Append("<p><b>With error propagation:</b> ")
            .Append(firstP is null ? "every compared layer is within tolerance." : $"first divergence at <code>{E(firstP)}</code>: {E(DiffCommand.Detail(report.FirstPropagated!.Propagated!))}.")
            .Append("<br><b>Without error propagation</b> (each layer from the port's own inputs): ")
            .Append(!report.Isolated ? "not checked (no weights given)." : firstI is null ? "every layer checked is within tolerance." : $"the error is introduced at <code>{E(firstI)}</code>: {E(DiffCommand.Detail(report.FirstIsolated!.Isolated!))}.")
            .Append("</p>\n");
        if (report.Missing.Count > 0)
        {
            page.Append("<p>Not in the port's dump, not compared: ").Append(report.Missing.Count).Append(" layers.</p>\n");
        }

        // Each chart's script is a block of its own, so the names it declares do not meet another chart's.
        page.Append("<div id=\"").Append(chart).Append("\" style=\"height:460px\"></div>\n<script>\n{\n")
            .Append("const keys=").Append(JsonSerializer.Serialize(keys)).Append(";\n")
            .Append("const traces=[{x:keys,y:").Append(Series(l => l.Propagated)).Append(",name:'with error propagation',mode:'lines+markers',type:'scatter'},")
            .Append("{x:keys,y:").Append(Series(l => l.Isolated)).Append(",name:'without (isolated)',mode:'lines+markers',type:'scatter'}];\n")
            .Append("const first=").Append(JsonSerializer.Serialize(firstI ?? firstP)).Append(";\n")
            .Append("const shapes=[{type:'line',xref:'paper',x0:0,x1:1,y0:1,y1:1,line:{color:'red',dash:'dash'}}];\n")
            .Append("if(first!==null){shapes.push({type:'line',x0:first,x1:first,yref:'paper',y0:0,y1:1,line:{color:'#c00',width:2}});}\n")
            .Append("Plotly.newPlot('").Append(chart).Append("',traces,{title:'worst error / tolerance per layer (above 1: the layer fails)',")
            .Append("yaxis:{type:'log',title:'error / tolerance'},xaxis:{tickangle:-60,automargin:true},shapes:shapes,")
            .Append("annotations:first===null?[]:[{x:first,yref:'paper',y:1,text:'first divergence: '+first,showarrow:false,yanchor:'bottom'}]},{responsive:true});\n")
            .Append("}\n</script>\n<table><tr><th>layer</th><th>shape</th><th>max abs err</th><th>err/tol</th><th>isolated err/tol</th><th>isolated how</th></tr>\n");
        foreach (PortLayer l in report.Layers)
        {
            bool bad = l.Propagated is { Close: false } || l.Isolated is { Close: false };
            string css = l.Key == (firstI ?? firstP) ? " class=\"first\"" : bad ? " class=\"bad\"" : "";
            page.Append("<tr").Append(css).Append("><td>").Append(E(l.Key)).Append("</td><td>").Append(E(DiffCommand.Shape(l.Shape)))
                .Append("</td><td class=\"n\">").Append(l.Propagated is null ? "-" : DiffCommand.Number(l.Propagated.MaxAbsError))
                .Append("</td><td class=\"n\">").Append(l.Propagated is null ? "-" : DiffCommand.Ratio(l.Propagated.WorstRatio))
                .Append("</td><td class=\"n\">").Append(l.Isolated is null ? "-" : DiffCommand.Ratio(l.Isolated.WorstRatio))
                .Append("</td><td>").Append(E(l.IsolatedHow)).Append("</td></tr>\n");
        }

        page.Append("</table>\n");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    // Plotly.NET embeds plotly.js as a resource (the same copy the notebook pages use); the name is not an API.
    private static string PlotlyJs()
    {
        string resource = $"Plotly.NET.plotly-{Globals.PLOTLYJS_VERSION}.min.js";
        using Stream stream = typeof(GenericChart).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Plotly.NET no longer embeds {resource}: update DiffReportHtml");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
