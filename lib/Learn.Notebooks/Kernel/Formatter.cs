using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learn.Notebooks.Format;
using Learn.Tensors;
using Plotly.NET;

namespace Learn.Notebooks.Kernel;

/// <summary>
/// Turns a value into a mime bundle. Deliberately small and deterministic: strings and plain values
/// as <c>text/plain</c>; Learn tensors as text plus a compact HTML table; Plotly.NET charts as an HTML
/// fragment (no plotly.js inside: the page loads it once) plus the chart JSON under
/// <c>application/vnd.plotly.v1+json</c>.
/// </summary>
public static partial class Formatter
{
    /// <summary>The mime type JupyterLab and VS Code's renderers draw Plotly figures from.</summary>
    public const string PlotlyMime = "application/vnd.plotly.v1+json";

    /// <summary>Tensors with more values than this are summarised, not printed in full.</summary>
    public const int MaxTensorValues = Learn.Interactive.TensorView.MaxTextValues;

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex GuidPattern();

    /// <summary>The mime bundle for <paramref name="value"/>, restricted to <paramref name="mimeTypes"/> if any are named.</summary>
    /// <exception cref="NotSupportedException">None of the requested mime types can be produced.</exception>
    public static JsonObject Format(object? value, params string[] mimeTypes)
    {
        ArgumentNullException.ThrowIfNull(mimeTypes);
        var all = value switch
        {
            null => Text("<null>"),
            string s => Text(s),
            HtmlString h => new JsonObject { ["text/html"] = PolyglotJson.SplitLines(h.Value) },
            Tensor t => new JsonObject { ["text/html"] = PolyglotJson.SplitLines(TensorHtml(t)), ["text/plain"] = PolyglotJson.SplitLines(TensorText(t)) },
            GenericChart c => Chart(c),
            _ => Text(PlainText(value)),
        };
        if (mimeTypes.Length == 0)
        {
            return all;
        }

        var chosen = new JsonObject();
        foreach (string mime in mimeTypes)
        {
            if (all[mime] is JsonNode data)
            {
                chosen[mime] = data.DeepClone();
            }
        }

        if (chosen.Count == 0)
        {
            string have = string.Join(", ", all.Select(kv => kv.Key));
            throw new NotSupportedException(
                $"cannot display a {value?.GetType().Name ?? "null"} as {string.Join(", ", mimeTypes)} (the runner offers {have})");
        }

        return chosen;
    }

    private static JsonObject Text(string s) => new() { ["text/plain"] = PolyglotJson.SplitLines(s) };

    /// <summary>Plain text of a value: invariant numbers, collections as <c>[a, b, c]</c>.</summary>
    public static string PlainText(object? value) => value switch
    {
        null => "<null>",
        string s => s,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => "[" + string.Join(", ", e.Cast<object?>().Take(100).Select(PlainText)) + (e.Cast<object?>().Skip(100).Any() ? ", ..." : "") + "]",
        _ => value.ToString() ?? "",
    };

    private static JsonObject Chart(GenericChart chart)
    {
        // The fragment expects a global Plotly (the page loads plotly.js once); the GUID Plotly.NET
        // puts in every fragment is replaced by a stable id so that reruns give identical files.
        string id = NotebookOutput.Sink.NewChartId();
        string html = GenericChart.toChartHTML(chart);
        var guids = GuidPattern().Matches(html).Select(m => m.Value).Distinct().ToList();
        foreach (string g in guids)
        {
            html = html.Replace(g, id, StringComparison.Ordinal)
                .Replace(g.Replace("-", "", StringComparison.Ordinal), id.Replace("-", "_", StringComparison.Ordinal), StringComparison.Ordinal);
        }

        html = html.Replace("renderPlotly_" + id, "renderPlotly_" + id.Replace("-", "_", StringComparison.Ordinal), StringComparison.Ordinal);
        return new JsonObject
        {
            [PlotlyMime] = JsonNode.Parse(GenericChart.toJson(chart)),
            ["text/html"] = PolyglotJson.SplitLines(html),
        };
    }

    /// <summary>Text form: the shape, then the values nested like NumPy (or a summary for big tensors).</summary>
    public static string TensorText(Tensor t) => Learn.Interactive.TensorView.Text(t);

    /// <summary>HTML form: one small table per 2-D slice, cells shaded by value (as the kernel extension shows it).</summary>
    public static string TensorHtml(Tensor t) => Learn.Interactive.TensorView.Html(t);
}
