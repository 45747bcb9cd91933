using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Plotly.NET;

namespace Learn.Interactive;

/// <summary>
/// How a Plotly.NET chart looks in a notebook: the figure JSON under <see cref="PlotlyMime"/> (VS Code and
/// JupyterLab draw it natively) and an HTML fragment that draws it with plotly.js without any network: a
/// <c>div</c> with a stable id plus a script calling <c>Plotly.newPlot</c>. Plotly.NET's own HTML puts a random
/// GUID in every fragment and loads plotly.js from a CDN; neither suits lessons that must rerun identically offline.
/// </summary>
public static class ChartView
{
    /// <summary>The mime type JupyterLab and VS Code's renderers draw Plotly figures from.</summary>
    public const string PlotlyMime = "application/vnd.plotly.v1+json";

    /// <summary>The figure (<c>data</c>, <c>layout</c>, <c>config</c>) as JSON.</summary>
    public static string FigureJson(GenericChart chart) => GenericChart.toJson(chart);

    /// <summary>
    /// The HTML fragment for a chart drawn into <c>div#</c><paramref name="id"/>. It draws at once if plotly.js is
    /// loaded, and otherwise queues itself on <c>window.learnPlotlyQueue</c>, which <see cref="PlotlyScript"/> drains.
    /// </summary>
    public static string Html(GenericChart chart, string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        string figure = ScriptSafe(FigureJson(chart));
        string idJson = JsonSerializer.Serialize(id);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"<div id=\"{System.Net.WebUtility.HtmlEncode(id)}\" class=\"learn-chart\"></div>\n");
        sb.Append("<script type=\"text/javascript\">\n(function () {\n");
        sb.Append(CultureInfo.InvariantCulture, $"  var figure = {figure};\n");
        sb.Append(CultureInfo.InvariantCulture, $"  var draw = function () {{ window.Plotly.newPlot({idJson}, figure.data, figure.layout, figure.config); }};\n");
        sb.Append("  if (window.Plotly) { draw(); } else { (window.learnPlotlyQueue = window.learnPlotlyQueue || []).push(draw); }\n");
        sb.Append("})();\n</script>");
        return sb.ToString();
    }

    /// <summary>The plotly.js version Plotly.NET embeds.</summary>
    public static string PlotlyJsVersion => Globals.PLOTLYJS_VERSION;

    /// <summary>plotly.js as Plotly.NET embeds it (so charts draw offline).</summary>
    /// <exception cref="InvalidOperationException">Plotly.NET no longer embeds it under the expected name.</exception>
    public static byte[] PlotlyJs()
    {
        // The resource name is not an API, so a missing one fails loudly.
        string resource = $"Plotly.NET.plotly-{Globals.PLOTLYJS_VERSION}.min.js";
        using var js = typeof(GenericChart).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Plotly.NET no longer embeds {resource}: update ChartView");
        using var buffer = new MemoryStream();
        js.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>
    /// A script element defining <c>window.Plotly</c> from the embedded plotly.js and drawing the queued charts.
    /// plotly.js is a UMD bundle: where require.js is present (Jupyter's classic page) it would register as an AMD
    /// module instead of a global, so it runs with <c>define</c>, <c>module</c> and <c>exports</c> hidden.
    /// </summary>
    public static string PlotlyScript()
    {
        string js = ScriptSafe(System.Text.Encoding.UTF8.GetString(PlotlyJs()));
        return "<script type=\"text/javascript\">\n"
            + $"/* plotly.js {Globals.PLOTLYJS_VERSION}, inlined once per kernel session so that charts draw without a network. */\n"
            + "(function (define, module, exports) {\n" + js + "\n}).call(window);\n"
            + "(window.learnPlotlyQueue || []).splice(0).forEach(function (draw) { draw(); });\n</script>\n";
    }

    // "</script" inside a script element would end it early; "<\/" means the same in JavaScript strings and JSON.
    private static string ScriptSafe(string text) => text.Replace("</", "<\\/", StringComparison.Ordinal);

    /// <summary>The figure JSON as a node, for writers that store JSON mime types as objects.</summary>
    public static JsonNode FigureNode(GenericChart chart) => JsonNode.Parse(FigureJson(chart))!;
}
