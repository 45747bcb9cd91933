using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Learn.Notebooks.Format;

/// <summary>Reads and writes <c>.ipynb</c> files in the form Polyglot Notebooks saves.</summary>
public static class NotebookJson
{
    /// <summary>Deepest JSON nesting a notebook may have (checked while parsing, before any tree is built).</summary>
    public const int MaxDepth = 256;

    /// <summary>
    /// Largest notebook file read, 64 MiB: lesson 01 executed by <c>learn notebooks run</c> is 0.23 MB; one saved
    /// from Jupyter also carries plotly.js inline once (3.6 MB).
    /// </summary>
    public const long MaxFileBytes = 64L << 20;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxDepth };

    /// <summary>
    /// The text of a notebook file, refused with a one-line <see cref="NotebookFormatException"/> when it cannot
    /// be read or holds more than <see cref="MaxFileBytes"/> (counted while reading, so a pipe or device that
    /// never ends is refused too).
    /// </summary>
    public static string ReadText(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (file.CanSeek && file.Length > MaxFileBytes)
            {
                throw TooLarge(path);
            }

            var bytes = new MemoryStream();
            var buffer = new byte[81920];
            int n;
            while ((n = file.Read(buffer)) > 0)
            {
                if (bytes.Length + n > MaxFileBytes)
                {
                    throw TooLarge(path);
                }

                bytes.Write(buffer, 0, n);
            }

            bytes.Position = 0;
            using var reader = new StreamReader(bytes, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookFormatException($"{path}: cannot read: {e.Message}", e);
        }
    }

    /// <summary>Parses JSON text; invalid JSON becomes a one-line <see cref="NotebookFormatException"/>.</summary>
    public static JsonNode ParseNode(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            return JsonNode.Parse(text, documentOptions: ParseOptions)
                ?? throw new NotebookFormatException($"{name}: the file holds JSON null, not a notebook");
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            throw new NotebookFormatException($"{name}: invalid JSON at line {line}: {FirstSentence(e.Message)}", e);
        }
    }

    /// <summary>
    /// Reads a notebook file and checks it against the nbformat 4.5 rules (not the Polyglot metadata
    /// rules nor the "no stored outputs" rule); throws <see cref="NotebookFormatException"/> naming the
    /// file and the first problems.
    /// </summary>
    public static Notebook Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode node = ParseNode(ReadText(path), path);
        var problems = NotebookValidator.ValidateSchema(node);
        if (problems.Count > 0)
        {
            string more = problems.Count > 1 ? $" (and {problems.Count - 1} more)" : "";
            throw new NotebookFormatException($"{path}: not a valid nbformat 4.5 notebook: {problems[0]}{more}");
        }

        return FromNode((JsonObject)node);
    }

    /// <summary>Builds the model from a JSON tree that passed <see cref="NotebookValidator.ValidateSchema"/>.</summary>
    public static Notebook FromNode(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var notebook = new Notebook
        {
            Metadata = (JsonObject)root["metadata"]!.DeepClone(),
            NbFormat = root["nbformat"]!.GetValue<int>(),
            NbFormatMinor = root["nbformat_minor"]!.GetValue<int>(),
        };
        foreach (JsonNode? c in root["cells"]!.AsArray())
        {
            var cell = c!.AsObject();
            string type = cell["cell_type"]!.GetValue<string>();
            notebook.Cells.Add(new NotebookCell
            {
                Id = cell["id"]!.GetValue<string>(),
                CellType = type,
                Metadata = (JsonObject)cell["metadata"]!.DeepClone(),
                // VS Code normalises CRLF in sources; so does the runner.
                Source = PolyglotJson.JoinLines(cell["source"]).Replace("\r\n", "\n", StringComparison.Ordinal),
                Outputs = cell["outputs"] is JsonArray outs ? outs.Select(o => (JsonObject)o!.DeepClone()).ToList() : [],
                ExecutionCount = cell["execution_count"] is JsonValue v ? v.GetValue<int>() : null,
                Attachments = (JsonObject?)cell["attachments"]?.DeepClone(),
            });
        }

        return notebook;
    }

    /// <summary>The JSON tree of a notebook, in nbformat 4.5 shape.</summary>
    public static JsonObject ToNode(Notebook notebook)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var cells = new JsonArray();
        foreach (var cell in notebook.Cells)
        {
            var obj = new JsonObject
            {
                ["cell_type"] = cell.CellType,
                ["id"] = cell.Id,
                ["metadata"] = cell.Metadata.DeepClone(),
                ["source"] = PolyglotJson.SplitLines(cell.Source),
            };
            if (cell.IsCode)
            {
                obj["execution_count"] = cell.ExecutionCount is int n ? JsonValue.Create(n) : null;
                obj["outputs"] = new JsonArray(cell.Outputs.Select(o => (JsonNode)o.DeepClone()).ToArray());
            }

            if (cell.Attachments is not null)
            {
                obj["attachments"] = cell.Attachments.DeepClone();
            }

            cells.Add(obj);
        }

        return new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = notebook.Metadata.DeepClone(),
            ["nbformat"] = notebook.NbFormat,
            ["nbformat_minor"] = notebook.NbFormatMinor,
        };
    }

    /// <summary>The file text: sorted keys, one-space indent, trailing newline.</summary>
    public static string Serialize(Notebook notebook) => PolyglotJson.Serialize(ToNode(notebook));

    /// <summary>
    /// Writes the notebook atomically: a temporary file in the same folder, then a rename over the
    /// target, so an interruption never leaves a half-written notebook.
    /// </summary>
    public static void Save(Notebook notebook, string path) => AtomicFile.WriteAllText(path, Serialize(notebook));

    private static NotebookFormatException TooLarge(string path) =>
        new($"{path}: larger than {MaxFileBytes >> 20} MiB, too large for a notebook");

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        cut = cut > 0 ? cut : message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim();
    }
}
