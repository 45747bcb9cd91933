using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Learn.Notebooks.Format;

/// <summary>
/// Writes JSON the way VS Code's ipynb serializer does for Polyglot notebooks:
/// <c>JSON.stringify(sortKeysRecursively(nb), undefined, " ") + "\n"</c> (keys sorted by ordinal,
/// one-space indent, JavaScript string escaping, a trailing newline). Writing the same tree twice
/// gives the same bytes, which is what makes a stale-output check exact.
/// </summary>
/// <remarks>
/// Hand-written because Microsoft.DotNet.Interactive.Documents does not round-trip these files. Measured
/// (1.0.0-beta.26120.1, <c>Notebook.ToJupyterJson(Notebook.Parse(text)) == text</c> on the 9 lessons, Nov 2026):
/// 0 of 9 byte-identical; all lose the trailing newline VS Code writes, and 00-sample gains the legacy
/// <c>dotnet_interactive</c> cell metadata after <c>polyglot_notebook</c> (keys no longer sorted), so re-saving in
/// VS Code would show diffs.
/// </remarks>
public static class PolyglotJson
{
    /// <summary>Serialises <paramref name="node"/> with sorted keys, one-space indent and a final newline.</summary>
    public static string Serialize(JsonNode? node)
    {
        var sb = new StringBuilder();
        Write(sb, node, 0);
        sb.Append('\n');
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, JsonNode? node, int depth)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                if (obj.Count == 0)
                {
                    sb.Append("{}");
                    break;
                }

                sb.Append("{\n");
                // JavaScript sorts keys with the default (UTF-16 code unit) order: ordinal.
                var keys = obj.Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
                for (int i = 0; i < keys.Count; i++)
                {
                    Indent(sb, depth + 1);
                    WriteString(sb, keys[i]);
                    sb.Append(": ");
                    Write(sb, obj[keys[i]], depth + 1);
                    sb.Append(i + 1 < keys.Count ? ",\n" : "\n");
                }

                Indent(sb, depth);
                sb.Append('}');
                break;
            case JsonArray arr:
                if (arr.Count == 0)
                {
                    sb.Append("[]");
                    break;
                }

                sb.Append("[\n");
                for (int i = 0; i < arr.Count; i++)
                {
                    Indent(sb, depth + 1);
                    Write(sb, arr[i], depth + 1);
                    sb.Append(i + 1 < arr.Count ? ",\n" : "\n");
                }

                Indent(sb, depth);
                sb.Append(']');
                break;
            case JsonValue value:
                WriteValue(sb, value);
                break;
            default:
                throw new InvalidOperationException($"unexpected JSON node {node.GetType().Name}");
        }
    }

    private static void WriteValue(StringBuilder sb, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(sb, value.GetValue<string>());
                break;
            case JsonValueKind.True:
                sb.Append("true");
                break;
            case JsonValueKind.False:
                sb.Append("false");
                break;
            case JsonValueKind.Null:
                sb.Append("null");
                break;
            case JsonValueKind.Number:
                // Numbers keep the text they were parsed from, or the shortest round-trip form.
                sb.Append(value.ToJsonString());
                break;
            default:
                throw new InvalidOperationException($"unexpected JSON value kind {value.GetValueKind()}");
        }
    }

    private static void Indent(StringBuilder sb, int depth) => sb.Append(' ', depth);

    /// <summary>JSON.stringify's escaping: quote, backslash and control characters only; lone surrogates as \u.</summary>
    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    bool loneSurrogate =
                        (char.IsHighSurrogate(c) && (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1])))
                        || (char.IsLowSurrogate(c) && (i == 0 || !char.IsHighSurrogate(s[i - 1])));
                    if (c < 0x20 || loneSurrogate)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    /// <summary>
    /// Splits text into the array form nbformat stores: every element ends in <c>\n</c> except the
    /// last, and an empty last element is dropped (VS Code's <c>splitMultilineString</c>).
    /// </summary>
    public static JsonArray SplitLines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new JsonArray();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                lines.Add(text[start..(i + 1)]);
                start = i + 1;
            }
        }

        if (start < text.Length)
        {
            lines.Add(text[start..]);
        }

        return lines;
    }

    /// <summary>Joins a multiline string (a string or an array of strings) back into one string.</summary>
    public static string JoinLines(JsonNode? node) => node switch
    {
        null => "",
        JsonArray arr => string.Concat(arr.Select(n => n?.GetValue<string>() ?? "")),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new FormatException("expected a string or an array of strings"),
    };
}
