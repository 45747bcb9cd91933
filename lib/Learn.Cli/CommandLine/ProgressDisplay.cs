using Learn.Layers;
using Learn.Tensors;
using Spectre.Console;

namespace Learn.Cli.CommandLine;

/// <summary>
/// A progress bar for long work (Spectre.Console), on stderr, only when stderr is the process's own and a terminal:
/// never in a pipe, a file, a test's writer or CI's log, and never on stdout, where tables and JSON go. It clears
/// itself when the work ends, so what the verb prints afterwards reads as it would without it.
/// </summary>
internal static class ProgressDisplay
{
    /// <summary>True when a progress bar may be drawn for a verb writing to <paramref name="context"/>.</summary>
    public static bool IsShown(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"))
            && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");
    }

    /// <summary>
    /// Runs <paramref name="work"/>, which reports each of its <paramref name="total"/> steps (by name) to the
    /// progress it is given; with no terminal the reports go nowhere.
    /// </summary>
    public static T Run<T>(CliContext context, string title, int total, Func<IProgress<string>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!IsShown(context))
        {
            return work(new Step(null, title));
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(progress => work(new Step(progress.AddTask(Markup.Escape(title), maxValue: Math.Max(total, 1)), title)));
    }

    /// <summary>A spinner with <paramref name="status"/> while <paramref name="work"/> runs (work of unknown length).</summary>
    public static T Spin<T>(CliContext context, string status, Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!IsShown(context))
        {
            return work();
        }

        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Status().Start(Markup.Escape(status), _ => work());
    }

    // One report = one step done; the bar's label shows the step's name.
    private sealed class Step(ProgressTask? task, string title) : IProgress<string>
    {
        public void Report(string value)
        {
            if (task is not null)
            {
                task.Description = Markup.Escape($"{title}: {value}");
                task.Increment(1);
            }
        }
    }
}

/// <summary>Passes each layer output on to <paramref name="inner"/> and reports its name as one step done.</summary>
internal sealed class ProgressSink(IActivationSink inner, IProgress<string> progress) : IActivationSink
{
    /// <inheritdoc/>
    public void Record(string name, int call, Tensor output)
    {
        inner.Record(name, call, output);
        progress.Report(call == 1 ? name : $"{name}@{call}");
    }
}
