using System.Reflection;
using Learn.Tensors;
using Microsoft.DotNet.Interactive.Formatting;

namespace Learn.Interactive;

/// <summary>
/// The one call a lesson's setup cell makes after <c>#r</c>-ing this assembly:
/// <c>Learn.Interactive.LessonKernel.Use();</c>. It bridges FSharp.Core for Plotly.NET 6 and registers the
/// formatters that show Learn tensors as tables and Plotly.NET charts as charts, in whichever .NET Interactive
/// kernel runs the notebook (Polyglot in VS Code, Jupyter's .net-csharp kernel, or the runner's child process).
/// Calling it again does nothing.
/// </summary>
public static class LessonKernel
{
    private static readonly Lock Gate = new();
    private static bool _used;
    private static bool _chartsRegistered;
    private static int _charts;
    private static bool _plotlyJsSent;

    /// <summary>
    /// Whether the first chart of the session carries plotly.js inline (about 3.6 MB of HTML, once) so that the
    /// charts draw with no network in Jupyter and VS Code. The runner turns it off: its pages load plotly.js once
    /// from their own assets folder.
    /// </summary>
    public static bool InlinePlotlyJs { get; set; } = true;

    /// <summary>Installs the FSharp.Core bridge and the formatters (once per process).</summary>
    public static void Use()
    {
        lock (Gate)
        {
            if (_used)
            {
                return;
            }

            _used = true;
        }

        FSharpCoreBridge.Install();
        Formatter.Register<Tensor>((t, w) => w.Write(TensorView.Html(t)), "text/html");
        Formatter.Register<Tensor>((t, w) => w.Write(TensorView.Text(t)), "text/plain");
        Formatter.SetPreferredMimeTypesFor(typeof(Tensor), "text/html", "text/plain");

        // Plotly.NET arrives later (the lesson's #r "nuget:"), or never: its types are touched only once it is loaded,
        // and only after the bridge is in place.
        AppDomain.CurrentDomain.AssemblyLoad += (_, e) =>
        {
            if (IsPlotly(e.LoadedAssembly))
            {
                RegisterCharts();
            }
        };
        if (AppDomain.CurrentDomain.GetAssemblies().Any(IsPlotly))
        {
            RegisterCharts();
        }
    }

    private static bool IsPlotly(Assembly a) => string.Equals(a.GetName().Name, "Plotly.NET", StringComparison.Ordinal);

    private static void RegisterCharts()
    {
        lock (Gate)
        {
            if (_chartsRegistered)
            {
                return;
            }

            _chartsRegistered = true;
        }

        ChartFormatters.Register();
    }

    /// <summary>The next chart id: stable from run to run of the same notebook.</summary>
    internal static string NextChartId() => $"learn-chart-{Interlocked.Increment(ref _charts)}";

    /// <summary>True once per process, for the first chart when <see cref="InlinePlotlyJs"/> is set.</summary>
    internal static bool TakePlotlyJs()
    {
        lock (Gate)
        {
            if (!InlinePlotlyJs || _plotlyJsSent)
            {
                return false;
            }

            _plotlyJsSent = true;
            return true;
        }
    }
}

/// <summary>The chart formatters, in their own class so that nothing touches Plotly.NET before it is loaded.</summary>
internal static class ChartFormatters
{
    public static void Register()
    {
        Formatter.Register<Plotly.NET.GenericChart>((chart, w) => w.Write(ChartView.FigureJson(chart)), ChartView.PlotlyMime);
        Formatter.Register<Plotly.NET.GenericChart>((chart, w) =>
        {
            if (LessonKernel.TakePlotlyJs())
            {
                w.Write(ChartView.PlotlyScript());
            }

            w.Write(ChartView.Html(chart, LessonKernel.NextChartId()));
        }, "text/html");
        Formatter.SetPreferredMimeTypesFor(typeof(Plotly.NET.GenericChart), ChartView.PlotlyMime, "text/html");
    }
}
