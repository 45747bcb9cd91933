using System.Text.Json.Nodes;

namespace Learn.Notebooks.Format;

/// <summary>
/// An nbformat 4.5 notebook as Polyglot Notebooks saves it for C#: notebook metadata, then cells.
/// Metadata and outputs stay JSON objects so that keys the runner does not know survive a round trip.
/// </summary>
public sealed class Notebook
{
    /// <summary>Notebook-level metadata (kernelspec, language_info, polyglot_notebook, ...).</summary>
    public JsonObject Metadata { get; init; } = [];

    /// <summary>The cells in order.</summary>
    public List<NotebookCell> Cells { get; init; } = [];

    /// <summary>Major format number: always 4.</summary>
    public int NbFormat { get; init; } = 4;

    /// <summary>Minor format number: 5 or more (cell ids exist from 4.5 on).</summary>
    public int NbFormatMinor { get; init; } = 5;

    /// <summary>A deep copy, so an executed copy never shares outputs with its source.</summary>
    public Notebook Clone() => new()
    {
        Metadata = (JsonObject)Metadata.DeepClone(),
        Cells = Cells.Select(c => c.Clone()).ToList(),
        NbFormat = NbFormat,
        NbFormatMinor = NbFormatMinor,
    };
}

/// <summary>One cell: <c>code</c>, <c>markdown</c> or <c>raw</c>.</summary>
public sealed class NotebookCell
{
    /// <summary>The cell id (nbformat 4.5: <c>^[a-zA-Z0-9-_]+$</c>, 1-64 characters, unique).</summary>
    public required string Id { get; set; }

    /// <summary><c>code</c>, <c>markdown</c> or <c>raw</c>.</summary>
    public required string CellType { get; init; }

    /// <summary>Cell metadata; code cells carry <c>polyglot_notebook.kernelName</c>.</summary>
    public JsonObject Metadata { get; init; } = [];

    /// <summary>The cell text with <c>\n</c> line ends.</summary>
    public string Source { get; set; } = "";

    /// <summary>Outputs of a code cell (stream, display_data, execute_result, error); empty for others.</summary>
    public List<JsonObject> Outputs { get; init; } = [];

    /// <summary>The execution count of a code cell, or null if it has not run.</summary>
    public int? ExecutionCount { get; set; }

    /// <summary>Markdown/raw attachments, kept as they were read.</summary>
    public JsonObject? Attachments { get; init; }

    /// <summary>True for a code cell.</summary>
    public bool IsCode => CellType == "code";

    /// <summary>A deep copy.</summary>
    public NotebookCell Clone() => new()
    {
        Id = Id,
        CellType = CellType,
        Metadata = (JsonObject)Metadata.DeepClone(),
        Source = Source,
        Outputs = Outputs.Select(o => (JsonObject)o.DeepClone()).ToList(),
        ExecutionCount = ExecutionCount,
        Attachments = (JsonObject?)Attachments?.DeepClone(),
    };
}
