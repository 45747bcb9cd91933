using System.Globalization;
using Learn.Analysis;
using Learn.Cli.CommandLine;
using Learn.Models;

namespace Learn.Cli.Commands;

/// <summary><c>learn cost</c>: OSNet's per-layer table of output shape, parameters, MACs and receptive field.</summary>
internal static class CostCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "cost",
        Summary = "per-layer output shape, parameters, multiply-accumulates and receptive field of an OSNet variant",
        Description =
            "A symbolic pass (nothing is computed, no weights needed): one row per module call, parent before\n" +
            "children, then the totals. MACs are those of Conv2d and Linear layers, counted at every call (the shared\n" +
            "channel gate four times per block); parameters are those the eval forward uses (the classifier is not).\n" +
            "This is the OSNet paper's convention: at 256x128, x1_0 2.2M / 978.9M, x0_75 1.3M / 571.8M,\n" +
            "x0_5 0.6M / 272.9M, x0_25 0.2M / 82.3M. The receptive field is an output cell's window on the input\n" +
            "(size and jump, in input pixels; the gate's global pool is left out). --json prints the same as JSON,\n" +
            "with the reduction length K of every row.",
        Options =
        [
            OSNetWeights.VariantOption,
            new("--height", "H", "input height in pixels", Default: "256"),
            new("--width", "W", "input width in pixels", Default: "128"),
            new("--num-classes", "C", "classifier outputs (only the all-parameters total depends on it)", Default: "1000"),
            new("--json", null, "print JSON for machines"),
        ],
        Run = Run,
    };

    /// <summary>2^20 classes: a 2 GiB classifier, far past any label set in use (ImageNet-21k has 21,841).</summary>
    private const int MaxClasses = 1 << 20;

    private static int Run(ParsedArgs args, CliContext context)
    {
        string variant = OSNetWeights.Variant(args);
        int height = args.Value("--height", ParsedArgs.Convert.Int(1), 256);
        int width = args.Value("--width", ParsedArgs.Convert.Int(1), 128);
        int classes = args.Value("--num-classes", ParsedArgs.Convert.Int(1), OSNet.DefaultNumClasses);
        if (classes > MaxClasses)
        {
            // The model is built with its classifier, a [C, 512] float array: bound it before allocating.
            throw CliError.Usage("--num-classes", $"at most {MaxClasses} (the classifier [C, 512] is allocated as C x 512 floats), but got {classes}");
        }

        OSNet model = OSNet.Create(variant, classes);
        CostTable table;
        try
        {
            table = CostTable.For(model, height, width);
        }
        catch (ArgumentException e)
        {
            // A layer's window does not fit (too small), or a layer's output has more elements than one array
            // holds (too large): the message names the layer and says which.
            string fit = e.Message.Contains("more elements than one array can hold", StringComparison.Ordinal) ? "too large" : "too small";
            throw CliError.Failure(null, $"a {height}x{width} input is {fit} for {variant}: {Cli.OneLine(e)}");
        }

        if (args.Has("--json"))
        {
            context.Out.WriteLine(table.ToJson());
        }
        else
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{variant}, input {height}x{width}"));
            context.Out.Write(table.ToText());
        }

        return ExitCode.Ok;
    }
}
