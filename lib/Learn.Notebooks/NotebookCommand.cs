using System.Diagnostics;
using System.Globalization;
using Learn.Notebooks.Execution;
using Learn.Notebooks.Export;
using Learn.Notebooks.Format;
using Learn.Notebooks.Rendering;

namespace Learn.Notebooks;

/// <summary>
/// <c>learn notebooks run|check|export</c>. Exit codes: 0 success, 1 a notebook failed (or did not
/// pass the check), 2 a usage error (unknown option, missing file). Errors are one line, no stack trace.
/// </summary>
public static class NotebookCommand
{
    /// <summary>The default cell timeout of <c>run</c>, in seconds.</summary>
    public const double DefaultTimeoutSeconds = 300;

    /// <summary>The longest cell timeout <c>run</c> accepts, in seconds (one day).</summary>
    public const double MaxTimeoutSeconds = 86400;

    private const string Usage =
        "Usage: learn notebooks run [PATHS...] [--out DIR] [--inplace] [--timeout SECONDS]\n" +
        "       learn notebooks check [PATHS...]\n" +
        "       learn notebooks clear [PATHS...]\n" +
        "       learn notebooks export NOTEBOOK --to cs [--out FILE]";

    /// <summary>Runs the command given by <paramref name="args"/> (the words after <c>notebooks</c>).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            return args.Length == 0 ? UsageError(stderr, "missing verb (run, check, clear or export)") : args[0] switch
            {
                "run" => RunVerb(args[1..], stdout, stderr),
                "check" => CheckVerb(args[1..], stdout, stderr),
                "clear" => ClearVerb(args[1..], stdout, stderr),
                "export" => ExportVerb(args[1..], stdout, stderr),
                "-h" or "--help" or "help" => Help(stdout),
                _ => UsageError(stderr, $"unknown verb '{args[0]}' (expected run, check, clear or export)"),
            };
        }
        catch (UsageException e)
        {
            return UsageError(stderr, e.Message);
        }
    }

    private static int Help(TextWriter stdout)
    {
        stdout.WriteLine(Usage);
        return 0;
    }

    private static int UsageError(TextWriter stderr, string message)
    {
        stderr.WriteLine($"learn notebooks: {message}");
        stderr.WriteLine(Usage);
        return 2;
    }

    private static int RunVerb(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var paths = new List<string>();
        string? outDir = null;
        bool inplace = false;
        double timeout = DefaultTimeoutSeconds;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out":
                    outDir = Value(args, ref i);
                    break;
                case "--inplace":
                    inplace = true;
                    break;
                case "--timeout":
                    string t = Value(args, ref i);
                    // Written so that NaN fails too (every comparison with NaN is false).
                    if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out timeout) || !(timeout > 0 && timeout <= MaxTimeoutSeconds))
                    {
                        throw new UsageException($"--timeout: '{t}' is not a positive number of seconds (at most {MaxTimeoutSeconds})");
                    }

                    break;
                default:
                    paths.Add(Positional(args[i]));
                    break;
            }
        }

        var notebooks = Expand(paths);
        string root = RepoRoot();
        outDir = Path.GetFullPath(outDir ?? Path.Combine(root, "docs", "lessons"));
        // The executed copy is written as OUT/NAME.ipynb: in the notebook's own folder that is the source itself,
        // which only --inplace may rewrite (and only after a complete run).
        if (notebooks.FirstOrDefault(n => SamePath(Path.GetDirectoryName(Path.GetFullPath(n))!, outDir)) is string clash)
        {
            throw new UsageException($"--out {Display(outDir)}: is the folder of {Display(clash)}, and its executed copy would overwrite the source (use --inplace to rewrite sources)");
        }

        Directory.CreateDirectory(outDir);
        SiteAssets.Write(outDir);
        var index = new List<HtmlRenderer.IndexEntry>();
        var failures = new List<string>();
        var total = Stopwatch.StartNew();
        for (int k = 0; k < notebooks.Count; k++)
        {
            string path = notebooks[k];
            string shown = Display(path);
            string name = Path.GetFileNameWithoutExtension(path);
            stdout.WriteLine($"[{k + 1}/{notebooks.Count}] {shown}");
            Notebook notebook;
            try
            {
                notebook = NotebookJson.Load(path);
                var problems = NotebookValidator.ValidatePolyglot(notebook);
                if (problems.Count > 0)
                {
                    throw new NotebookFormatException($"{shown}: {problems[0]}");
                }
            }
            catch (NotebookFormatException e)
            {
                stdout.WriteLine($"  FAILED: {e.Message}");
                failures.Add(e.Message);
                index.Add(new HtmlRenderer.IndexEntry(name + ".html", name, false, e.Message));
                AtomicFile.WriteAllText(Path.Combine(outDir, name + ".html"), HtmlRenderer.RenderPage(new Notebook(), name + ".ipynb", e.Message, 0));
                continue;
            }

            var watch = Stopwatch.StartNew();
            var result = NotebookRunner.Run(path, notebook, TimeSpan.FromSeconds(timeout), line => stdout.WriteLine("  " + line));
            result = result with { Path = shown };
            // The executed copy and its page are written even on failure: the reader sees where it broke.
            NotebookJson.Save(result.Executed, Path.Combine(outDir, name + ".ipynb"));
            AtomicFile.WriteAllText(Path.Combine(outDir, name + ".html"),
                HtmlRenderer.RenderPage(result.Executed, Path.GetFileName(path), result.Succeeded ? null : result.Describe(), result.FailedCell,
                    Path.GetDirectoryName(Path.GetFullPath(path))));
            index.Add(new HtmlRenderer.IndexEntry(name + ".html", HtmlRenderer.Title(notebook, path), result.Succeeded, result.Succeeded ? null : result.Describe()));
            if (result.Succeeded)
            {
                if (inplace)
                {
                    NotebookJson.Save(result.Executed, path);
                }

                stdout.WriteLine($"  ok in {watch.Elapsed.TotalSeconds:0.0} s");
            }
            else
            {
                stdout.WriteLine($"  FAILED: {result.Describe()}");
                failures.Add(result.Describe());
            }
        }

        AtomicFile.WriteAllText(Path.Combine(outDir, "index.html"), HtmlRenderer.RenderIndex(index));
        int passed = notebooks.Count - failures.Count;
        stdout.WriteLine($"{notebooks.Count} notebooks: {passed} passed, {failures.Count} failed in {total.Elapsed.TotalSeconds:0.0} s; pages in {Display(outDir)}{Path.DirectorySeparatorChar}index.html");
        foreach (string f in failures)
        {
            stderr.WriteLine($"failed: {f}");
        }

        return failures.Count == 0 ? 0 : 1;
    }

    private static int CheckVerb(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var notebooks = Expand(args.Select(Positional).ToList());
        int bad = 0;
        foreach (string path in notebooks)
        {
            var problems = Check(path);
            string shown = Display(path);
            if (problems.Count == 0)
            {
                stdout.WriteLine($"{shown}: ok");
                continue;
            }

            bad++;
            foreach (string p in problems)
            {
                stderr.WriteLine($"{shown}: {p}");
            }
        }

        stdout.WriteLine($"{notebooks.Count} notebooks checked: {notebooks.Count - bad} passed, {bad} failed");
        return bad == 0 ? 0 : 1;
    }

    /// <summary>
    /// Everything <c>check</c> reports for one file: nbformat 4.5 schema rules, Polyglot metadata,
    /// stored outputs, and directives the runner would refuse.
    /// </summary>
    public static IReadOnlyList<string> Check(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var problems = new List<string>();
        Notebook notebook;
        try
        {
            var node = NotebookJson.ParseNode(NotebookJson.ReadText(path), path);
            problems.AddRange(NotebookValidator.ValidateSchema(node));
            if (problems.Count > 0)
            {
                return problems;
            }

            notebook = NotebookJson.FromNode(node.AsObject());
        }
        catch (NotebookFormatException e)
        {
            // The message already names the file; keep only the problem.
            problems.Add(e.Message.StartsWith(path + ": ", StringComparison.Ordinal) ? e.Message[(path.Length + 2)..] : e.Message);
            return problems;
        }
        catch (IOException e)
        {
            problems.Add($"cannot read: {e.Message}");
            return problems;
        }

        problems.AddRange(NotebookValidator.ValidatePolyglot(notebook));
        problems.AddRange(NotebookValidator.ValidateNoOutputs(notebook));
        return problems;
    }

    private static int ExportVerb(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? notebookPath = null;
        string? to = null;
        string? outFile = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--to":
                    to = Value(args, ref i);
                    break;
                case "--out":
                    outFile = Value(args, ref i);
                    break;
                default:
                    if (notebookPath is not null)
                    {
                        throw new UsageException($"export takes one notebook, got '{notebookPath}' and '{args[i]}'");
                    }

                    notebookPath = Positional(args[i]);
                    break;
            }
        }

        if (notebookPath is null)
        {
            throw new UsageException("export: missing NOTEBOOK");
        }

        if (to != "cs")
        {
            throw new UsageException(to is null ? "export: missing --to cs" : $"export: --to '{to}' is not supported (only cs)");
        }

        if (!File.Exists(notebookPath))
        {
            throw new UsageException($"{notebookPath}: no such file");
        }

        outFile ??= Path.ChangeExtension(notebookPath, ".cs");
        if (SamePath(outFile, notebookPath))
        {
            throw new UsageException($"export: --out {outFile} is the notebook itself; the source is never overwritten");
        }

        try
        {
            var notebook = NotebookJson.Load(notebookPath);
            string text = FileAppExporter.Export(notebook, notebookPath, outFile);
            AtomicFile.WriteAllText(outFile, text);
        }
        catch (NotebookFormatException e)
        {
            stderr.WriteLine($"learn notebooks export: {e.Message}");
            return 1;
        }

        stdout.WriteLine($"wrote {outFile} (run it with: dotnet run {outFile})");
        return 0;
    }

    /// <summary>
    /// <c>clear</c>: removes stored outputs and execution counts from the notebooks (default: notebooks/), rewriting
    /// only files that had any, atomically. A file that cannot be read as a notebook is reported and left alone.
    /// </summary>
    private static int ClearVerb(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var notebooks = Expand(args.Select(Positional).ToList());
        int cleared = 0, bad = 0;
        foreach (string path in notebooks)
        {
            string shown = Display(path);
            Notebook notebook;
            try
            {
                notebook = NotebookJson.Load(path);
            }
            catch (NotebookFormatException e)
            {
                stderr.WriteLine($"learn notebooks clear: {e.Message}");
                bad++;
                continue;
            }

            if (!ClearOutputs(notebook))
            {
                stdout.WriteLine($"{shown}: no outputs");
                continue;
            }

            NotebookJson.Save(notebook, path);
            cleared++;
            stdout.WriteLine($"{shown}: outputs cleared");
        }

        stdout.WriteLine($"{notebooks.Count} notebooks: {cleared} cleared, {notebooks.Count - cleared - bad} already clear, {bad} unreadable");
        return bad == 0 ? 0 : 1;
    }

    /// <summary>Removes every code cell's outputs and execution count; true if anything was removed.</summary>
    public static bool ClearOutputs(Notebook notebook)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        bool changed = false;
        foreach (var cell in notebook.Cells.Where(c => c.IsCode))
        {
            changed |= cell.Outputs.Count > 0 || cell.ExecutionCount is not null;
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
        }

        return changed;
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)),
            OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    private static string Value(string[] args, ref int i)
    {
        if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
        {
            throw new UsageException($"{args[i]} needs a value");
        }

        return args[++i];
    }

    private static string Positional(string arg) =>
        arg.StartsWith('-') ? throw new UsageException($"unknown option '{arg}'") : arg;

    /// <summary>Files as given, folders as their <c>*.ipynb</c> in name order; default: the repository's notebooks/.</summary>
    private static List<string> Expand(List<string> paths)
    {
        if (paths.Count == 0)
        {
            string dir = Path.Combine(RepoRoot(), "notebooks");
            if (!Directory.Exists(dir))
            {
                throw new UsageException($"no PATHS given and {dir} does not exist");
            }

            paths.Add(dir);
        }

        var result = new List<string>();
        foreach (string p in paths)
        {
            if (Directory.Exists(p))
            {
                result.AddRange(Directory.GetFiles(p, "*.ipynb").Order(StringComparer.Ordinal));
            }
            else if (File.Exists(p))
            {
                result.Add(p);
            }
            else
            {
                throw new UsageException($"{p}: no such file or folder");
            }
        }

        if (result.Count == 0)
        {
            throw new UsageException($"no .ipynb files in {string.Join(", ", paths)}");
        }

        return result;
    }

    /// <summary>The folder holding Learn.sln above the current directory, else the current directory.</summary>
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Learn.sln")))
            {
                return dir.FullName;
            }
        }

        return Environment.CurrentDirectory;
    }

    private static string Display(string path)
    {
        string rel = Path.GetRelativePath(Environment.CurrentDirectory, Path.GetFullPath(path));
        return rel.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(path) : rel;
    }

    private sealed class UsageException(string message) : Exception(message);
}
