using System.Text;
using System.Text.RegularExpressions;
using Learn.Notebooks.Execution;
using Learn.Notebooks.Format;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Learn.Notebooks.Export;

/// <summary>
/// Exports a notebook to a .NET 10 file-based app (<c>dotnet run lesson.cs</c>), the path Microsoft
/// recommends after Polyglot: <c>#r "nuget: N, V"</c> becomes <c>#:package N@V</c>, a <c>#r</c> of the
/// Learn library becomes <c>#:project</c>, usings are hoisted, type declarations move after the
/// statements, trailing expressions become <c>display(...)</c> calls (which print their text form),
/// and markdown cells become comments.
/// </summary>
public static partial class FileAppExporter
{
    [GeneratedRegex("^using\\s+(static\\s+)?[A-Za-z_][A-Za-z0-9_.]*(\\s*=\\s*[A-Za-z_][A-Za-z0-9_.<>, ]*)?\\s*;\\s*$")]
    private static partial Regex UsingDirective();

    [GeneratedRegex("^#r\\s+\"(?<path>[^\"]+)\"\\s*$")]
    private static partial Regex ReferenceLine();

    /// <summary>The file-based app text for <paramref name="notebook"/>, to be written to <paramref name="outputPath"/>.</summary>
    /// <exception cref="NotebookFormatException">The notebook uses something a file-based app cannot express.</exception>
    public static string Export(Notebook notebook, string notebookPath, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        string notebookDir = Path.GetDirectoryName(Path.GetFullPath(notebookPath))!;
        string outputDir = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        var packages = new SortedSet<string>(StringComparer.Ordinal);
        var projects = new List<string>();
        var usings = new List<string> { "using System.Text;", "using System.Collections;" };
        var statements = new StringBuilder();
        var types = new StringBuilder();
        bool usesLearn = false;

        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            int n = i + 1;
            if (!cell.IsCode || CellPreprocessor.Prepare(cell.Source).Markdown is not null)
            {
                string text = cell.IsCode ? CellPreprocessor.Prepare(cell.Source).Markdown! : cell.Source;
                statements.Append("// ---- cell ").Append(n).Append(" (").Append(cell.IsCode ? "#!markdown" : cell.CellType).Append(") ----\n");
                foreach (string line in text.Split('\n'))
                {
                    statements.Append(line.Length > 0 ? "// " + line : "//").Append('\n');
                }

                statements.Append('\n');
                continue;
            }

            var prepared = CellPreprocessor.Prepare(cell.Source);
            if (prepared.Error is not null)
            {
                throw new NotebookFormatException($"{notebookPath}: cell {n}, line {prepared.ErrorLine}: {prepared.Error}");
            }

            foreach (var p in prepared.Packages)
            {
                packages.Add($"#:package {p.Name}@{p.Version}");
            }

            var code = new StringBuilder();
            foreach (string line in prepared.Code.Split('\n'))
            {
                string t = line.Trim();
                var r = ReferenceLine().Match(t);
                if (r.Success)
                {
                    string dll = Path.GetFullPath(Path.Combine(notebookDir, r.Groups["path"].Value));
                    // Learn.Interactive comes with the Learn.Notebooks project the app references anyway.
                    if (!string.Equals(Path.GetFileName(dll), "Learn.dll", StringComparison.OrdinalIgnoreCase)
                        && !string.Equals(Path.GetFileName(dll), "Learn.Interactive.dll", StringComparison.OrdinalIgnoreCase))
                    {
                        throw new NotebookFormatException($"{notebookPath}: cell {n}: cannot export {t}: a file-based app references projects, and only the Learn library's and its notebook extension's are known");
                    }

                    usesLearn = true;
                    continue;
                }

                if (t.StartsWith("#load", StringComparison.Ordinal) || t.StartsWith("#r", StringComparison.Ordinal))
                {
                    throw new NotebookFormatException($"{notebookPath}: cell {n}: cannot export {t} (CS7011: #r and #load are only allowed in scripts)");
                }

                if (UsingDirective().IsMatch(t))
                {
                    if (!usings.Contains(t))
                    {
                        usings.Add(t);
                    }

                    continue;
                }

                code.Append(line).Append('\n');
            }

            SplitCell(code.ToString(), out string body, out string declarations);
            statements.Append("// ---- cell ").Append(n).Append(" ----\n").Append(body.Trim('\n', '\r').TrimEnd()).Append("\n\n");
            if (declarations.Length > 0)
            {
                types.Append("// from cell ").Append(n).Append('\n').Append(declarations.TrimEnd()).Append("\n\n");
            }
        }

