using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learn.Notebooks.Execution;
using Learn.Notebooks.Format;
using Microsoft.CodeAnalysis.Scripting;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace Learn.Notebooks.Host;

/// <summary>
/// One notebook's cells in the real .NET Interactive C# kernel, set up as the dotnet-interactive tool sets it up
/// for Polyglot and Jupyter: <c>#r "nuget:"</c> restored by the kernel's own package management, the kernel
/// helpers (<c>display</c>), value sharing, <c>#!who</c>/<c>#!whos</c>, <c>#!time</c> and a <c>#!markdown</c> kernel. Each cell's kernel
/// events become nbformat outputs through a <see cref="CellRecorder"/>. Not thread-safe; one notebook per process.
/// </summary>
internal sealed partial class KernelSession : IDisposable
{
    // The kernel compiles submissions without debug information, so an exception's trace names no line. The runner
    // must name the failing line, so it turns debug information on and names each submission after its cell
    // ("cell3"), through the kernel's private ScriptOptions: the one setting the public API does not reach.
    private static readonly FieldInfo ScriptOptionsField =
        typeof(CSharpKernel).GetField("_scriptOptions", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("CSharpKernel._scriptOptions is gone: pin Microsoft.DotNet.Interactive.CSharp");

    private readonly CSharpKernel _csharp;
    private readonly CompositeKernel _kernel;
    private readonly CellRecorder _recorder;

    [GeneratedRegex("Submission#[0-9]+")]
    private static partial Regex SubmissionName();

    [GeneratedRegex(" in (?<file>[^\\n]*?):line (?<line>[0-9]+)")]
    private static partial Regex FrameLocation();

    // "cell3(2,5): error CS0103: ..." or, for a directive, "(1,1): error DNI101: ...".
    // The kernel restores through a generated project under a temporary folder: "/root/.packagemanagement/.../Project.fsproj : ".
    [GeneratedRegex("[^\\s:]*Project\\.fsproj : ")]
    private static partial Regex RestoreProject();

    [GeneratedRegex("^(?<file>cell[0-9]+)?\\((?<line>[0-9]+),[0-9]+\\): (?<what>.*)$")]
    private static partial Regex DiagnosticLine();

    public KernelSession(CellRecorder recorder)
    {
        _recorder = recorder;
        _csharp = new CSharpKernel();
        _csharp.UseNugetDirective((kernel, references) =>
            {
                kernel.AddAssemblyReferences(references.SelectMany(r => r.AssemblyPaths));
                return Task.CompletedTask;
            })
            .UseKernelHelpers()
            .UseValueSharing()
            .UseWho();
        TimeMagic.Add(_csharp);
        _kernel = new CompositeKernel { _csharp, new MarkdownKernel() };
        _kernel.DefaultKernelName = _csharp.Name;
    }

    /// <summary>
    /// Compiles and runs a first submission that declares nothing, so that the first cell's timing is the cell's
    /// own (Roslyn's first compilation takes seconds on a loaded machine).
    /// </summary>
    public async Task WarmUpAsync()
    {
        NameSubmission("warmup");
        await _kernel.SendAsync(new SubmitCode("System.GC.KeepAlive(System.Console.Out);")).ConfigureAwait(false);
    }

    /// <summary>Runs one cell; <paramref name="cellNumber"/> is its 1-based position in the notebook.</summary>
    public async Task<CellOutcome> RunAsync(string source, int cellNumber)
    {
        _recorder.Begin(cellNumber);
        NameSubmission($"cell{cellNumber}");
        var result = await _kernel.SendAsync(new SubmitCode(source)).ConfigureAwait(false);
        var handles = new Dictionary<string, int>(StringComparer.Ordinal);
        CommandFailed? failed = null;
        foreach (var e in result.Events)
        {
            switch (e)
            {
                case StandardOutputValueProduced stdout:
                    _recorder.Write("stdout", PlainText(stdout));
                    break;
                case StandardErrorValueProduced stderr:
                    _recorder.Write("stderr", PlainText(stderr));
                    break;
                case DisplayedValueUpdated updated:
                    // An update replaces the displayed output in place, as nbclient keeps one output per display id.
                    if (updated.ValueId is string id && handles.TryGetValue(id, out int handle))
                    {
                        _recorder.Update(handle, Data(updated));
                    }

                    break;
                case DisplayEvent shown:
                    // DisplayedValueProduced and ReturnValueProduced: Polyglot stores both as display_data.
                    int index = _recorder.Display(Data(shown));
                    if (shown.ValueId is string valueId)
                    {
                        handles[valueId] = index;
                    }

                    break;
                case CommandFailed f:
                    failed ??= f;
                    break;
            }
        }

        if (failed is null)
        {
            return new CellOutcome(_recorder.End(), false, 0, null);
        }

        var (text, line, summary) = Describe(failed, cellNumber, source);
        _recorder.Add(CellRecorder.ErrorOutput(text));
        return new CellOutcome(_recorder.End(), true, line, summary);
    }

    private void NameSubmission(string name)
    {
        var options = (ScriptOptions)ScriptOptionsField.GetValue(_csharp)!;
        ScriptOptionsField.SetValue(_csharp, options.WithEmitDebugInformation(true).WithFilePath(name).WithFileEncoding(Encoding.UTF8));
    }

    private static string PlainText(DisplayEvent e) =>
        e.FormattedValues.FirstOrDefault(v => v.MimeType == "text/plain")?.Value ?? "";

    private static JsonObject Data(DisplayEvent e)
    {
        var data = new JsonObject();
        foreach (var value in e.FormattedValues)
        {
            string text = SubmissionName().Replace(value.Value, "Submission#N");
            // nbformat stores a JSON mime type (application/json, application/vnd.plotly.v1+json) as the JSON itself.
            data[value.MimeType] = IsJson(value.MimeType) && TryParse(text) is JsonNode json ? json : PolyglotJson.SplitLines(text);
        }

        return data;
    }

    private static bool IsJson(string mimeType) =>
        mimeType == "application/json" || mimeType.EndsWith("+json", StringComparison.Ordinal);

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The error text as the kernel reports it, made stable; the failing line; a one-line summary.</summary>
    private static (string Text, int Line, string Summary) Describe(CommandFailed failed, int cellNumber, string source)
    {
        if (failed.Exception is Exception ex && ex is not CodeSubmissionCompilationErrorException)
        {
            string trace = ExceptionText(ex, cellNumber, out int thrownAt);
            string first = $"{ex.GetType().FullName}: {ex.Message}".Split('\n')[0].TrimEnd('\r');
            return (trace, thrownAt, first);
        }

        string message = RestoreProject().Replace(SubmissionName().Replace(failed.Message.Replace("\r\n", "\n", StringComparison.Ordinal), "Submission#N"), "").TrimEnd();
        string firstLine = message.Split('\n')[0];
        if (DiagnosticLine().Match(firstLine) is { Success: true } m)
        {
            return (message, int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture), m.Groups["what"].Value);
        }

        // A package that cannot be restored: the kernel's message names it; the line is its #r "nuget:" line.
        int line = 0;
        string[] lines = source.Split('\n');
        for (int i = 0; i < lines.Length && line == 0; i++)
        {
            if (lines[i].TrimStart().StartsWith("#r", StringComparison.Ordinal) && lines[i].Contains("nuget:", StringComparison.Ordinal))
            {
                line = i + 1;
            }
        }

        return (message, line, firstLine);
    }

    /// <summary>
    /// exception.ToString() as the kernel reports it, made stable across runs and machines: scripting and async
    /// plumbing frames dropped, <c>Submission#N</c> made <c>Submission#N</c> literally, file paths cut to the file name.
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
                || t.StartsWith("at Microsoft.DotNet.Interactive.", StringComparison.Ordinal)
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
                    line = int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture);
                }

                l = l.Replace(m.Value, $" in {Path.GetFileName(file)}:line {m.Groups["line"].Value}", StringComparison.Ordinal);
            }

            kept.Add(l);
        }

        return string.Join("\n", kept);
    }

    public void Dispose() => _kernel.Dispose();
}
