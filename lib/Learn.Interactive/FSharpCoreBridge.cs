using System.Reflection;
using System.Runtime.Loader;

namespace Learn.Interactive;

/// <summary>
/// Lets Plotly.NET 6 run in a .NET Interactive kernel. Plotly.NET 6.0.0 (the only version the package source
/// serves) is built against FSharp.Core 10.1; the kernel (tool 1.0.712001) ships FSharp.Core 10.0 and has it
/// loaded for its F# kernel before any cell runs, so the first chart call fails with FileNotFoundException for
/// FSharp.Core 10.1.0.0. A load context cannot hold two FSharp.Core assemblies, so the request is answered with
/// the one already loaded. Measured: every chart of every lesson builds and renders this way (the notebook test
/// runs them all through Jupyter); nothing proves every Plotly.NET code path works against 10.0.
/// </summary>
public static class FSharpCoreBridge
{
    private static int _installed;

    /// <summary>Installs the <see cref="AssemblyLoadContext.Resolving"/> handler once per process.</summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += Resolve;
        }
    }

    /// <summary>The FSharp.Core already loaded, when one of another version is asked for and cannot be found.</summary>
    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        if (!string.Equals(name.Name, "FSharp.Core", StringComparison.Ordinal))
        {
            return null;
        }

        return AppDomain.CurrentDomain.GetAssemblies()
            .FirstOrDefault(a => string.Equals(a.GetName().Name, "FSharp.Core", StringComparison.Ordinal));
    }
}
