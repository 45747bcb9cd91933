using System.Globalization;
using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace Learn.Lessons;

/// <summary>One position of the sliding window: the output cell, the products of the taps and their sum.</summary>
/// <param name="Row">Output row.</param>
/// <param name="Column">Output column.</param>
/// <param name="Products">Kernel tap (a, b) times the (padded) input value under it.</param>
/// <param name="Sum">The sum of the products: the output value the library computed.</param>
public sealed record SlidingStep(int Row, int Column, double[,] Products, double Sum);

/// <summary>A sliding-window picture and the numbers it shows, all computed by the library and checked.</summary>
public sealed class SlidingWindowPicture
{
    internal SlidingWindowPicture(GenericChart chart, Tensor output, IReadOnlyList<SlidingStep> steps, double[,] padded)
    {
        Chart = chart;
        Output = output;
        Steps = steps;
        PaddedInput = padded;
    }

    /// <summary>The chart: padded input with the window, the kernel's weights, the products, the output so far; one slider step per output.</summary>
    public GenericChart Chart { get; }

    /// <summary>The output of <see cref="Conv.Conv2d"/> for the picture's input, weight and options.</summary>
    public Tensor Output { get; }

    /// <summary>One step per output value, in row-major order.</summary>
    public IReadOnlyList<SlidingStep> Steps { get; }

    /// <summary>The input after padding, as the kernel reads it (the padding cells hold what the padding mode puts there).</summary>
    public double[,] PaddedInput { get; }
}

/// <summary>
/// The sliding-window picture of a single-channel 2-D convolution (lessons 1 and 4): four panels side by side,
/// one cell per unit on integer-ticked axes, square cells of one size in every panel. Padding cells are grey.
/// Input and output share one fixed colour scale over all steps; the products have their own fixed, symmetric one.
/// The numbers come from <see cref="Conv.Conv2d"/>; building the picture checks that each output is the sum of its
/// products (within <see cref="Tolerance.ForReduction"/> of the tap count) and that the output size is PyTorch's
/// formula floor((n + 2p - d(k - 1) - 1) / s) + 1.
/// </summary>
public static class SlidingWindow
{
    /// <summary>Builds the picture for input [1, 1, H, W] and weight [1, 1, kh, kw] with symmetric padding, stride and dilation.</summary>
    public static SlidingWindowPicture Build(Tensor input, Tensor weight, int padding, int stride, int dilation = 1,
        PaddingMode mode = PaddingMode.Zeros, string title = "A kernel sliding over its input")
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (input.Rank != 4 || input.Size(0) != 1 || input.Size(1) != 1 || weight.Rank != 4 || weight.Size(0) != 1 || weight.Size(1) != 1)
        {
            throw new ArgumentException($"expected input [1, 1, H, W] and weight [1, 1, kh, kw], got {input.ShapeString} and {weight.ShapeString}");
        }

        int h = input.Size(2), w = input.Size(3), kh = weight.Size(2), kw = weight.Size(3);
        var options = new ConvOptions { Padding = Learn.Ops.Padding.Of(padding), Stride = [stride], Dilation = [dilation], PaddingMode = mode };
        var output = Conv.Conv2d(input, weight, null, options);
        int outH = output.Size(2), outW = output.Size(3);
        if (outH != OutputSize(h, kh, padding, stride, dilation) || outW != OutputSize(w, kw, padding, stride, dilation))
        {
            throw new InvalidOperationException($"output {output.ShapeString} is not the size PyTorch's formula gives");
        }

        int ph = h + 2 * padding, pw = w + 2 * padding;
        var padded = new double[ph, pw];
        for (int i = 0; i < ph; i++)
        {
            for (int j = 0; j < pw; j++)
            {
                int si = PaddingModes.SourceIndex(i - padding, h, mode), sj = PaddingModes.SourceIndex(j - padding, w, mode);
                padded[i, j] = si < 0 || sj < 0 ? 0 : input[0, 0, si, sj];
            }
        }

