using System.Collections.Immutable;
using System.Net;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Classification;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Host.Mef;
using Microsoft.CodeAnalysis.Text;

namespace Learn.Notebooks.Rendering;

/// <summary>
/// C# highlighting for rendered pages by Roslyn's own classifier (the one editors use):
/// <see cref="Classifier.GetClassifiedSpansAsync(Document, TextSpan, System.Threading.CancellationToken)"/> on a
/// script document of an <see cref="AdhocWorkspace"/>, so <c>#r</c> directives, top-level statements and
/// the kernel's magics (<c>#!time</c>) parse as the kernel parses them. Each cell is classified alone, against
/// the .NET runtime and Learn.dll, so the output depends only on the cell and this build (no network, no
/// clock). Tokens become <c>&lt;span class="tok-..."&gt;</c>; the colours are in <c>assets/learn.css</c>.
/// </summary>
public static class CSharpHighlighter
{
    private static readonly CSharpParseOptions ScriptOptions =
        CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Preview);

    /// <summary>The C# kernel's default usings (Microsoft.DotNet.Interactive.CSharp), so <c>Console</c> is a type as in the notebook.</summary>
    private static readonly CSharpCompilationOptions CompilationOptions = new(OutputKind.DynamicallyLinkedLibrary,
        usings: ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq"]);

    private static readonly Lazy<MetadataReference[]> References = new(CreateReferences);

    /// <summary>Roslyn classification → CSS class. Unlisted classifications (operators, punctuation, plain identifiers) stay plain.</summary>
    private static readonly Dictionary<string, string> Css = new(StringComparer.Ordinal)
    {
        [ClassificationTypeNames.Keyword] = "tok-kw",
        [ClassificationTypeNames.ControlKeyword] = "tok-kw",
        [ClassificationTypeNames.PreprocessorKeyword] = "tok-dir",
        [ClassificationTypeNames.PreprocessorText] = "tok-dir",
        [ClassificationTypeNames.StringLiteral] = "tok-str",
        [ClassificationTypeNames.VerbatimStringLiteral] = "tok-str",
        [ClassificationTypeNames.StringEscapeCharacter] = "tok-esc",
        [ClassificationTypeNames.Comment] = "tok-com",
        [ClassificationTypeNames.ExcludedCode] = "tok-com",
        [ClassificationTypeNames.NumericLiteral] = "tok-num",
        [ClassificationTypeNames.ClassName] = "tok-type",
        [ClassificationTypeNames.RecordClassName] = "tok-type",
        [ClassificationTypeNames.StructName] = "tok-type",
        [ClassificationTypeNames.RecordStructName] = "tok-type",
        [ClassificationTypeNames.InterfaceName] = "tok-type",
        [ClassificationTypeNames.EnumName] = "tok-type",
        [ClassificationTypeNames.DelegateName] = "tok-type",
        [ClassificationTypeNames.TypeParameterName] = "tok-type",
        [ClassificationTypeNames.MethodName] = "tok-fn",
        [ClassificationTypeNames.ExtensionMethodName] = "tok-fn",
    };

    /// <summary>HTML for <paramref name="code"/> (to go inside <c>&lt;pre&gt;&lt;code&gt;</c>), classified on its own.</summary>
    public static string Highlight(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return HighlightCells([code])[0];
    }

    /// <summary>
    /// HTML for each of a notebook's code cells in order, each classified as a submission that follows the
    /// ones before it, as the kernel runs them: a <c>using</c> or a declaration in an earlier cell makes its
    /// names types, methods and fields in the later ones.
    /// </summary>
    /// <param name="cells">The code cells' sources.</param>
    /// <param name="notebookDirectory">Where the notebook is: its <c>#r "relative.dll"</c> lines are read from
    /// there (files only; <c>#r "nuget:..."</c> stays unresolved), or null to resolve none.</param>
    public static IReadOnlyList<string> HighlightCells(IReadOnlyList<string> cells, string? notebookDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var options = notebookDirectory is null
            ? CompilationOptions
            : CompilationOptions.WithMetadataReferenceResolver(new FileReferenceResolver(notebookDirectory));
        var workspace = new AdhocWorkspace(MefHostServices.DefaultHost);
        Solution solution = workspace.CurrentSolution;
        ProjectId? previous = null;
        var html = new List<string>(cells.Count);
        for (int n = 0; n < cells.Count; n++)
        {
            string code = cells[n] ?? throw new ArgumentException("a cell is null", nameof(cells));
            var project = ProjectId.CreateNewId();
            var info = ProjectInfo.Create(project, VersionStamp.Default, $"cell{n}", $"cell{n}", LanguageNames.CSharp,
                compilationOptions: options,
                parseOptions: ScriptOptions,
                projectReferences: previous is null ? null : [new ProjectReference(previous)],
                metadataReferences: References.Value,
                isSubmission: true);
            var document = DocumentId.CreateNewId(project);
            solution = solution.AddProject(info).AddDocument(document, $"cell{n}.csx", SourceText.From(code));
            var spans = Classifier.GetClassifiedSpansAsync(solution.GetDocument(document)!, new TextSpan(0, code.Length))
                .GetAwaiter().GetResult();
            html.Add(ToHtml(code, spans));
            previous = project;
        }

        return html;
    }

    private static string ToHtml(string code, IEnumerable<ClassifiedSpan> spans)
    {
        // Paint each character with the class of the innermost span covering it (an escape inside a string,
        // say): longer spans first, shorter ones over them. Additive classifications ("static symbol") are not
        // in Css and so never paint.
        var classes = new string?[code.Length];
        foreach (var span in spans.OrderByDescending(s => s.TextSpan.Length).ThenBy(s => s.TextSpan.Start))
        {
            if (Css.TryGetValue(span.ClassificationType, out string? css))
            {
                for (int i = span.TextSpan.Start; i < Math.Min(span.TextSpan.End, code.Length); i++)
                {
                    classes[i] = css;
                }
            }
        }

        var sb = new StringBuilder(code.Length * 2);
        int start = 0;
        for (int i = 1; i <= code.Length; i++)
        {
            if (i == code.Length || classes[i] != classes[start] || code[i] == '\n')
            {
                Append(sb, code[start..i], classes[start]);
                start = i;
            }
        }

        return sb.ToString();
    }

    private static MetadataReference[] CreateReferences()
    {
        // The runtime's own assemblies and Learn.dll: enough for Tensor, Math and the BCL to show as types and
        // methods. Fixed by the build, so a page does not depend on what else is loaded in this process.
        string[] platform = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return platform
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Append(typeof(Learn.Tensors.Tensor).Assembly.Location)
            .Where(p => p.Length > 0 && File.Exists(p))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToArray();
    }

    /// <summary>
    /// Resolves <c>#r "path.dll"</c> against the notebook's folder, for names only (nothing is loaded or run).
    /// An assembly already among <see cref="References"/> (Learn.dll) is skipped, so it is not imported twice.
    /// </summary>
    private sealed class FileReferenceResolver(string directory) : MetadataReferenceResolver
    {
        private readonly string directory = directory;

        public override ImmutableArray<PortableExecutableReference> ResolveReference(string reference, string? baseFilePath, MetadataReferenceProperties properties)
        {
            if (reference.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase) || !reference.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                return [];
            }

            string path = Path.GetFullPath(Path.Combine(directory, reference));
            string name = Path.GetFileName(path);
            if (!File.Exists(path) || References.Value.Any(r => Path.GetFileName(r.Display) == name))
            {
                return [];
            }

            return [MetadataReference.CreateFromFile(path, properties)];
        }

        public override bool Equals(object? other) => other is FileReferenceResolver r && r.directory == directory;

        public override int GetHashCode() => directory.GetHashCode(StringComparison.Ordinal);
    }

    private static void Append(StringBuilder sb, string text, string? css)
    {
        if (css is null)
        {
            sb.Append(WebUtility.HtmlEncode(text));
            return;
        }

        sb.Append("<span class=\"").Append(css).Append("\">").Append(WebUtility.HtmlEncode(text)).Append("</span>");
    }
}
