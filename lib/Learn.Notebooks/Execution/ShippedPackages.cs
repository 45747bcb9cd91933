using System.Reflection;

namespace Learn.Notebooks.Execution;

/// <summary>
/// The NuGet packages a notebook may name in <c>#r "nuget: Name, Version"</c>. The runner cannot
/// restore packages (FSharp.DependencyManager is not obtainable), so it ships these and maps the
/// directive to its own copies; any other package is refused with a clear error.
/// </summary>
public static class ShippedPackages
{
    /// <summary>One shipped package: its id, version, and the assemblies a cell compiles against.</summary>
    /// <param name="Name">The NuGet package id.</param>
    /// <param name="Version">The exact version shipped.</param>
    /// <param name="Assemblies">The package's assemblies and the ones its API exposes.</param>
    public sealed record Package(string Name, string Version, IReadOnlyList<Assembly> Assemblies);

    private static readonly Assembly PlotlyNet = typeof(Plotly.NET.GenericChart).Assembly;
    private static readonly Assembly FSharpCore = typeof(Microsoft.FSharp.Core.FSharpOption<>).Assembly;

    /// <summary>The packages, keyed by id (case-insensitive, as NuGet ids are).</summary>
    public static IReadOnlyDictionary<string, Package> All { get; } = new Dictionary<string, Package>(StringComparer.OrdinalIgnoreCase)
    {
        ["Plotly.NET"] = new("Plotly.NET", "6.0.0", [PlotlyNet, FSharpCore]),
        ["Plotly.NET.CSharp"] = new("Plotly.NET.CSharp", "0.14.0", [typeof(Plotly.NET.CSharp.Chart).Assembly, PlotlyNet, FSharpCore]),
        ["MathNet.Numerics"] = new("MathNet.Numerics", "5.0.0", [typeof(MathNet.Numerics.Control).Assembly]),
    };

    /// <summary>"Plotly.NET 6.0.0, Plotly.NET.CSharp 0.14.0, ..." for error messages.</summary>
    public static string Describe() => string.Join(", ", All.Values.Select(p => $"{p.Name} {p.Version}"));
}
