using System.Diagnostics;
using Learn.Notebooks;

namespace Learn.Tests.Notebooks;

/// <summary>Paths, command runs and shared executions for the notebook tests.</summary>
internal static class NotebookTestSupport
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Learn.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find Learn.sln above the test directory");
    });

    private static readonly Lazy<CommandResult> OutputsRun = new(() =>
    {
        EnsureLearnReleaseBuilt();
        string dir = NewTempDir();
        return Command(["run", Data("outputs.ipynb"), "--out", dir]) with { OutDir = dir };
    });

    private static readonly Dictionary<string, CommandResult> LessonRuns = [];

    public static string RepoRoot => Root.Value;

    /// <summary>This test run's scratch folder; <see cref="NotebookTestCleanup"/> removes it at the end.</summary>
    public static string TempRoot { get; } = Path.Combine(Path.GetTempPath(), "learn-notebook-tests", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A lesson executed once into its own folder, shared by the tests that read its results.</summary>
    public static CommandResult RunLesson(string path)
    {
        lock (LessonRuns)
        {
            if (!LessonRuns.TryGetValue(path, out var result))
            {
                EnsureLearnReleaseBuilt();
                string dir = NewTempDir();
                result = Command(["run", path, "--out", dir]) with { OutDir = dir };
                LessonRuns[path] = result;
            }

            return result;
        }
    }

    public static string NotebooksDir => Path.Combine(RepoRoot, "notebooks");

    public static string Data(string name) => Path.Combine(RepoRoot, "tests", "Learn.Tests", "Notebooks", "Data", name);

    /// <summary>outputs.ipynb executed once and shared: the output-kind, determinism and browser tests read it.</summary>
    public static CommandResult Outputs => OutputsRun.Value;

    public static string NewTempDir()
    {
        string dir = Path.Combine(TempRoot, Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public sealed record CommandResult(int ExitCode, string Stdout, string Stderr, string OutDir = "");

    /// <summary>Runs <c>learn notebooks ARGS</c> through the entry point the CLI calls.</summary>
    public static CommandResult Command(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = NotebookCommand.Run(args, stdout, stderr);
        TestContext.Out.WriteLine(stdout.ToString());
        TestContext.Out.WriteLine(stderr.ToString());
        return new CommandResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// A prerequisite from Debian is missing: skip with the reason on a developer's machine, but fail under CI
    /// (CI=true), where .ci/run installs it, so a failed install cannot pass as a green run.
    /// </summary>
    public static void RequireOrSkip(string reason)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail(reason);
        }

        Assert.Ignore(reason);
    }

    /// <summary>
    /// The lessons reference the Release build of lib/Learn.Interactive (Learn.dll, the lessons' helpers
    /// Learn.Lessons.dll and the kernel extension side by side);
    /// a test run from a Debug build makes sure it exists.
    /// </summary>
    public static void EnsureLearnReleaseBuilt()
    {
        string dll = Path.Combine(RepoRoot, "lib", "Learn.Interactive", "bin", "Release", "net10.0", "Learn.Lessons.dll");
        if (File.Exists(dll))
        {
            return;
        }

        var psi = new ProcessStartInfo("dotnet", ["build", Path.Combine(RepoRoot, "lib", "Learn.Interactive", "Learn.Interactive.csproj"), "-c", "Release", "-nologo", "-v", "q"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.Zero, $"building the Release library for the lessons failed:\n{output}");
    }
}

/// <summary>Removes the executed copies and pages the notebook tests wrote.</summary>
[SetUpFixture]
public sealed class NotebookTestCleanup
{
    [OneTimeTearDown]
    public void RemoveScratch()
    {
        if (Directory.Exists(NotebookTestSupport.TempRoot))
        {
            Directory.Delete(NotebookTestSupport.TempRoot, recursive: true);
        }
    }
}
