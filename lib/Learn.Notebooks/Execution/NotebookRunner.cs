using System.Diagnostics;
using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Learn.Notebooks.Format;

namespace Learn.Notebooks.Execution;

/// <summary>
/// Executes a notebook in a child process (Learn.Notebooks.Host) and builds the executed copy. A
/// CPU-bound cell cannot be cancelled inside a process (Roslyn only observes cancellation between
/// submissions), so the runner kills the child when a cell runs past the timeout.
/// </summary>
public static class NotebookRunner
{
    /// <summary>The tag the failing cell of an executed copy carries (papermill marks it the same way).</summary>
    public const string ErrorTag = "learn-error";

    /// <summary>How long the child may take to start and warm up the kernel before the first cell.</summary>
    public static TimeSpan StartupTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Runs <paramref name="notebook"/> (read from <paramref name="path"/>), stopping at the first failing cell.</summary>
    /// <param name="path">The notebook file; its folder is the cells' working directory.</param>
    /// <param name="notebook">The notebook as read (not modified).</param>
    /// <param name="cellTimeout">The longest one cell may run.</param>
    /// <param name="progress">Receives one line per cell ("cell 3 ok"), or null.</param>
    public static NotebookRunResult Run(string path, Notebook notebook, TimeSpan cellTimeout, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(notebook);
        var executed = notebook.Clone();
        foreach (var cell in executed.Cells.Where(c => c.IsCode))
        {
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
        }

        // The host reports on a pipe of its own, not on its stdout: a cell can write anything to the real stdout
        // (Console.OpenStandardOutput) but cannot reach this pipe, so it cannot forge a cell's end.
        using var channel = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.Inheritable);
        using var process = StartHost(path, channel.GetClientHandleAsString());
        channel.DisposeLocalCopyOfClientHandle();
        using var channelReader = new StreamReader(channel, System.Text.Encoding.UTF8);
        var lines = Channel.CreateUnbounded<string?>();
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        // Whatever reaches the host's raw stdout bypassed the cell's captured Console: drained and dropped.
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var reader = Task.Run(async () =>
        {
            while (await channelReader.ReadLineAsync().ConfigureAwait(false) is string line)
            {
                await lines.Writer.WriteAsync(line).ConfigureAwait(false);
            }

            lines.Writer.Complete();
        });

        int executionCount = 0;
        int currentCell = 0;
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = StartupTimeout;
        try
        {
            while (true)
            {
                string? line = Next(lines.Reader, limit - deadline.Elapsed, out bool closed);
                if (line is null)
                {
                    // stdout closes a moment before the process exits: wait for it then.
                    bool exited = closed ? process.WaitForExit(StartupTimeout) : process.WaitForExit(0);
                    if (!exited)
                    {
                        // Timed out: the cell is stuck. Kill the whole tree; record the timeout on the cell.
                        process.Kill(entireProcessTree: true);
                        process.WaitForExit();
                        bool running = currentCell > 0 && executed.Cells[currentCell - 1].ExecutionCount is null;
                        if (!running)
                        {
                            string what = currentCell == 0 ? "start" : "exit after the last cell";
                            return Fail(path, executed, 0, 0, $"the notebook host did not {what} within {StartupTimeout.TotalSeconds:0} s", true);
                        }

                        string msg = $"the cell ran longer than the timeout of {cellTimeout.TotalSeconds:0.###} s and was stopped";
                        var timedOut = executed.Cells[currentCell - 1];
                        timedOut.ExecutionCount = ++executionCount;
                        timedOut.Outputs.Add(CellRecorder.ErrorOutput($"Timeout: {msg}"));
                        progress?.Invoke($"cell {currentCell} timed out");
                        return Fail(path, executed, currentCell, 0, msg, true);
                    }

                    process.WaitForExit();
                    string err;
                    lock (stderr)
                    {
                        err = stderr.ToString().Trim();
                    }

                    bool pending = currentCell > 0 && executed.Cells[currentCell - 1].ExecutionCount is null;
                    if (process.ExitCode == 0 && !pending)
                    {
                        break;
                    }

                    // The host died (or refused the notebook) without reporting a cell's end.
                    string why = err.Length > 0 ? err.Split('\n')[0].Trim() : $"the notebook host exited with code {process.ExitCode}";
                    if (pending)
                    {
                        var crashed = executed.Cells[currentCell - 1];
                        crashed.ExecutionCount = ++executionCount;
                        why = $"the notebook host stopped during this cell: {why}";
                        crashed.Outputs.Add(CellRecorder.ErrorOutput(why));
                    }

                    return Fail(path, executed, pending ? currentCell : 0, 0, why, false);
                }

                JsonObject message;
                try
                {
                    message = JsonNode.Parse(line) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
                }
                catch (System.Text.Json.JsonException)
                {
                    return Fail(path, executed, 0, 0, "the notebook host sent an unreadable message", false);
                }

                switch ((string?)message["event"])
                {
                    case "ready":
                        break;
                    case "start":
                        currentCell = (int)message["cell"]!;
                        deadline.Restart();
                        limit = cellTimeout;
                        break;
                    case "done":
                        var cell = executed.Cells[currentCell - 1];
                        cell.ExecutionCount = ++executionCount;
                        cell.Outputs.AddRange(message["outputs"]!.AsArray().Select(o => (JsonObject)o!.DeepClone()));
                        if ((bool)message["failed"]!)
                        {
                            progress?.Invoke($"cell {currentCell} failed");
                            return Fail(path, executed, currentCell, (int)message["line"]!, (string?)message["message"] ?? "failed", false);
                        }

                        progress?.Invoke($"cell {currentCell} ok ({deadline.Elapsed.TotalSeconds:0.0} s)");
                        // Between cells (and after the last) the host is not running user code.
                        deadline.Restart();
                        limit = StartupTimeout;
                        break;
                    default:
                        return Fail(path, executed, 0, 0, "the notebook host sent an unexpected message", false);
                }
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            reader.Wait(TimeSpan.FromSeconds(5));
        }

        return new NotebookRunResult(path, executed, true, 0, 0, null, false);
    }

