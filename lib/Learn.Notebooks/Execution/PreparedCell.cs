namespace Learn.Notebooks.Execution;

/// <summary>A code cell after the kernel's own directives have been taken out.</summary>
/// <param name="Code">The C# for Roslyn: directive lines are blanked, so line numbers still match the cell.</param>
/// <param name="Packages">The shipped packages named by <c>#r "nuget: ..."</c> lines.</param>
/// <param name="LearnReferences">The paths named by <c>#r "…/Learn.dll"</c> lines, with their 1-based lines.</param>
/// <param name="Markdown">The markdown text if the cell starts with <c>#!markdown</c>, else null.</param>
/// <param name="Error">The first unsupported directive, with its line, else null.</param>
/// <param name="ErrorLine">The 1-based line of <paramref name="Error"/> in the cell.</param>
public sealed record PreparedCell(string Code, IReadOnlyList<ShippedPackages.Package> Packages, IReadOnlyList<(string Path, int Line)> LearnReferences, string? Markdown, string? Error, int ErrorLine);
