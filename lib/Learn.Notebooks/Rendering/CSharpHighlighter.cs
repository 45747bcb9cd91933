using System.Net;
using System.Text;

namespace Learn.Notebooks.Rendering;

/// <summary>
/// A small C# highlighter for rendered pages: keywords, strings, comments, numbers and directive
/// lines get CSS classes; everything else is escaped text. No JavaScript needed.
/// </summary>
public static class CSharpHighlighter
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "async", "await", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class",
        "const", "continue", "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit",
        "extern", "false", "finally", "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "init", "int",
        "interface", "internal", "is", "lock", "long", "nameof", "namespace", "new", "null", "object", "operator", "out",
        "override", "params", "private", "protected", "public", "readonly", "record", "ref", "return", "sbyte", "sealed",
        "short", "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try", "typeof",
        "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "var", "virtual", "void", "volatile", "when", "where",
        "while", "with", "yield",
    };

    /// <summary>HTML for <paramref name="code"/> (to go inside <c>&lt;pre&gt;&lt;code&gt;</c>).</summary>
    public static string Highlight(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        var sb = new StringBuilder();
        int i = 0;
        while (i < code.Length)
        {
            char c = code[i];
            bool lineStart = i == 0 || code[i - 1] == '\n';
            if (lineStart && c == '#')
            {
                i = Span(sb, code, i, LineEnd(code, i), "tok-dir");
            }
            else if (c == '/' && i + 1 < code.Length && code[i + 1] == '/')
            {
                i = Span(sb, code, i, LineEnd(code, i), "tok-com");
            }
            else if (c == '/' && i + 1 < code.Length && code[i + 1] == '*')
            {
                int end = code.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = Span(sb, code, i, end < 0 ? code.Length : end + 2, "tok-com");
            }
            else if (c == '"' || (c is '$' or '@' && i + 1 < code.Length && code[i + 1] == '"'))
            {
                int j = c == '"' ? i + 1 : i + 2;
                bool verbatim = c == '@';
                while (j < code.Length && code[j] != '"' && (verbatim || code[j] != '\n'))
                {
                    j += !verbatim && code[j] == '\\' ? 2 : 1;
                }

                i = Span(sb, code, i, Math.Min(j + 1, code.Length), "tok-str");
            }
            else if (c == '\'' && i + 2 < code.Length)
            {
                int j = code.IndexOf('\'', i + (code[i + 1] == '\\' ? 3 : 2));
                i = j < 0 || j - i > 8 ? Plain(sb, code, i, i + 1) : Span(sb, code, i, j + 1, "tok-str");
            }
            else if (char.IsDigit(c))
            {
                int j = i;
                while (j < code.Length && (char.IsLetterOrDigit(code[j]) || code[j] is '.' or '_'))
                {
                    j++;
                }

                i = Span(sb, code, i, j, "tok-num");
            }
            else if (char.IsLetter(c) || c == '_')
            {
                int j = i;
                while (j < code.Length && (char.IsLetterOrDigit(code[j]) || code[j] == '_'))
                {
                    j++;
                }

                string word = code[i..j];
                i = Keywords.Contains(word) ? Span(sb, code, i, j, "tok-kw") : Plain(sb, code, i, j);
            }
            else
            {
                i = Plain(sb, code, i, i + 1);
            }
        }

        return sb.ToString();
    }

    private static int LineEnd(string code, int i)
    {
        int end = code.IndexOf('\n', i);
        return end < 0 ? code.Length : end;
    }

    private static int Span(StringBuilder sb, string code, int from, int to, string css)
    {
        sb.Append("<span class=\"").Append(css).Append("\">").Append(WebUtility.HtmlEncode(code[from..to])).Append("</span>");
        return to;
    }

    private static int Plain(StringBuilder sb, string code, int from, int to)
    {
        sb.Append(WebUtility.HtmlEncode(code[from..to]));
        return to;
    }
}
