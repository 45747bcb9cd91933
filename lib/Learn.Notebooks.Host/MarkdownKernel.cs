using Learn.Notebooks.Rendering;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace Learn.Notebooks.Host;

/// <summary>
/// The <c>markdown</c> kernel a cell reaches with <c>#!markdown</c>: it shows the cell's text as HTML, as the
/// dotnet-interactive tool's markdown kernel does in Polyglot and Jupyter. That kernel lives in the tool itself, not in
/// the libraries the package source serves, so the runner defines it; the HTML comes from Markdig, as the pages' does.
/// </summary>
internal sealed class MarkdownKernel : Microsoft.DotNet.Interactive.Kernel, IKernelCommandHandler<SubmitCode>
{
    public MarkdownKernel() : base("markdown")
    {
    }

    Task IKernelCommandHandler<SubmitCode>.HandleAsync(SubmitCode command, KernelInvocationContext context)
    {
        string html = Markdig.Markdown.ToHtml(command.Code, MarkdownPipeline.Instance);
        context.Publish(new DisplayedValueProduced(html, command, [new FormattedValue("text/html", html)]));
        return Task.CompletedTask;
    }
}
