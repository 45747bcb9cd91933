using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Nodes;

namespace Learn.Notebooks.Kernel;

/// <summary>
/// The helpers a notebook cell sees without a <c>using</c>: the runner imports this class statically,
/// as the C# kernel imports <c>Microsoft.DotNet.Interactive.Kernel</c>. Only <c>display</c> and
/// <c>HTML</c> are offered; other kernel helpers (<c>GetInputAsync</c>, <c>Kernel.Root</c>, ...)
/// fail to compile, loudly.
/// </summary>
[SuppressMessage("Naming", "CA1708", Justification = "Names match .NET Interactive's Kernel class.")]
public static class NotebookKernel
{
    /// <summary>Displays <paramref name="value"/> with its preferred mime types, or only the ones named.</summary>
    [SuppressMessage("Style", "IDE1006", Justification = "Lower case as in .NET Interactive, so notebooks run unchanged.")]
    public static DisplayedValue display(object? value, params string[] mimeTypes)
    {
        ArgumentNullException.ThrowIfNull(mimeTypes);
        int handle = NotebookOutput.Sink.Display(Formatter.Format(value, mimeTypes));
        return new DisplayedValue(handle, mimeTypes);
    }

    /// <summary>Wraps a string so that displaying it emits it verbatim as <c>text/html</c>.</summary>
    [SuppressMessage("Naming", "CA1707", Justification = "Name matches .NET Interactive.")]
    public static HtmlString HTML(string html) => new(html);

    internal static DisplayedValue DisplayAs(string value, string mimeType)
    {
        int handle = NotebookOutput.Sink.Display(new JsonObject { [mimeType] = Format.PolyglotJson.SplitLines(value) });
        return new DisplayedValue(handle, [mimeType]);
    }
}

/// <summary>A string that is displayed as HTML (returned by <c>HTML("...")</c>).</summary>
/// <param name="Value">The HTML text.</param>
public sealed record HtmlString(string Value)
{
    /// <inheritdoc />
    public override string ToString() => Value;
}
