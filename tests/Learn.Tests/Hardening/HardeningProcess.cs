using Learn.Tests.Cli;

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

    public static (int Code, string Out, string Err) Launch(string workingDirectory, params string[] args) =>
        LearnProcess.Run(workingDirectory,
            new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x" + HeapLimitBytes.ToString("x", System.Globalization.CultureInfo.InvariantCulture) },
            120, args);
}
