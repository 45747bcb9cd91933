using System.Text.Json.Nodes;

namespace Learn.Notebooks.Format;

/// <summary>The metadata Polyglot Notebooks writes for a C# notebook (see shared/NOTEBOOKS.md §1.2-1.3).</summary>
public static class PolyglotMetadata
{
    /// <summary>The kernelspec name Polyglot recognises as a .NET C# notebook.</summary>
    public const string KernelspecName = ".net-csharp";

    /// <summary>The kernelspec display name Polyglot writes.</summary>
    public const string KernelspecDisplayName = ".NET (C#)";

    /// <summary>The C# kernel's name in <c>polyglot_notebook</c> metadata.</summary>
    public const string KernelName = "csharp";

    /// <summary>Notebook metadata for a new C# notebook.</summary>
    public static JsonObject NotebookMetadata() => new()
    {
        ["kernelspec"] = new JsonObject
        {
            ["display_name"] = KernelspecDisplayName,
            ["language"] = "C#",
            ["name"] = KernelspecName,
        },
        ["language_info"] = new JsonObject { ["name"] = "polyglot-notebook" },
        ["polyglot_notebook"] = new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = KernelName,
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = KernelName }),
            },
        },
    };

    /// <summary>Cell metadata for a C# code cell.</summary>
    public static JsonObject CodeCellMetadata() => new()
    {
        ["polyglot_notebook"] = new JsonObject { ["kernelName"] = KernelName },
    };
}
