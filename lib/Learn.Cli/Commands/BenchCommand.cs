using System.Diagnostics;
using Learn.Cli.CommandLine;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn bench [--quick]</c>: runs bench/Learn.Bench from the source tree. The benchmark lives in its own project
/// so that the command does not carry its peers (libtorch and ONNX Runtime, about 1 GB of native libraries).
/// </summary>
internal static class BenchCommand
{
    private static readonly string ProjectPath = Path.Combine("bench", "Learn.Bench", "Learn.Bench.csproj");

    public static Verb Verb { get; } = new()
    {
        Name = "bench",
        Summary = "naive, fast, libtorch and ONNX Runtime side by side (--quick: a table in under a minute)",
        Description =
            "Runs the benchmark project bench/Learn.Bench with `dotnet run -c Release` from the source tree that\n" +
            "holds this command (or the current folder's). Without --quick it is the full BenchmarkDotNet run.\n" +
            "Timings are ratios against peers measured in the same run; see docs/performance.md.",
        Options =
        [
            new("--quick", null, "a Stopwatch table of every case at 1 and 2 threads, in under a minute"),
            new("--threads", "t1,t2", "thread counts for --quick", Default: "1,2"),
            new("--only", "TEXT", "--quick: only the cases whose name contains TEXT"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        string root = FindSourceTree()
            ?? throw CliError.Failure("bench", $"needs the source tree: {ProjectPath} was not found above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}");
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = root, UseShellExecute = false };
        foreach (string word in new[] { "run", "-c", "Release", "--project", ProjectPath, "--" })
        {
            start.ArgumentList.Add(word);
        }

        if (args.Has("--quick"))
        {
            start.ArgumentList.Add("--quick");
        }

        foreach (string option in new[] { "--threads", "--only" })
        {
            if (args.Text(option) is { } value)
            {
                start.ArgumentList.Add(option);
                start.ArgumentList.Add(value);
            }
        }

        if (!ProgressDisplay.IsShown(context))
        {
            using Process plain = Process.Start(start)
                ?? throw CliError.Failure("bench", "could not start dotnet");
            plain.WaitForExit();
            return plain.ExitCode == 0 ? ExitCode.Ok : ExitCode.DataFailure;
        }

        // On a terminal: a spinner while dotnet restores and builds (a minute or more, silently), then the
        // benchmark's own lines, passed through as they come.
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var firstLine = new ManualResetEventSlim();
        using var spinnerGone = new ManualResetEventSlim();
        using Process process = Process.Start(start)
            ?? throw CliError.Failure("bench", "could not start dotnet");
        process.OutputDataReceived += (_, e) => Forward(e.Data, context.Out);
        process.ErrorDataReceived += (_, e) => Forward(e.Data, context.Error);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        ProgressDisplay.Spin(context, "building bench/Learn.Bench (the first run also restores libtorch and ONNX Runtime, ~1 GB)", () =>
        {
            while (!firstLine.Wait(200) && !process.HasExited)
            {
            }

            return 0;
        });
        spinnerGone.Set();
        process.WaitForExit();
        return process.ExitCode == 0 ? ExitCode.Ok : ExitCode.DataFailure;

        void Forward(string? line, TextWriter to)
        {
            if (line is null)
            {
                return;
            }

            firstLine.Set();
            spinnerGone.Wait();
            lock (to)
            {
                to.WriteLine(line);
            }
        }
    }

    private static string? FindSourceTree()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? folder = new(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, ProjectPath)))
                {
                    return folder.FullName;
                }
            }
        }

        return null;
    }
}
