using System.Text.Json;
using System.Text.Json.Nodes;

namespace Learn.Notebooks.Format;

/// <summary>
/// Checks a notebook against the official nbformat v4.5 JSON schema (<see cref="NbformatSchema"/>, validated by
/// NJsonSchema), plus the rules that schema cannot express and the Polyglot metadata this project requires.
/// </summary>
public static class NotebookValidator
{
    /// <summary>
    /// Every nbformat 4.5 schema violation, then the hand-written checks the schema cannot express: unique cell
    /// ids (nbformat checks them in code, not in the schema) and the integers this project reads into an
    /// <see cref="int"/> (the schema bounds them below only). Empty when valid.
    /// </summary>
    public static IReadOnlyList<string> ValidateSchema(JsonNode? root)
    {
        if (root is not JsonObject nb)
        {
            return ["the top level is not a JSON object"];
        }

        var p = NbformatSchema.Validate(nb).ToList();
        FitsInt32(p, "nbformat_minor", nb["nbformat_minor"]);
        if (nb["cells"] is not JsonArray cells)
        {
            return p;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < cells.Count; i++)
        {
            if (cells[i] is not JsonObject cell)
            {
                continue;
            }

            if (Str(cell["id"]) is string id && !seen.Add(id))
            {
                p.Add($"cells[{i}].id: {cell["id"]!.ToJsonString()} is used by an earlier cell (ids must be unique)");
            }

            FitsInt32(p, $"cells[{i}].execution_count", cell["execution_count"]);
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

    private static void FitsInt32(List<string> p, string at, JsonNode? node)
    {
        // Only whole numbers the schema accepted but an int cannot hold; other kinds are the schema's to report.
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && !v.TryGetValue(out int _)
            && node.ToJsonString().All(char.IsAsciiDigit))
        {
            p.Add($"{at}: {node.ToJsonString()} is too large (at most {int.MaxValue})");
        }
    }

    private static string? Str(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static string Show(JsonNode? node) => node is null ? "nothing" : node.ToJsonString();
}
