using System.IO.Pipes;
using System.Text;
using System.Text.Json.Nodes;
using Learn.Notebooks.Execution;
using Learn.Notebooks.Format;

namespace Learn.Notebooks.Host;

/// <summary>
/// The child process side: runs one notebook's code cells in order in the real .NET Interactive C# kernel
/// (<see cref="KernelSession"/>) and reports each cell on the private pipe the parent passed (see
/// <see cref="HostProtocol"/>). It stops at the first failing cell. The parent kills it at the timeout.
/// </summary>
public static class KernelHost
{
    /// <summary>Entry point of Learn.Notebooks.Host: <c>host NOTEBOOK.ipynb PIPE-HANDLE</c>.</summary>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length != 3 || args[0] != HostProtocol.Verb)
        {
            Console.Error.WriteLine("usage: Learn.Notebooks.Host host NOTEBOOK.ipynb PIPE-HANDLE (started by `learn notebooks run`)");
            return 2;
        }

        using var pipe = new AnonymousPipeClientStream(PipeDirection.Out, args[2]);
        using var protocol = new StreamWriter(pipe, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        try
        {
            return RunAsync(Path.GetFullPath(args[1]), protocol).GetAwaiter().GetResult();
        }
        catch (NotebookFormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static async Task<int> RunAsync(string path, StreamWriter protocol)
    {
        var notebook = NotebookJson.Load(path);
        // Polyglot starts the kernel with --working-dir <notebook folder>: relative paths (#r "../x.dll") mean that folder.
        Environment.CurrentDirectory = Path.GetDirectoryName(path)!;
        // The runner's pages load plotly.js once from their own assets folder; the executed copy stays small.
        Learn.Interactive.LessonKernel.InlinePlotlyJs = false;
        using var session = new KernelSession(new CellRecorder());
        await session.WarmUpAsync().ConfigureAwait(false);
        Send(protocol, new JsonObject { ["event"] = "ready" });
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (!cell.IsCode)
            {
                continue;
            }

            Send(protocol, new JsonObject { ["event"] = "start", ["cell"] = i + 1 });
            var outcome = await session.RunAsync(cell.Source, i + 1).ConfigureAwait(false);
            Send(protocol, new JsonObject
            {
                ["cell"] = i + 1,
                ["event"] = "done",
                ["failed"] = outcome.Failed,
                ["line"] = outcome.Line,
                ["message"] = outcome.Message,
                ["outputs"] = new JsonArray(outcome.Outputs.Select(o => (JsonNode)o).ToArray()),
            });
            if (outcome.Failed)
            {
                return 1;
            }
        }

        return 0;
    }

    private static void Send(StreamWriter protocol, JsonObject message) => protocol.WriteLine(message.ToJsonString());
}
