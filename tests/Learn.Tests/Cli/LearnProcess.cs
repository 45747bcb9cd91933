using System.Diagnostics;

namespace Learn.Tests.Cli;

/// <summary>Runs the built <c>learn</c> (Learn.Cli.dll beside the tests) as a real process with the tests' own dotnet host.</summary>
internal static class LearnProcess
{
    /// <summary>Runs <c>learn ARGS</c> and returns its exit code, stdout and stderr; fails the test past the timeout.</summary>
    public static (int Code, string Out, string Err) Run(string? workingDirectory, IReadOnlyDictionary<string, string>? environment, int timeoutSeconds, params string[] args)
    {
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "Learn.Cli.dll");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutSeconds * 1000))
        {
            process.Kill();
            Assert.Fail($"learn did not finish within {timeoutSeconds} s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    // The dotnet host running these tests, so the same runtime runs the command.
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }
}
