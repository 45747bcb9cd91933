using System.Diagnostics;

namespace Learn.Tests.Hardening;

/// <summary>
/// Runs <c>learn</c> as a real process under a GC heap hard limit (<c>DOTNET_GCHeapHardLimit</c>), so a test
/// proves a rejected file never made the loader allocate more than the limit: past it the runtime throws
/// OutOfMemoryException, which <c>learn</c> reports as an internal error (exit 70), failing the test.
/// </summary>
internal static class HardeningProcess
{
    /// <summary>256 MiB: far below what the hostile files used to cost (2 to 26 GB), far above a rejection's needs.</summary>
    public const long HeapLimitBytes = 256L << 20;

    public static (int Code, string Out, string Err) Launch(string workingDirectory, params string[] args)
    {
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "Learn.Cli.dll");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + HeapLimitBytes.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill();
            Assert.Fail("learn did not finish within 120 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

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
