using Markdig;

namespace Learn.Notebooks.Rendering;

/// <summary>The one Markdig pipeline used for markdown cells: tables, math, auto-links and friends.</summary>
public static class MarkdownPipeline
{
    /// <summary>
    /// Markdig's advanced extensions (which include <c>UseMathematics</c>: <c>$..$</c> and <c>$$..$$</c>
    /// become <c>span.math</c>/<c>div.math</c> for KaTeX to typeset in the page).
    /// </summary>
    public static Markdig.MarkdownPipeline Instance { get; } = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();
}
