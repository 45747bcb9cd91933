using System.Collections.Immutable;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learn.Notebooks.Format;
using Learn.Notebooks.Kernel;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Learn.Notebooks.Execution;

/// <summary>
/// Runs C# cells in one Roslyn script state the way the .NET Interactive C# kernel does
/// (CSharpKernel.cs): latest language version, the kernel's imports, <c>#r</c> resolved against the
/// notebook's folder, usings and variables carried from cell to cell, the trailing expression
/// displayed, an exception recorded as an error output. Not thread-safe; one notebook per process.
/// </summary>
public sealed partial class ScriptKernel
{
    private static readonly MethodInfo HasReturnValue =
        typeof(Script).GetMethod("HasReturnValue", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Roslyn's Script.HasReturnValue is gone: pin Microsoft.CodeAnalysis.CSharp.Scripting");

    private ScriptOptions _options;
    private readonly CellRecorder _recorder;
    private readonly string _notebookDir;
    private readonly HashSet<Assembly> _referenced = [];
    private ScriptState<object>? _state;

    private const string HiddenAlias = "learn_runner_internal";

    [GeneratedRegex("Submission#[0-9]+")]
    private static partial Regex SubmissionName();

    [GeneratedRegex(" in (?<file>[^\\n]*?):line (?<line>[0-9]+)")]
    private static partial Regex FrameLocation();

    /// <summary>Creates a kernel whose relative paths resolve against <paramref name="notebookDir"/>.</summary>
    public ScriptKernel(string notebookDir, CellRecorder recorder)
    {
        _recorder = recorder;
        _notebookDir = notebookDir;
        // The C# kernel's references and imports, plus the runner's display helpers (this assembly)
        // in place of Microsoft.DotNet.Interactive's, imported statically like `using static Kernel`.
        _options = ScriptOptions.Default
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithReferences(FileReferences(
                typeof(object).Assembly,
                typeof(Enumerable).Assembly,
                typeof(List<>).Assembly,
                typeof(Task<>).Assembly,
                typeof(Console).Assembly,
                typeof(System.Text.Json.JsonSerializer).Assembly,
                typeof(System.Numerics.Complex).Assembly,
                typeof(Regex).Assembly,
                typeof(NotebookKernel).Assembly))
            // This library depends on Learn, Plotly.NET and MathNet. Roslyn must see them from the
            // first submission on, or adding them later (#r) makes it retarget this library's symbols
            // and report display() as ambiguous (CS0121). An alias keeps them out of the cells' global
            // namespace, so a cell still needs its #r, exactly as in Polyglot.
            .AddReferences(ShippedPackages.All.Values.SelectMany(p => p.Assemblies).Append(typeof(Learn.Tensors.Tensor).Assembly)
                .Append(typeof(Learn.Interactive.LessonKernel).Assembly).Distinct()
                .Select(a => MetadataReference.CreateFromFile(a.Location).WithAliases([HiddenAlias])))
            .WithImports("System", "System.Text", "System.Collections", "System.Collections.Generic",
                "System.Threading.Tasks", "System.Linq", typeof(NotebookKernel).FullName!)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(notebookDir))
            .WithSourceResolver(new SourceFileResolver(ImmutableArray<string>.Empty, notebookDir))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8);
    }

    // References by file path: Roslyn resolves a submission's dependencies to files too, and two
    // references to one file are one reference, where an Assembly-based and a file-based one clash (CS0121).
    private static IEnumerable<MetadataReference> FileReferences(params IEnumerable<Assembly> assemblies) =>
        assemblies.Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location));

    /// <summary>
    /// Compiles and runs a first submission with one call in it, so that the first cell's timing is the cell's own:
    /// an empty one left binding and emitting a call to be JIT-compiled during cell 1, which took 1.3-3.0 s on a
    /// loaded 2-core machine and tripped short timeouts. It declares nothing a cell could see.
    /// </summary>
    public async Task WarmUpAsync() => _state = await CSharpScript.RunAsync("System.GC.KeepAlive(System.Console.Out);", _options).ConfigureAwait(false);

    /// <summary>Runs one cell; <paramref name="cellNumber"/> is its 1-based position in the notebook.</summary>
    public async Task<CellOutcome> RunAsync(string source, int cellNumber)
    {
        _recorder.Begin(cellNumber);
        var prepared = CellPreprocessor.Prepare(source);
        if (prepared.Error is not null)
        {
            return Fail(prepared.ErrorLine, prepared.Error, prepared.Error);
        }

        if (prepared.Markdown is not null)
        {
            // The Jupyter front end renders a #!markdown cell as HTML; so does the runner.
            string html = Markdig.Markdown.ToHtml(prepared.Markdown, Rendering.MarkdownPipeline.Instance);
            NotebookOutput.Sink.Display(new JsonObject { ["text/html"] = PolyglotJson.SplitLines(html) });
            return new CellOutcome(_recorder.End(), false, 0, null);
        }

        var libraries = new List<Assembly>();
        foreach (var (path, line) in prepared.LearnReferences)
        {
            // The file must exist, as in Polyglot; the cell then compiles against the runner's own
            // Learn.dll, which is the copy that runs anyway (the default load context wins for an
            // identity it can resolve), and a second Learn.dll would make Roslyn retarget this
            // library's symbols and report ambiguous calls (CS0121).
            string full = Path.GetFullPath(Path.Combine(_notebookDir, path));
            if (!File.Exists(full))
            {
                string error = $"#r \"{path}\": {full} does not exist (build the library first: dotnet build lib/Learn.Interactive -c Release)";
                return Fail(line, error, error);
            }

            libraries.Add(string.Equals(Path.GetFileName(path), "Learn.Interactive.dll", StringComparison.OrdinalIgnoreCase)
                ? typeof(Learn.Interactive.LessonKernel).Assembly
                : typeof(Learn.Tensors.Tensor).Assembly);
        }

        // Like the kernel's AddAssemblyReferences, a reference stays for all later cells.
        var added = prepared.Packages.SelectMany(p => p.Assemblies).Concat(libraries).Distinct().Where(_referenced.Add).ToList();
        if (added.Count > 0)
        {
            _options = _options.AddReferences(FileReferences(added));
        }

        var options = _options.WithFilePath($"cell{cellNumber}");
        ScriptState<object> state;
        try
        {
            state = _state is null
                ? await CSharpScript.RunAsync(prepared.Code, options).ConfigureAwait(false)
                : await _state.ContinueWithAsync(prepared.Code, options, catchException: _ => true).ConfigureAwait(false);
        }
        catch (CompilationErrorException e)
        {
            // Like the kernel: the diagnostics joined by newlines; the earlier state survives.
            var errors = e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            int line = errors.Count > 0 ? errors[0].Location.GetLineSpan().StartLinePosition.Line + 1 : 0;
            string text = string.Join("\n", errors.Select(d => d.ToString()));
            return Fail(line, text, errors.Count > 0 ? $"error {errors[0].Id}: {errors[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture)}" : e.Message);
        }

        _state = state;
        if (state.Exception is Exception ex)
        {
            string text = ExceptionText(ex, cellNumber, out int line);
            string first = $"{ex.GetType().FullName}: {ex.Message}".Split('\n')[0].TrimEnd('\r');
            return Fail(line, text, first);
        }

        if ((bool)HasReturnValue.Invoke(state.Script, null)!)
        {
            // Polyglot stores the trailing value as display_data, like any other display.
            NotebookOutput.Sink.Display(Formatter.Format(state.ReturnValue));
        }

        return new CellOutcome(_recorder.End(), false, 0, null);
    }

    private CellOutcome Fail(int line, string text, string summary)
    {
        _recorder.Add(ErrorOutput(text));
        return new CellOutcome(_recorder.End(), true, line, summary);
    }

    /// <summary>An error output as VS Code stores it: ename "Error", the message, and the message split into lines.</summary>
    public static JsonObject ErrorOutput(string text) => new()
    {
        ["ename"] = "Error",
        ["evalue"] = text,
        ["output_type"] = "error",
        ["traceback"] = PolyglotJson.SplitLines(text),
    };

    /// <summary>
    /// exception.ToString() as the kernel reports it, made stable across runs and machines: scripting
    /// and async plumbing frames dropped, <c>Submission#N</c> made <c>Submission#N</c> literally, file
    /// paths outside the notebook cut to the file name.
    /// </summary>
    private static string ExceptionText(Exception ex, int cellNumber, out int line)
    {
        line = 0;
        var kept = new List<string>();
        foreach (string raw in ex.ToString().Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            string l = raw;
            string t = l.TrimStart();
            if (t.StartsWith("--- End of stack trace", StringComparison.Ordinal)
                || t.StartsWith("at Microsoft.CodeAnalysis.", StringComparison.Ordinal)
                || t.StartsWith("at System.Runtime.CompilerServices.", StringComparison.Ordinal)
                || t.StartsWith("at System.Runtime.ExceptionServices.", StringComparison.Ordinal)
                || t.StartsWith("at System.Threading.", StringComparison.Ordinal))
            {
                continue;
            }

            l = SubmissionName().Replace(l, "Submission#N");
            var m = FrameLocation().Match(l);
            if (m.Success)
            {
                string file = m.Groups["file"].Value;
                if (line == 0 && Path.GetFileName(file) == $"cell{cellNumber}")
                {
                    line = int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture);
                }

                l = l.Replace(m.Value, $" in {Path.GetFileName(file)}:line {m.Groups["line"].Value}", StringComparison.Ordinal);
            }

            kept.Add(l);
        }

        return string.Join("\n", kept);
    }
}