        var steps = new List<SlidingStep>();
        var tolerance = Tolerance.ForReduction((long)kh * kw);
        for (int r = 0; r < outH; r++)
        {
            for (int c = 0; c < outW; c++)
            {
                var products = new double[kh, kw];
                double sum = 0;
                for (int a = 0; a < kh; a++)
                {
                    for (int b = 0; b < kw; b++)
                    {
                        products[a, b] = padded[r * stride + a * dilation, c * stride + b * dilation] * weight[0, 0, a, b];
                        sum += products[a, b];
                    }
                }

                if (!tolerance.Accepts(output[0, 0, r, c], sum))
                {
                    throw new InvalidOperationException($"output ({r}, {c}) = {output[0, 0, r, c]} is not the sum of its products {sum}");
                }

                steps.Add(new SlidingStep(r, c, products, sum));
            }
        }

        var chart = Draw(padded, padding, h, w, weight, output, steps, stride, dilation, title);
        return new SlidingWindowPicture(chart, output, steps, padded);
    }

    /// <summary>PyTorch's output size along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1.</summary>
    public static int OutputSize(int n, int k, int p, int s, int d) => (int)Math.Floor((n + 2.0 * p - d * (k - 1) - 1) / s) + 1;

    private static GenericChart Draw(double[,] padded, int padding, int h, int w, Tensor weight, Tensor output,
        List<SlidingStep> steps, int stride, int dilation, string title)
    {
        int ph = padded.GetLength(0), pw = padded.GetLength(1), kh = weight.Size(2), kw = weight.Size(3);
        int outH = output.Size(2), outW = output.Size(3);
        double dataMin = Math.Min(MinOf(padded), output.Data.Min()), dataMax = Math.Max(MaxOf(padded), output.Data.Max());
        double productMax = steps.SelectMany(s => s.Products.Cast<double>()).Select(Math.Abs).DefaultIfEmpty(1).Max();
        double weightMax = weight.Data.Select(v => Math.Abs((double)v)).Max();

        // Panel widths in cells, so that a cell has the same size in every panel.
        int[] widths = [pw, kw, kw, outW];
        double gap = 2.6, total = widths.Sum() + gap * (widths.Length - 1);
        var domains = new (double From, double To)[widths.Length];
        double at = 0;
        for (int p = 0; p < widths.Length; p++)
        {
            domains[p] = (at / total, (at + widths[p]) / total);
            at += widths[p] + gap;
        }

        var traces = new List<(GenericChart Chart, int Panel, int Step)>(); // Step -1: shown at every step
        bool[,] isPad = new bool[ph, pw];
        for (int i = 0; i < ph; i++)
        {
            for (int j = 0; j < pw; j++)
            {
                isPad[i, j] = i < padding || j < padding || i >= h + padding || j >= w + padding;
            }
        }

        traces.Add((Heat(Grid(ph, pw, (i, j) => isPad[i, j] ? 0.0 : null), Grid(ph, pw, (i, j) => isPad[i, j] ? Format(padded[i, j]) : ""),
            PadColours, 0, 1, "#555555"), 0, -1));
        traces.Add((Heat(Grid(ph, pw, (i, j) => isPad[i, j] ? null : padded[i, j]), Grid(ph, pw, (i, j) => isPad[i, j] ? "" : Format(padded[i, j])),
            "Viridis", dataMin, dataMax, null), 0, -1));
        traces.Add((Heat(Grid(kh, kw, (a, b) => weight[0, 0, a, b]), Grid(kh, kw, (a, b) => Format(weight[0, 0, a, b])),
            "RdBu", -weightMax, weightMax, "#000000"), 1, -1));
        for (int t = 0; t < steps.Count; t++)
        {
            var s = steps[t];
            var window = new List<(int Row, int Column)>();
            for (int a = 0; a < kh; a++)
            {
                for (int b = 0; b < kw; b++)
                {
                    window.Add((s.Row * stride + a * dilation, s.Column * stride + b * dilation));
                }
            }

            traces.Add((Outline(window), 0, t));
            traces.Add((Heat(Grid(kh, kw, (a, b) => s.Products[a, b]), Grid(kh, kw, (a, b) => Format(s.Products[a, b])),
                "RdBu", -productMax, productMax, "#000000"), 2, t));
            traces.Add((Heat(Grid(outH, outW, (i, j) => i * outW + j <= t ? output[0, 0, i, j] : null),
                Grid(outH, outW, (i, j) => i * outW + j <= t ? Format(output[0, 0, i, j]) : ""), "Viridis", dataMin, dataMax, null), 3, t));
            traces.Add((Outline([(s.Row, s.Column)]), 3, t));
        }

        foreach (var (chart, panel, step) in traces)
        {
            var trace = GenericChart.getTraces(chart).Single();
            trace.SetProperty("xaxis", panel == 0 ? "x" : $"x{panel + 1}");
            trace.SetProperty("yaxis", panel == 0 ? "y" : $"y{panel + 1}");
            trace.SetProperty("visible", step < 0 || step == 0);
        }

        var combined = GenericChart.combine(traces.Select(t => t.Chart));
        var layout = GenericChart.getLayout(combined);
        string[] panelTitles = ["input (grey: padding)", "kernel weights", "kernel x window", "output"];
        int[] heights = [ph, kh, kh, outH];
        int tallest = heights.Max();
        for (int p = 0; p < widths.Length; p++)
        {
            string suffix = p == 0 ? "" : (p + 1).ToString(CultureInfo.InvariantCulture);
            layout.SetProperty("xaxis" + suffix, new Dictionary<string, object>
            {
                ["domain"] = new[] { domains[p].From, domains[p].To }, ["anchor"] = "y" + suffix,
                ["tickvals"] = Enumerable.Range(0, widths[p]).ToArray(), ["range"] = new[] { -0.5, widths[p] - 0.5 }, ["showgrid"] = false, ["zeroline"] = false,
                ["title"] = new Dictionary<string, object> { ["text"] = "column" },
            });
            // Every panel is as tall as the tallest, top-aligned, so cells stay square and the same size.
            layout.SetProperty("yaxis" + suffix, new Dictionary<string, object>
            {
                ["domain"] = FullDomain, ["anchor"] = "x" + suffix,
                ["tickvals"] = Enumerable.Range(0, heights[p]).ToArray(), ["range"] = new[] { tallest - 0.5, -0.5 }, ["showgrid"] = false, ["zeroline"] = false,
                ["title"] = new Dictionary<string, object> { ["text"] = p == 0 ? "row" : "" },
            });
        }

        var annotations = new List<Dictionary<string, object>> { SumAnnotation(steps[0]) };
        for (int p = 0; p < widths.Length; p++)
        {
            annotations.Add(new Dictionary<string, object>
            {
                ["text"] = panelTitles[p], ["xref"] = "paper", ["yref"] = "paper", ["x"] = (domains[p].From + domains[p].To) / 2,
                ["y"] = 1.0, ["yanchor"] = "bottom", ["showarrow"] = false, ["font"] = new Dictionary<string, object> { ["size"] = 13 },
            });
        }

        layout.SetProperty("annotations", annotations);
        // Cells of up to 46 px, fewer when the panels would not fit the page's 980 px column.
        int cell = (int)Math.Min(46, Math.Floor(820 / total));
        int plotWidth = (int)Math.Round(total * cell), plotHeight = tallest * cell;
        layout.SetProperty("width", plotWidth + 120);
        layout.SetProperty("height", plotHeight + 250);
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 60, ["r"] = 60, ["t"] = 90, ["b"] = 160 });
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = title, ["x"] = 0.02 });
        layout.SetProperty("showlegend", false);
        layout.SetProperty("plot_bgcolor", "white");

        var sliderSteps = Enumerable.Range(0, steps.Count).Select(t => new Dictionary<string, object>
        {
            ["method"] = "update",
            ["label"] = $"({steps[t].Row},{steps[t].Column})",
            ["args"] = new object[]
            {
                new Dictionary<string, object> { ["visible"] = traces.Select(tr => tr.Step < 0 || tr.Step == t).ToArray() },
                new Dictionary<string, object> { ["annotations[0].text"] = SumAnnotation(steps[t])["text"] },
            },
        }).ToArray();
        layout.SetProperty("sliders", new[]
        {
            new Dictionary<string, object>
            {
                ["steps"] = sliderSteps, ["active"] = 0,
                ["pad"] = new Dictionary<string, object> { ["t"] = 55 },
                ["currentvalue"] = new Dictionary<string, object> { ["prefix"] = "output position (row, column): " },
            },
        });
        return combined;
    }

    private static Dictionary<string, object> SumAnnotation(SlidingStep s)
    {
        var terms = s.Products.Cast<double>().Select(Format).Select(t => t.StartsWith('-') ? $"({t})" : t);
        return new Dictionary<string, object>
        {
            ["text"] = $"y[{s.Row},{s.Column}] = {string.Join(" + ", terms)} = {Format(s.Sum)}",
            ["xref"] = "paper", ["yref"] = "paper", ["x"] = 0, ["xanchor"] = "left", ["y"] = 1.0, ["yanchor"] = "bottom", ["yshift"] = 24,
            ["showarrow"] = false, ["font"] = new Dictionary<string, object> { ["size"] = 12 },
        };
    }

    private static readonly object[][] PadColours = [[0, "#d9d9d9"], [1, "#d9d9d9"]];

    private static readonly double[] Origin = [0.0];

    private static readonly double[] FullDomain = [0.0, 1.0];

    private static GenericChart Heat(double?[][] z, string[][] text, object colorscale, double zmin, double zmax, string? textColor)
    {
        var chart = CSharpChart.Heatmap<double, int, int, string>(z.Select(r => r.Select(v => v ?? 0).ToArray()).ToArray(), ShowScale: false);
        var trace = GenericChart.getTraces(chart).Single();
        trace.SetProperty("z", z);
        trace.SetProperty("text", text);
        trace.SetProperty("texttemplate", "%{text}");
        trace.SetProperty("colorscale", colorscale);
        trace.SetProperty("zmin", zmin);
        trace.SetProperty("zmax", zmax);
        trace.SetProperty("hoverinfo", "skip");
        trace.SetProperty("textfont", new Dictionary<string, object> { ["size"] = 11 });
        trace.SetProperty("xgap", 1);
        trace.SetProperty("ygap", 1);
        if (textColor is not null)
        {
            trace.SetProperty("textfont", new Dictionary<string, object> { ["color"] = textColor, ["size"] = 11 });
        }

        return chart;
    }

    // Red squares around the given cells (null coordinates separate them).
    private static GenericChart Outline(IReadOnlyList<(int Row, int Column)> cells)
    {
        var xs = new List<double?>();
        var ys = new List<double?>();
        foreach (var (row, column) in cells)
        {
            xs.AddRange([column - .5, column + .5, column + .5, column - .5, column - .5, null]);
            ys.AddRange([row - .5, row - .5, row + .5, row + .5, row - .5, null]);
        }

        var chart = CSharpChart.Line<double, double, string>(Origin, Origin, LineColor: Color.fromString("red"), LineWidth: 3, ShowLegend: false);
        var trace = GenericChart.getTraces(chart).Single();
        trace.SetProperty("x", xs.ToArray());
        trace.SetProperty("y", ys.ToArray());
        trace.SetProperty("hoverinfo", "skip");
        return chart;
    }

    private static double?[][] Grid(int rows, int columns, Func<int, int, double?> value) =>
        Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, columns).Select(j => value(i, j)).ToArray()).ToArray();

    private static string[][] Grid(int rows, int columns, Func<int, int, string> value) =>
        Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, columns).Select(j => value(i, j)).ToArray()).ToArray();

    // Two decimals; values that round to zero print as 0.00, never -0.00.
    private static string Format(double v) => Math.Abs(v) < 0.005 ? "0.00" : v.ToString("0.00", CultureInfo.InvariantCulture);

    private static double MinOf(double[,] a) => a.Cast<double>().Min();

    private static double MaxOf(double[,] a) => a.Cast<double>().Max();
}
