using System.Globalization;
using System.Text;

namespace Learn.IO;

/// <summary>
/// Text from a file (a tensor's or a global's name, a record's path) made safe to print: control characters
/// (newline, escape sequences), Unicode format characters (bidirectional overrides) and line separators become
/// visible escapes such as <c>\n</c>, <c>\x1b</c> or <c>\u202e</c>, so a name can neither move the cursor,
/// recolour the terminal nor forge a line of output. The one place where names from files are escaped.
/// </summary>
public static class Printable
{
    /// <summary><paramref name="text"/> with every control, format and separator character escaped; other text unchanged.</summary>
    public static string Escape(string? text)
    {
        if (text is null || !text.Any(NeedsEscape))
        {
            return text ?? string.Empty;
        }

        var result = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            if (!NeedsEscape(c))
            {
                result.Append(c);
                continue;
            }

            result.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c <= 0xff => string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            });
        }

        return result.ToString();
    }

    private static bool NeedsEscape(char c) => char.GetUnicodeCategory(c) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
