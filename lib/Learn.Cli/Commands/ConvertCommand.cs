using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Models;

namespace Learn.Cli.Commands;

/// <summary><c>learn convert</c>: a checkpoint to safetensors, through the loader <c>learn osnet</c> uses.</summary>
internal static class ConvertCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "convert",
        Summary = "convert a .pth checkpoint to .safetensors (float32), optionally checked strictly against an OSNet variant",
        Description =
            "Reads FILE as learn osnet does (torch.save zip or legacy, or safetensors; nothing in it is executed),\n" +
            "normalises it (a nested 'state_dict' unwrapped, 'module.' prefixes stripped, num_batches_tracked dropped)\n" +
            "and writes the tensors as float32 safetensors in the checkpoint's order, with metadata format=pt.\n" +
            "With --variant, the names and shapes must match that variant exactly, or the missing, unexpected and\n" +
            "mis-shaped tensors are listed on stderr and nothing is written. The output appears whole or not at all.",
        Arguments =
        [
            new("FILE", "the checkpoint (.pth/.pt or .safetensors)"),
            new("OUT.safetensors", "where to write"),
        ],
        Options =
        [
            OSNetWeights.VariantOption with { Required = false, Description = "check against this variant: " + OSNetWeights.VariantOption.Description },
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        string? variant = args.Has("--variant") ? OSNetWeights.Variant(args) : null;
        string file = args.Argument("FILE")!, output = args.Argument("OUT.safetensors")!;
        TensorFiles.CheckOutput(output, file);
        StateDict stateDict = OSNetWeights.Load(file);
        if (variant is not null)
        {
            OSNet model = OSNetWeights.Build(variant, stateDict);
            var expected = model.NamedTensors().Select(p => new TensorSpec(p.Key, p.Value.Shape));
            StateDictMatch match = StateDictMatch.Compare(expected, stateDict, file);
            if (!match.IsExact)
            {
                OSNetWeights.WriteMismatch(context, file, variant, match);
                return ExitCode.DataFailure;
            }
        }

        try
        {
            SafeTensors.Write(output, stateDict, new Dictionary<string, string> { ["format"] = "pt" });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliError.Failure(output, $"cannot write: {Cli.OneLine(e)}");
        }

        context.Out.WriteLine($"{output}: {stateDict.Count} tensors{(variant is null ? "" : $", all of {variant}")}");
        return ExitCode.Ok;
    }
}
