using System.Reflection;
using Plotly.NET;

namespace Learn.Notebooks.Rendering;

/// <summary>
/// The files every rendered site shares in <c>assets/</c>: plotly.js (once, from the copy Plotly.NET
/// embeds, so charts draw offline), KaTeX (vendored) and the stylesheet.
/// </summary>
public static class SiteAssets
{
    /// <summary>The plotly.js file name, versioned as Plotly.NET bundles it.</summary>
    public static string PlotlyFile => $"plotly-{Globals.PLOTLYJS_VERSION}.min.js";

    /// <summary>Writes the assets into <paramref name="siteDir"/>/assets (skipping files already identical).</summary>
    public static void Write(string siteDir)
    {
        string assets = Path.Combine(siteDir, "assets");
        Directory.CreateDirectory(assets);
        // Plotly.NET embeds plotly.js as a resource; the name is not an API, so a missing one fails loudly.
        var plotlyAsm = typeof(GenericChart).Assembly;
        string resource = $"Plotly.NET.plotly-{Globals.PLOTLYJS_VERSION}.min.js";
        using (var js = plotlyAsm.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Plotly.NET no longer embeds {resource}: update SiteAssets"))
        {
            Copy(js, Path.Combine(assets, PlotlyFile));
        }

        var own = typeof(SiteAssets).Assembly;
        foreach (string name in own.GetManifestResourceNames().Where(n => n.StartsWith("assets/", StringComparison.Ordinal)))
        {
            using var stream = own.GetManifestResourceStream(name)!;
            Copy(stream, Path.Combine(siteDir, name));
        }
    }

    private static void Copy(Stream source, string target)
    {
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        if (File.Exists(target) && File.ReadAllBytes(target).AsSpan().SequenceEqual(bytes))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        string temp = target + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, target, overwrite: true);
    }

    internal static Assembly Own => typeof(SiteAssets).Assembly;
}
