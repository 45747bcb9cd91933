using System.Collections;
using System.Globalization;
using System.Net;
using System.Text;
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
    public const int MaxTensorValues = 256;

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
    public static string TensorText(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var sb = new StringBuilder($"Tensor{t.ShapeString}");
        if (t.Length > MaxTensorValues)
        {
            sb.Append(CultureInfo.InvariantCulture, $" ({t.Length} values; min {Num(t.Data.Min())}, max {Num(t.Data.Max())}, mean {Num((float)t.Data.Average())})");
            return sb.ToString();
        }

        sb.Append('\n');
        if (t.Rank == 0)
        {
            sb.Append(Num(t.Data[0]));
            return sb.ToString();
        }

        int offset = 0;
        Nested(sb, t.Data, t.Shape, 0, ref offset, 0);
        return sb.ToString();
    }

    private static void Nested(StringBuilder sb, float[] data, int[] shape, int dim, ref int offset, int indent)
    {
        sb.Append('[');
        for (int i = 0; i < shape[dim]; i++)
        {
            if (dim == shape.Length - 1)
            {
                sb.Append(i > 0 ? ", " : "").Append(Num(data[offset++]));
                continue;
            }

            if (i > 0)
            {
                sb.Append(',').Append('\n', shape.Length - dim - 1).Append(' ', indent + 1);
            }

            Nested(sb, data, shape, dim + 1, ref offset, indent + 1);
        }

        sb.Append(']');
    }

    /// <summary>HTML form: one small table per 2-D slice (up to 8 slices of 16x16), cells shaded by value.</summary>
    public static string TensorHtml(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        int[] shape = t.Shape;
        int rows = t.Rank >= 2 ? shape[^2] : 1;
        int cols = t.Rank >= 1 ? shape[^1] : 1;
        int slices = rows * cols == 0 ? 0 : t.Length / (rows * cols);
        float maxAbs = t.Length == 0 ? 0 : t.Data.Max(Math.Abs);
        var sb = new StringBuilder();
        sb.Append("<div class=\"learn-tensor\"><div class=\"learn-tensor-shape\">Tensor").Append(WebUtility.HtmlEncode(t.ShapeString)).Append("</div>");
        const int maxSlices = 8, maxSide = 16;
        for (int s = 0; s < Math.Min(slices, maxSlices); s++)
        {
            if (t.Rank > 2)
            {
                sb.Append("<div class=\"learn-tensor-slice\">").Append(WebUtility.HtmlEncode(SliceLabel(shape, s))).Append("</div>");
            }

            sb.Append("<table style=\"border-collapse:collapse;font:12px monospace\">");
            for (int r = 0; r < Math.Min(rows, maxSide); r++)
            {
                sb.Append("<tr>");
                for (int c = 0; c < Math.Min(cols, maxSide); c++)
                {
                    float v = t.Data[(s * rows + r) * cols + c];
                    sb.Append("<td style=\"border:1px solid #ccc;padding:1px 4px;text-align:right;background:")
                        .Append(Shade(v, maxAbs)).Append("\">").Append(Num(v)).Append("</td>");
                }

                sb.Append(cols > maxSide ? "<td>&#8230;</td></tr>" : "</tr>");
            }

            sb.Append(rows > maxSide ? "<tr><td>&#8942;</td></tr></table>" : "</table>");
        }

        if (slices > maxSlices)
        {
            sb.Append("<div>&#8230; ").Append(slices - maxSlices).Append(" more slices</div>");
        }

        sb.Append("</div>");
        return sb.ToString();
    }

    private static string SliceLabel(int[] shape, int slice)
    {
        var idx = new string[shape.Length];
        idx[^1] = ":";
        idx[^2] = ":";
        for (int d = shape.Length - 3; d >= 0; d--)
        {
            idx[d] = (slice % shape[d]).ToString(CultureInfo.InvariantCulture);
            slice /= shape[d];
        }

        return "[" + string.Join(", ", idx) + "]";
    }

    // Blue for negative, red for positive, white for zero: the sign pattern of a kernel at a glance.
    private static string Shade(float v, float maxAbs)
    {
        int a = maxAbs == 0 ? 0 : (int)Math.Round(Math.Abs(v) / maxAbs * 160);
        return v < 0 ? $"rgb({255 - a},{255 - a},255)" : $"rgb(255,{255 - a},{255 - a})";
    }

    private static string Num(float v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}
