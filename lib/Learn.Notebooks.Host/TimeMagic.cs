using System.Diagnostics;
using System.Globalization;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Directives;

namespace Learn.Notebooks.Host;

/// <summary>
/// <c>#!time</c>: after the cell, a <c>text/plain</c> display <c>Wall time: 219.5924ms</c>, as the dotnet-interactive
/// tool shows it in Polyglot and Jupyter. The tool defines this magic in Microsoft.DotNet.Interactive.Jupyter,
/// which the package source does not serve (only the libraries Microsoft.DotNet.Interactive, .CSharp,
/// .PackageManagement, ... are), so the runner defines it with the kernel's public directive API.
/// </summary>
internal static class TimeMagic
{
    public static void Add(Microsoft.DotNet.Interactive.Kernel kernel) =>
        kernel.AddDirective(new KernelActionDirective("#!time", "Time the execution of the current submission"), (_, context) =>
        {
            var watch = Stopwatch.StartNew();
            context.OnComplete(c =>
                KernelInvocationContextExtensions.Display(c, string.Create(CultureInfo.InvariantCulture, $"Wall time: {watch.Elapsed.TotalMilliseconds}ms"), "text/plain"));
            return Task.CompletedTask;
        });
}
