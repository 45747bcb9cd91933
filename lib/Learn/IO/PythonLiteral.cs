using System.Globalization;
using System.Numerics;
using System.Text;

namespace Learn.IO;

/// <summary>
/// The Python literals numpy reads an .npy header with (<c>ast.literal_eval</c>): strings (quotes, triple
/// quotes, escapes, u/r prefixes, adjacent strings joined; bytes kept apart), integers (decimal, 0x, 0o, 0b,
/// underscores, unary signs, arbitrary size), floats, True, False, None, tuples, lists, sets and dicts (a
/// repeated key: the last value wins), comments. Anything else (names, calls, operators, f-strings, complex
/// numbers) is refused: a header is data, never an expression.
/// </summary>
internal sealed class PythonLiteral
{
    /// <summary>A Python tuple.</summary>
    public sealed record Tuple(IReadOnlyList<object?> Items);

    /// <summary>A Python bytes literal (numpy refuses it as a descr).</summary>
    public sealed record Bytes(byte[] Value);

    /// <summary>A Python set.</summary>
    public sealed record Set(IReadOnlyList<object?> Items);

    /// <summary>A Python dict: keys in first-insertion order, each with its last value, as Python builds it.</summary>
    public sealed class Dict
    {
        public List<object?> Keys { get; } = [];

        public Dictionary<string, object?> ByStringKey { get; } = new(StringComparer.Ordinal);
    }

    private readonly string _text;
    private int _pos;
    private int _depth;

    private PythonLiteral(string text) => _text = text;

    /// <summary>Parses one literal filling the whole text (surrounding whitespace and comments allowed).</summary>
    /// <exception cref="FormatException">The text is not exactly one Python literal; the message says where.</exception>
    public static object? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new PythonLiteral(text);
        object? value = parser.Value();
        parser.Skip();
        if (parser._pos != text.Length)
        {
            throw parser.Error("unexpected text after the literal");
        }

