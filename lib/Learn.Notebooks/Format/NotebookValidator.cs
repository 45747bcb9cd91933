using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Learn.Notebooks.Format;

/// <summary>
/// Checks a notebook against the rules of the official nbformat v4.5 JSON schema
/// (jupyter/nbformat <c>nbformat/v4/nbformat.v4.5.schema.json</c>, draft-04), written out by hand,
/// plus the rules the schema cannot express and the Polyglot metadata this project requires.
/// </summary>
/// <remarks>
/// Schema rules covered: the required keys and <c>additionalProperties: false</c> of the notebook,
/// of each cell kind and of each output kind; <c>nbformat</c> = 4 and <c>nbformat_minor</c> >= 5;
/// <c>kernelspec</c> (name, display_name) and <c>language_info</c> (name) shapes; cell ids (pattern,
/// 1-64 characters); multiline strings; <c>execution_count</c> (integer >= 0 or null); mime bundles
/// (JSON allowed only under <c>application/*json</c>); metadata <c>tags</c>/<c>name</c>;
/// attachments. Not covered: schema annotations the validator ignores anyway (descriptions), the
/// <c>unrecognized_*</c> definitions (not referenced by v4.5's <c>oneOf</c>). The tests cross-check
/// this against the official schema file when Debian's python3-nbformat is installed.
/// </remarks>
public static partial class NotebookValidator
{
    private static readonly string[] NotebookKeys = ["cells", "metadata", "nbformat", "nbformat_minor"];
    private static readonly string[] CodeCellKeys = ["cell_type", "execution_count", "id", "metadata", "outputs", "source"];
    private static readonly string[] TextCellKeys = ["attachments", "cell_type", "id", "metadata", "source"];
    private static readonly string[] CodeCellRequired = ["id", "cell_type", "metadata", "source", "outputs", "execution_count"];
    private static readonly string[] TextCellRequired = ["id", "cell_type", "metadata", "source"];

    [GeneratedRegex("^[a-zA-Z0-9-_]+$")]
    private static partial Regex CellIdPattern();

    [GeneratedRegex("^application/(.*\\+)?json$")]
    private static partial Regex JsonMimePattern();