    private static string? Next(ChannelReader<string?> reader, TimeSpan wait, out bool closed)
    {
        closed = false;
        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }

        try
        {
            using var cts = new CancellationTokenSource(wait);
            return reader.ReadAsync(cts.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            closed = true;
            return null;
        }
    }

    private static NotebookRunResult Fail(string path, Notebook executed, int cell, int line, string message, bool timedOut)
    {
        if (cell > 0)
        {
            var failed = executed.Cells[cell - 1];
            var tags = failed.Metadata["tags"] as JsonArray ?? [];
            if (!tags.Any(t => (string?)t == ErrorTag))
            {
                tags.Add(ErrorTag);
            }

            failed.Metadata["tags"] = tags;
        }

        executed.Metadata["learn"] = new JsonObject
        {
            ["error"] = new JsonObject { ["cell"] = cell, ["line"] = line, ["message"] = message, ["timed_out"] = timedOut },
        };
        return new NotebookRunResult(path, executed, false, cell, line, message, timedOut);
    }

    private static Process StartHost(string path, string channelHandle)
    {
        string host = Path.Combine(AppContext.BaseDirectory, HostProtocol.HostAssembly);
        if (!File.Exists(host))
        {
            throw new FileNotFoundException($"the notebook host {host} is missing: build lib/Learn.Notebooks.Host (reference it from the app that runs notebooks)", host);
        }

        var psi = new ProcessStartInfo(DotnetMuxer())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!,
        };
        psi.ArgumentList.Add("exec");
        string config = Path.ChangeExtension(host, ".runtimeconfig.json");
        if (!File.Exists(config))
        {
            config = FallbackRuntimeConfig();
        }

        psi.ArgumentList.Add("--runtimeconfig");
        psi.ArgumentList.Add(config);
        psi.ArgumentList.Add(host);
        psi.ArgumentList.Add(HostProtocol.Verb);
        psi.ArgumentList.Add(Path.GetFullPath(path));
        psi.ArgumentList.Add(channelHandle);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the notebook host");
        process.StandardInput.Close();
        return process;
    }

    /// <summary>The <c>dotnet</c> executable that runs this process's runtime.</summary>
    private static string DotnetMuxer()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ -> <root>/dotnet
        string exe = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        string candidate = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", exe));
        return File.Exists(candidate) ? candidate : exe;
    }

    private static string FallbackRuntimeConfig()
    {
        string version = Environment.Version.ToString(3);
        string file = Path.Combine(Path.GetTempPath(), $"learn-notebooks-host-{version}.runtimeconfig.json");
        if (!File.Exists(file))
        {
            AtomicFile.WriteAllText(file,
                $"{{\"runtimeOptions\":{{\"tfm\":\"net10.0\",\"framework\":{{\"name\":\"Microsoft.NETCore.App\",\"version\":\"{version}\"}},\"configProperties\":{{\"System.Globalization.Invariant\":true}}}}}}\n");
        }

        return file;
    }
}
