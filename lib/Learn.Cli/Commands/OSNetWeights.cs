using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Models;

namespace Learn.Cli.Commands;

/// <summary>What the OSNet verbs share: the --variant option, reading a checkpoint, and the state_dict mismatch report.</summary>
internal static class OSNetWeights
{
    /// <summary>The <c>--variant NAME</c> option, required.</summary>
    public static OptionSpec VariantOption { get; } =
        new("--variant", "NAME", string.Join("|", OSNet.VariantNames), Required: true);

    /// <summary>The variant named by --variant; an unknown name is a usage error listing the known ones.</summary>
    public static string Variant(ParsedArgs args) =>
        args.Value("--variant", ParsedArgs.Convert.Choice(OSNet.VariantNames.Select(v => (v, v)).ToArray()), "");

    /// <summary>
    /// The normalized state_dict of a torch.save (zip or legacy) or safetensors file, told apart by content:
    /// <c>module.</c> prefixes stripped, <c>num_batches_tracked</c> dropped, nested <c>state_dict</c> unwrapped.
    /// A refused or malformed file throws <see cref="InvalidDataException"/> naming it (one line, exit 1);
    /// nothing in the file is executed.
    /// </summary>
    public static StateDict Load(string path)
    {
        if (Directory.Exists(path))
        {
            throw CliError.Failure(path, "is a folder, expected a checkpoint file");
        }

        if (!File.Exists(path))
        {
            throw CliError.Failure(path, "no such file");
        }

        StateDict stateDict = Checkpoint.Load(path);
        return stateDict.Count > 0 ? stateDict : throw CliError.Failure(path, "holds no tensors");
    }

    /// <summary>
    /// The variant built for <paramref name="stateDict"/>. The classifier's size depends on the training set
    /// (751 for Market-1501, 1000 for ImageNet), so it is taken from the checkpoint's <c>classifier.weight</c>
    /// when that is a [classes, features] matrix, else torchreid's default; the 512-d feature does not use it.
    /// </summary>
    public static OSNet Build(string variant, StateDict stateDict)
    {
        int classes = stateDict.TryGetValue("classifier.weight", out var w) && w.Rank == 2 && w.Size(0) > 0
            ? w.Size(0)
            : OSNet.DefaultNumClasses;
        return OSNet.Create(variant, classes);
    }

    /// <summary>
    /// Writes the mismatch report to stderr: the first line
    /// <c>learn VERB: FILE: state_dict does not match VARIANT: N missing, N unexpected, N mis-shaped</c>, then one
    /// line per name (<see cref="StateDictMatch.Details"/>). The only multi-line error of <c>learn</c>: the list is
    /// what the user needs to fix the checkpoint.
    /// </summary>
    public static void WriteMismatch(CliContext context, string file, string variant, StateDictMatch match)
    {
        context.Error.WriteLine(
            $"{context.CommandPath}: {file}: state_dict does not match {variant}: " +
            $"{match.Missing.Count} missing, {match.Unexpected.Count} unexpected, {match.Mismatched.Count} mis-shaped");
        foreach (string line in match.Details)
        {
            context.Error.WriteLine(line);
        }
    }
}
