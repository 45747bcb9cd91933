using Learn.Notebooks.Kernel;

// Namespace System, as in .NET Interactive, so x.Display() needs no using in a cell.
#pragma warning disable IDE0130
namespace System;

/// <summary><c>x.Display()</c> and <c>"...".DisplayAs("text/html")</c> for notebook cells.</summary>
public static class LearnNotebookDisplayExtensions
{
    /// <summary>Displays <paramref name="value"/> with its preferred mime types, or only the ones named.</summary>
    public static DisplayedValue Display(this object? value, params string[] mimeTypes) =>
        NotebookKernel.display(value, mimeTypes);

    /// <summary>Displays <paramref name="value"/> verbatim as the single mime type given.</summary>
    public static DisplayedValue DisplayAs(this string value, string mimeType)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentException.ThrowIfNullOrEmpty(mimeType);
        return NotebookKernel.DisplayAs(value, mimeType);
    }
}
