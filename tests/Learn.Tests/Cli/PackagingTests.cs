using System.Diagnostics;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn</c> as users install it: the project packs as a .NET tool, <c>dotnet tool install</c> puts a
/// <c>learn</c> command into a tool folder, and that command runs (the README's install steps, with
/// <c>--tool-path</c> instead of <c>--global</c> so that the test leaves the machine as it was).
/// </summary>
[TestFixture]
public sealed class PackagingTests : CliTestBase
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Test]
    public void Packs_as_a_tool_that_installs_and_runs()
    {
        string root = RepositoryRoot();
        string packages = P("package"), tools = P("tools");
        // --no-build: the test project has just built lib/Learn.Cli in this configuration.
        // A version of its own, so that no package cached by an earlier run is installed instead of this one.
        string version = $"0.0.0-test.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        Dotnet(root, "pack", "lib/Learn.Cli/Learn.Cli.csproj", "-c", Configuration, "--no-build", "-nologo", "-o", packages, $"-p:PackageVersion={version}");
        Assert.That(Directory.GetFiles(packages, "Learn.Cli.*.nupkg"), Has.Length.EqualTo(1));
        Dotnet(root, "tool", "install", "Learn.Cli", "--version", version, "--tool-path", tools, "--add-source", packages);

        string learn = Path.Combine(tools, OperatingSystem.IsWindows() ? "learn.exe" : "learn");
        (int code, string stdout, string stderr) = Launch(Folder, learn, "--help");
        Assert.That(code, Is.Zero, stderr);
        Assert.That(stdout, Does.StartWith("learn - the convolution family and OSNet"));
        (code, _, stderr) = Launch(Folder, learn, "conv");
        Assert.That((code, stderr), Is.EqualTo((2, "learn: conv: unknown verb (learn --help lists them); did you mean conv2d or cost?\n")));

        // The tool carries ONNX Runtime's native library: learn diff-onnx runs an export.
        string catalogue = Path.Combine(root, "reference-weights", "port-catalogue");
        (code, stdout, stderr) = Launch(Folder, learn, "diff-onnx", Path.Combine(catalogue, "onnx", "x0_25_eager_float32.onnx"), "--weights",
            Path.Combine(root, "reference-weights", "osnet", "osnet_x0_25.pth"), "--variant", "osnet_x0_25", "--input", Path.Combine(catalogue, "input.npy"));
        Assert.That((code, stderr), Is.EqualTo((0, "")), stdout);
        Assert.That(stdout, Does.Contain("batch 2: with error propagation: all "));
    }

    private static void Dotnet(string workingDirectory, params string[] args)
    {
        (int code, string stdout, string stderr) = Launch(workingDirectory, "dotnet", args);
        Assert.That(code, Is.Zero, $"dotnet {string.Join(' ', args)}:\n{stdout}\n{stderr}");
    }

    internal static (int Code, string Out, string Err) Launch(string workingDirectory, string program, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(600_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', args)} did not finish within 10 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The checkout holding these tests (the folder with Learn.sln).</summary>
    internal static string RepositoryRoot()
    {
        for (DirectoryInfo? dir = new(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Learn.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Learn.sln not found above the test folder");
    }
}
