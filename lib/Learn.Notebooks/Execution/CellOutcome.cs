using System.Text.Json.Nodes;

namespace Learn.Notebooks.Execution;

/// <summary>What running one code cell produced.</summary>
/// <param name="Outputs">The cell's outputs in nbformat shape, in the order they happened.</param>
/// <param name="Failed">True if the cell failed (compile error, exception, unsupported directive).</param>
/// <param name="Line">The 1-based line in the cell where it failed, or 0 if unknown.</param>
/// <param name="Message">A one-line description of the failure, or null.</param>
public sealed record CellOutcome(IReadOnlyList<JsonObject> Outputs, bool Failed, int Line, string? Message);
