using System.Globalization;
using System.Net;
using System.Text;
using Learn.Tensors;

namespace Learn.Interactive;

/// <summary>
/// How a Learn tensor looks in a notebook: text nested like NumPy (or a summary for big tensors), and HTML
/// tables with one small table per 2-D slice, cells shaded by value. Shared by the kernel formatters and the
/// runner, so a lesson looks the same in Polyglot, Jupyter and the rendered pages.
/// </summary>
public static class TensorView
{
    /// <summary>Tensors with more values than this are summarised in text, not printed in full.</summary>
    public const int MaxTextValues = 256;

    /// <summary>Text form: the shape, then the values nested like NumPy (or a summary for big tensors).</summary>
    public static string Text(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        var sb = new StringBuilder($"Tensor{t.ShapeString}");
        if (t.Length > MaxTextValues)
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
    public static string Html(Tensor t)
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