        string learnProject = LocateProject(notebookDir, "Learn")
            ?? (usesLearn ? throw new NotebookFormatException($"{notebookPath}: cannot find lib/Learn/Learn.csproj above the notebook") : "");
        if (learnProject.Length > 0)
        {
            projects.Add($"#:project {Relative(outputDir, learnProject)}");
        }

        string notebooksProject = LocateProject(notebookDir, "Learn.Notebooks")
            ?? throw new NotebookFormatException($"{notebookPath}: cannot find lib/Learn.Notebooks/Learn.Notebooks.csproj above the notebook (it provides display())");
        projects.Add($"#:project {Relative(outputDir, notebooksProject)}");

        var sb = new StringBuilder();
        sb.Append("#!/usr/bin/env dotnet\n")
            .Append("// Exported from ").Append(Path.GetFileName(notebookPath)).Append(" by `learn notebooks export --to cs`.\n")
            .Append("// Run with: dotnet run ").Append(Path.GetFileName(outputPath)).Append("  (display() prints each value's text form; charts print nothing).\n");
        foreach (string p in projects)
        {
            sb.Append(p).Append('\n');
        }

        foreach (string p in packages)
        {
            sb.Append(p).Append('\n');
        }

        // The repository's build rules are for the libraries, not for a lesson script.
        sb.Append("#:property TreatWarningsAsErrors=false\n#:property PublishAot=false\n#:property GenerateDocumentationFile=false\n#:property NoWarn=$(NoWarn);NU1603\n\n");
        foreach (string u in usings)
        {
            sb.Append(u).Append('\n');
        }

        sb.Append("using static Learn.Notebooks.Kernel.NotebookKernel;\n\n").Append(statements).Append(types);
        return sb.ToString().TrimEnd() + "\n";
    }

    /// <summary>
    /// Splits a cell into statements and type declarations (which a file must put after all top-level
    /// statements, CS8803), and turns a trailing expression into <c>display(expr);</c>.
    /// </summary>
    private static void SplitCell(string code, out string body, out string declarations)
    {
        var tree = CSharpSyntaxTree.ParseText(code, new CSharpParseOptions(LanguageVersion.Latest, kind: SourceCodeKind.Script));
        var root = (CompilationUnitSyntax)tree.GetRoot();
        var bodyText = new StringBuilder();
        var declText = new StringBuilder();
        var members = root.Members;
        for (int i = 0; i < members.Count; i++)
        {
            var member = members[i];
            if (member is GlobalStatementSyntax { Statement: ExpressionStatementSyntax expr } && i == members.Count - 1 && expr.SemicolonToken.IsMissing)
            {
                bodyText.Append(member.GetLeadingTrivia().ToFullString())
                    .Append("display(").Append(expr.Expression.ToString()).Append(");")
                    .Append(member.GetTrailingTrivia().ToFullString());
            }
            else if (member is not (BaseTypeDeclarationSyntax or DelegateDeclarationSyntax or BaseNamespaceDeclarationSyntax))
            {
                // Statements, and script variables/methods (fields and methods in script syntax),
                // which read the same as top-level statements and local functions.
                bodyText.Append(member.ToFullString());
            }
            else
            {
                declText.Append(member.ToFullString());
            }
        }

        body = bodyText.ToString() + root.EndOfFileToken.LeadingTrivia.ToFullString();
        declarations = declText.ToString();
    }

    private static string? LocateProject(string from, string name)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "lib", name, name + ".csproj");
            if (File.Exists(candidate))
            {
                return Path.GetDirectoryName(candidate)!;
            }
        }

        return null;
    }

    private static string Relative(string fromDir, string to) => Path.GetRelativePath(fromDir, to).Replace('\\', '/');
}