    /// <summary>Every nbformat 4.5 schema violation, plus duplicate cell ids; empty when valid.</summary>
    public static IReadOnlyList<string> ValidateSchema(JsonNode? root)
    {
        var p = new List<string>();
        if (root is not JsonObject nb)
        {
            p.Add("the top level is not a JSON object");
            return p;
        }

        Keys(p, "notebook", nb, NotebookKeys, NotebookKeys);
        if (nb["nbformat"] is not null && Int(nb["nbformat"]) != 4)
        {
            p.Add("nbformat: must be the integer 4");
        }

        if (nb["nbformat_minor"] is not null && Int(nb["nbformat_minor"]) is not >= 5)
        {
            p.Add("nbformat_minor: must be an integer >= 5 (cell ids need nbformat 4.5)");
        }

        if (nb["metadata"] is JsonObject meta)
        {
            NotebookMetadata(p, meta);
        }
        else if (nb.ContainsKey("metadata"))
        {
            p.Add("metadata: must be an object");
        }

        if (nb["cells"] is JsonArray cells)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < cells.Count; i++)
            {
                Cell(p, $"cells[{i}]", cells[i], seen);
            }
        }
        else if (nb.ContainsKey("cells"))
        {
            p.Add("cells: must be an array");
        }

        return p;
    }

    /// <summary>The metadata this project's notebooks must carry to open as C# in Polyglot Notebooks.</summary>
    public static IReadOnlyList<string> ValidatePolyglot(Notebook notebook)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var p = new List<string>();
        var ks = notebook.Metadata["kernelspec"] as JsonObject;
        if (Str(ks?["name"]) != PolyglotMetadata.KernelspecName)
        {
            p.Add($"metadata.kernelspec.name: must be \"{PolyglotMetadata.KernelspecName}\" (found {Show(ks?["name"])})");
        }

        if (Str(ks?["display_name"]) != PolyglotMetadata.KernelspecDisplayName)
        {
            p.Add($"metadata.kernelspec.display_name: must be \"{PolyglotMetadata.KernelspecDisplayName}\" (found {Show(ks?["display_name"])})");
        }

        if (Str(ks?["language"]) != "C#")
        {
            p.Add($"metadata.kernelspec.language: must be \"C#\" (found {Show(ks?["language"])})");
        }

        var info = notebook.Metadata["polyglot_notebook"]?["kernelInfo"] as JsonObject;
        if (Str(info?["defaultKernelName"]) != PolyglotMetadata.KernelName)
        {
            p.Add($"metadata.polyglot_notebook.kernelInfo.defaultKernelName: must be \"csharp\" (found {Show(info?["defaultKernelName"])})");
        }

        if (info?["items"] is not JsonArray items || !items.Any(it => Str(it?["name"]) == PolyglotMetadata.KernelName))
        {
            p.Add("metadata.polyglot_notebook.kernelInfo.items: must list the kernel {\"name\": \"csharp\"}");
        }

        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (!cell.IsCode)
            {
                continue;
            }

            var kernel = cell.Metadata["polyglot_notebook"]?["kernelName"];
            if (Str(kernel) != PolyglotMetadata.KernelName)
            {
                p.Add($"cell {i + 1}: metadata.polyglot_notebook.kernelName must be \"csharp\" (found {Show(kernel)})");
            }
        }

        return p;
    }

    /// <summary>Committed notebooks carry no outputs: executed copies are build output.</summary>
    public static IReadOnlyList<string> ValidateNoOutputs(Notebook notebook)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var p = new List<string>();
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (cell.IsCode && (cell.Outputs.Count > 0 || cell.ExecutionCount is not null))
            {
                p.Add($"cell {i + 1}: has stored outputs or an execution count (clear outputs before committing)");
            }
        }

        return p;
    }

    private static void NotebookMetadata(List<string> p, JsonObject meta)
    {
        if (meta["kernelspec"] is JsonNode ks)
        {
            if (ks is not JsonObject k)
            {
                p.Add("metadata.kernelspec: must be an object");
            }
            else
            {
                Required(p, "metadata.kernelspec", k, ["name", "display_name"]);
                StringIfPresent(p, "metadata.kernelspec.name", k["name"], k.ContainsKey("name"));
                StringIfPresent(p, "metadata.kernelspec.display_name", k["display_name"], k.ContainsKey("display_name"));
            }
        }

        if (meta["language_info"] is JsonNode li)
        {
            if (li is not JsonObject l)
            {
                p.Add("metadata.language_info: must be an object");
            }
            else
            {
                Required(p, "metadata.language_info", l, ["name"]);
                foreach (string key in new[] { "name", "file_extension", "mimetype", "pygments_lexer" })
                {
                    StringIfPresent(p, $"metadata.language_info.{key}", l[key], l.ContainsKey(key));
                }
            }
        }

        if (meta.ContainsKey("title"))
        {
            StringIfPresent(p, "metadata.title", meta["title"], true);
        }

        if (meta.ContainsKey("orig_nbformat") && Int(meta["orig_nbformat"]) is not >= 1)
        {
            p.Add("metadata.orig_nbformat: must be an integer >= 1");
        }

        if (meta.ContainsKey("authors") && meta["authors"] is not JsonArray)
        {
            p.Add("metadata.authors: must be an array");
        }
    }

    private static void Cell(List<string> p, string at, JsonNode? node, HashSet<string> seen)
    {
        if (node is not JsonObject cell)
        {
            p.Add($"{at}: must be an object");
            return;
        }

        string? type = Str(cell["cell_type"]);
        if (type is not ("code" or "markdown" or "raw"))
        {
            p.Add($"{at}.cell_type: must be \"code\", \"markdown\" or \"raw\" (found {Show(cell["cell_type"])})");
            return;
        }

        bool code = type == "code";
        Keys(p, at, cell, code ? CodeCellKeys : TextCellKeys, code ? CodeCellRequired : TextCellRequired);
        if (cell.ContainsKey("id"))
        {
            string? id = Str(cell["id"]);
            if (id is null || id.Length is < 1 or > 64 || !CellIdPattern().IsMatch(id))
            {
                p.Add($"{at}.id: must be 1-64 characters of [a-zA-Z0-9-_] (found {Show(cell["id"])})");
            }
            else if (!seen.Add(id))
            {
                p.Add($"{at}.id: \"{id}\" is used by an earlier cell (ids must be unique)");
            }
        }

        if (cell.ContainsKey("metadata"))
        {
            CellMetadata(p, $"{at}.metadata", cell["metadata"], code);
        }

        if (cell.ContainsKey("source") && !IsMultiline(cell["source"]))
        {
            p.Add($"{at}.source: must be a string or an array of strings");
        }

        if (cell.ContainsKey("attachments"))
        {
            if (cell["attachments"] is JsonObject att)
            {
                foreach (var (name, bundle) in att)
                {
                    MimeBundle(p, $"{at}.attachments.{name}", bundle);
                }
            }
            else
            {
                p.Add($"{at}.attachments: must be an object");
            }
        }

        if (!code)
        {
            return;
        }

        if (cell.ContainsKey("execution_count") && !IsCount(cell["execution_count"]))
        {
            p.Add($"{at}.execution_count: must be an integer >= 0 or null");
        }

        if (cell.ContainsKey("outputs"))
        {
            if (cell["outputs"] is JsonArray outputs)
            {
                for (int i = 0; i < outputs.Count; i++)
                {
                    Output(p, $"{at}.outputs[{i}]", outputs[i]);
                }
            }
            else
            {
                p.Add($"{at}.outputs: must be an array");
            }
        }
    }

    private static void CellMetadata(List<string> p, string at, JsonNode? node, bool code)
    {
        if (node is not JsonObject meta)
        {
            p.Add($"{at}: must be an object");
            return;
        }

        if (meta.ContainsKey("name") && Str(meta["name"]) is not { Length: > 0 })
        {
            p.Add($"{at}.name: must be a non-empty string");
        }

        if (meta.ContainsKey("tags"))
        {
            if (meta["tags"] is not JsonArray tags
                || tags.Any(t => Str(t) is not { Length: > 0 } s || s.Contains(',', StringComparison.Ordinal))
                || tags.Select(Str).Distinct(StringComparer.Ordinal).Count() != tags.Count)
            {
                p.Add($"{at}.tags: must be an array of unique non-empty strings without commas");
            }
        }

        if (meta.ContainsKey("jupyter") && meta["jupyter"] is not JsonObject)
        {
            p.Add($"{at}.jupyter: must be an object");
        }

        if (!code)
        {
            return;
        }

        if (meta.ContainsKey("collapsed") && meta["collapsed"]?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            p.Add($"{at}.collapsed: must be a boolean");
        }

        if (meta.ContainsKey("scrolled")
            && meta["scrolled"]?.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)
            && Str(meta["scrolled"]) != "auto")
        {
            p.Add($"{at}.scrolled: must be true, false or \"auto\"");
        }

        if (meta.ContainsKey("execution"))
        {
            if (meta["execution"] is not JsonObject exec || exec.Any(kv => Str(kv.Value) is null))
            {
                p.Add($"{at}.execution: must be an object of strings");
            }
        }
    }

    private static void Output(List<string> p, string at, JsonNode? node)
    {
        if (node is not JsonObject o)
        {
            p.Add($"{at}: must be an object");
            return;
        }

        switch (Str(o["output_type"]))
        {
            case "stream":
                Keys(p, at, o, ["name", "output_type", "text"], ["output_type", "name", "text"]);
                if (o.ContainsKey("name") && Str(o["name"]) is null)
                {
                    p.Add($"{at}.name: must be a string");
                }

                if (o.ContainsKey("text") && !IsMultiline(o["text"]))
                {
                    p.Add($"{at}.text: must be a string or an array of strings");
                }

                break;
            case "display_data":
                Keys(p, at, o, ["data", "metadata", "output_type"], ["output_type", "data", "metadata"]);
                DisplayParts(p, at, o);
                break;
            case "execute_result":
                Keys(p, at, o, ["data", "execution_count", "metadata", "output_type"], ["output_type", "data", "metadata", "execution_count"]);
                DisplayParts(p, at, o);
                if (o.ContainsKey("execution_count") && !IsCount(o["execution_count"]))
                {
                    p.Add($"{at}.execution_count: must be an integer >= 0 or null");
                }

                break;
            case "error":
                Keys(p, at, o, ["ename", "evalue", "output_type", "traceback"], ["output_type", "ename", "evalue", "traceback"]);
                StringIfPresent(p, $"{at}.ename", o["ename"], o.ContainsKey("ename"));
                StringIfPresent(p, $"{at}.evalue", o["evalue"], o.ContainsKey("evalue"));
                if (o.ContainsKey("traceback") && (o["traceback"] is not JsonArray tb || tb.Any(t => Str(t) is null)))
                {
                    p.Add($"{at}.traceback: must be an array of strings");
                }

                break;
            default:
                p.Add($"{at}.output_type: must be stream, display_data, execute_result or error (found {Show(o["output_type"])})");
                break;
        }
    }

    private static void DisplayParts(List<string> p, string at, JsonObject o)
    {
        if (o.ContainsKey("data"))
        {
            MimeBundle(p, $"{at}.data", o["data"]);
        }

        if (o.ContainsKey("metadata") && o["metadata"] is not JsonObject)
        {
            p.Add($"{at}.metadata: must be an object");
        }
    }

    private static void MimeBundle(List<string> p, string at, JsonNode? node)
    {
        if (node is not JsonObject bundle)
        {
            p.Add($"{at}: must be an object keyed by mime type");
            return;
        }

        foreach (var (mime, value) in bundle)
        {
            if (!JsonMimePattern().IsMatch(mime) && !IsMultiline(value))
            {
                p.Add($"{at}[\"{mime}\"]: must be a string or an array of strings (only application/*json may hold JSON)");
            }
        }
    }

    private static void Keys(List<string> p, string at, JsonObject obj, string[] allowed, string[] required)
    {
        Required(p, at, obj, required);
        foreach (var (key, _) in obj)
        {
            if (!allowed.Contains(key, StringComparer.Ordinal))
            {
                p.Add($"{at}: unexpected property \"{key}\"");
            }
        }
    }

    private static void Required(List<string> p, string at, JsonObject obj, string[] required)
    {
        foreach (string key in required)
        {
            if (!obj.ContainsKey(key))
            {
                p.Add($"{at}: missing required property \"{key}\"");
            }
        }
    }

    private static void StringIfPresent(List<string> p, string at, JsonNode? value, bool present)
    {
        if (present && Str(value) is null)
        {
            p.Add($"{at}: must be a string");
        }
    }

    private static bool IsMultiline(JsonNode? node) => node switch
    {
        JsonValue v => v.GetValueKind() == JsonValueKind.String,
        JsonArray a => a.All(x => Str(x) is not null),
        _ => false,
    };

    private static bool IsCount(JsonNode? node) => node is null || Int(node) is >= 0;

    private static string? Str(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static long? Int(JsonNode? node)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            // Draft-04 "integer": a number without a fractional part.
            if (v.TryGetValue(out long l))
            {
                return l;
            }

            double d = v.TryGetValue(out double x) ? x : v.TryGetValue(out int i) ? i : double.NaN;
            return Math.Floor(d) == d ? (long)d : null;
        }

        return null;
    }

    private static string Show(JsonNode? node) => node is null ? "nothing" : node.ToJsonString();
}