        return value;
    }

    private object? Value()
    {
        if (++_depth > 64)
        {
            throw Error("nested too deeply");
        }

        try
        {
            Skip();
            if (_pos >= _text.Length)
            {
                throw Error("the text ends where a value should start");
            }

            char c = _text[_pos];
            switch (c)
            {
                case '{':
                    return DictOrSet();
                case '[':
                    _pos++;
                    return Items(']', out _);
                case '(':
                    {
                        _pos++;
                        List<object?> items = Items(')', out bool comma);
                        return items.Count == 1 && !comma ? items[0] : new Tuple(items);
                    }

                case '+' or '-':
                    {
                        _pos++;
                        object? operand = Value();
                        return (c, operand) switch
                        {
                            ('+', BigInteger or double) => operand,
                            ('-', BigInteger i) => -i,
                            ('-', double d) => -d,
                            _ => throw Error($"unary {c} applies to numbers only"),
                        };
                    }

                case >= '0' and <= '9' or '.':
                    return Number();
                case '\'' or '"':
                    return Strings();
                default:
                    if (char.IsAsciiLetter(c) || c == '_')
                    {
                        int start = _pos;
                        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_'))
                        {
                            _pos++;
                        }

                        string word = _text[start.._pos];
                        if (_pos < _text.Length && _text[_pos] is '\'' or '"' && word.ToLowerInvariant() is "u" or "r" or "b" or "br" or "rb")
                        {
                            _pos = start;
                            return Strings();
                        }

                        return word switch
                        {
                            "True" => true,
                            "False" => false,
                            "None" => null,
                            _ => throw Error($"'{word}' is a name, not a literal"),
                        };
                    }

                    throw Error($"'{c}' cannot start a literal");
            }
        }
        finally
        {
            _depth--;
        }
    }

    private List<object?> Items(char close, out bool sawComma)
    {
        var items = new List<object?>();
        sawComma = false;
        while (true)
        {
            Skip();
            if (Peek() == close)
            {
                _pos++;
                return items;
            }

            items.Add(Value());
            Skip();
            if (Peek() == ',')
            {
                _pos++;
                sawComma = true;
                continue;
            }

            if (Peek() != close)
            {
                throw Error($"expected ',' or '{close}'");
            }
        }
    }

    private object DictOrSet()
    {
        _pos++;
        Skip();
        if (Peek() == '}')
        {
            _pos++;
            return new Dict();
        }

        object? first = Value();
        Skip();
        if (Peek() != ':')
        {
            var items = new List<object?> { first };
            while (Peek() == ',')
            {
                _pos++;
                Skip();
                if (Peek() == '}')
                {
                    break;
                }

                items.Add(Value());
                Skip();
            }

            Expect('}');
            return new Set(items);
        }

        var dict = new Dict();
        object? key = first;
        while (true)
        {
            Expect(':');
            object? value = Value();
            Add(dict, key, value);
            Skip();
            if (Peek() == ',')
            {
                _pos++;
                Skip();
            }
            else
            {
                Expect('}');
                return dict;
            }

            if (Peek() == '}')
            {
                _pos++;
                return dict;
            }

            key = Value();
            Skip();
        }
    }

    private void Add(Dict dict, object? key, object? value)
    {
        if (key is Dict or List<object?> or Set)
        {
            throw Error("a dict key must be hashable");
        }

        if (key is string s)
        {
            if (!dict.ByStringKey.ContainsKey(s))
            {
                dict.Keys.Add(s);
            }

            dict.ByStringKey[s] = value; // the last value wins, as in Python
        }
        else
        {
            dict.Keys.Add(key);
        }
    }

    private object Number()
    {
        int start = _pos;
        while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '_' or '.'
            || (_text[_pos] is '+' or '-' && _pos > start && _text[_pos - 1] is 'e' or 'E' && !IsPrefixed(start))))
        {
            _pos++;
        }

        string token = _text[start.._pos];
        string lower = token.ToLowerInvariant();
        if (lower.EndsWith('j'))
        {
            throw Error($"complex number {token} is not supported");
        }

        if (!ValidUnderscores(lower))
        {
            throw Error($"'{token}' is not a number");
        }

        string digits = lower.Replace("_", "", StringComparison.Ordinal);
        (string body, int radix) = digits.Length > 2 && digits[0] == '0' && digits[1] is 'x' or 'o' or 'b'
            ? (digits[2..], digits[1] switch { 'x' => 16, 'o' => 8, _ => 2 })
            : (digits, 10);
        if (radix != 10 || body.All(char.IsAsciiDigit))
        {
            if (radix == 10 && body.Length > 1 && body[0] == '0' && body.Any(ch => ch != '0'))
            {
                throw Error($"'{token}': leading zeros in a decimal integer are not permitted");
            }

            if (body.Length == 0 || body.Length > 4300)
            {
                throw Error($"'{token}' is not an integer");
            }

            BigInteger value = BigInteger.Zero;
            foreach (char d in body)
            {
                int v = char.IsAsciiDigit(d) ? d - '0' : d is >= 'a' and <= 'f' ? d - 'a' + 10 : 99;
                if (v >= radix)
                {
                    throw Error($"'{token}' is not an integer");
                }

                value = (value * radix) + v;
            }

            return value;
        }

        return double.TryParse(digits, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double f)
            ? f
            : throw Error($"'{token}' is not a number");
    }

    private bool IsPrefixed(int start) => _pos - start >= 2 && _text[start] == '0' && char.ToLowerInvariant(_text[start + 1]) is 'x';

    private static bool ValidUnderscores(string token)
    {
        for (int i = 0; i < token.Length; i++)
        {
            if (token[i] == '_' && (i == 0 || i == token.Length - 1 || !char.IsAsciiLetterOrDigit(token[i - 1]) || !char.IsAsciiLetterOrDigit(token[i + 1])))
            {
                return false;
            }
        }

        return true;
    }

    private object Strings()
    {
        // Adjacent literals join: 'a' "b" is 'ab'. Mixing bytes and str is an error, as in Python.
        var text = new StringBuilder();
        bool? bytes = null;
        while (true)
        {
            Skip();
            int start = _pos;
            while (_pos < _text.Length && char.IsAsciiLetter(_text[_pos]))
            {
                _pos++;
            }

            string prefix = _text[start.._pos].ToLowerInvariant();
            if (_pos >= _text.Length || _text[_pos] is not ('\'' or '"'))
            {
                _pos = start;
                break;
            }

            if (prefix is not ("" or "u" or "r" or "b" or "br" or "rb"))
            {
                throw Error($"string prefix '{prefix}' is not a plain literal");
            }

            bool isBytes = prefix.Contains('b', StringComparison.Ordinal);
            if (bytes is { } b && b != isBytes)
            {
                throw Error("cannot mix bytes and str literals");
            }

            bytes = isBytes;
            text.Append(OneString(raw: prefix.Contains('r', StringComparison.Ordinal)));
        }

        return bytes == true ? new Bytes(Encoding.Latin1.GetBytes(text.ToString())) : text.ToString();
    }

    private string OneString(bool raw)
    {
        char quote = _text[_pos];
        bool triple = _pos + 2 < _text.Length && _text[_pos + 1] == quote && _text[_pos + 2] == quote;
        _pos += triple ? 3 : 1;
        var result = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error("unterminated string");
            }

            char c = _text[_pos];
            if (c == quote && (!triple || (_pos + 2 < _text.Length && _text[_pos + 1] == quote && _text[_pos + 2] == quote)))
            {
                _pos += triple ? 3 : 1;
                return result.ToString();
            }

            if (c == '\n' && !triple)
            {
                throw Error("unterminated string");
            }

            if (c != '\\' || raw)
            {
                if (c == '\\' && _pos + 1 < _text.Length)
                {
                    result.Append(c).Append(_text[_pos + 1]); // a raw string keeps the backslash and the next character
                    _pos += 2;
                    continue;
                }

                result.Append(c);
                _pos++;
                continue;
            }

            _pos++;
            char e = _pos < _text.Length ? _text[_pos++] : throw Error("unterminated string");
            switch (e)
            {
                case '\n': break;
                case '\\' or '\'' or '"': result.Append(e); break;
                case 'a': result.Append('\a'); break;
                case 'b': result.Append('\b'); break;
                case 'f': result.Append('\f'); break;
                case 'n': result.Append('\n'); break;
                case 'r': result.Append('\r'); break;
                case 't': result.Append('\t'); break;
                case 'v': result.Append('\v'); break;
                case 'x': result.Append((char)Hex(2)); break;
                case 'u': result.Append((char)Hex(4)); break;
                case 'U':
                    {
                        int code = Hex(8);
                        result.Append(code <= 0x10FFFF ? char.ConvertFromUtf32(code) : throw Error("\\U escape out of range"));
                        break;
                    }

                case >= '0' and <= '7':
                    {
                        int value = e - '0';
                        for (int i = 0; i < 2 && _pos < _text.Length && _text[_pos] is >= '0' and <= '7'; i++)
                        {
                            value = (value * 8) + (_text[_pos++] - '0');
                        }

                        result.Append((char)value);
                        break;
                    }

                case 'N':
                    throw Error("\\N{...} escapes are not supported");
                default:
                    result.Append('\\').Append(e); // Python keeps unknown escapes as they are
                    break;
            }
        }
    }

    private int Hex(int digits)
    {
        if (_pos + digits > _text.Length || !int.TryParse(_text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
        {
            throw Error("truncated \\x, \\u or \\U escape");
        }

        _pos += digits;
        return value;
    }

    private void Skip()
    {
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (c is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                _pos++;
            }
            else if (c == '#')
            {
                while (_pos < _text.Length && _text[_pos] != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void Expect(char c)
    {
        Skip();
        if (Peek() != c)
        {
            throw Error($"expected '{c}'");
        }

        _pos++;
    }

    private FormatException Error(string problem) => new($"{problem} at character {_pos}");
}
