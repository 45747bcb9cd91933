using Learn.Analysis;
using Learn.Cli.CommandLine;
using Learn.Engine;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary><c>learn osnet</c>: torchreid's OSNet in eval mode, from a checkpoint, on an .npy batch.</summary>
internal static class OSNetCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "osnet",
        Summary = "run OSNet (eval mode) from a .pth or .safetensors checkpoint: the 512-d features, optionally every layer",
        Description =
            "Loads the checkpoint without executing anything in it (torch.save zip or legacy format, or safetensors,\n" +
            "told apart by content; a nested 'state_dict' and 'module.' prefixes are handled), checks it strictly\n" +
            "against the variant's state_dict and writes the eval-mode feature (torchreid's forward: the fc output).\n" +
            "On a mismatch it lists every missing, unexpected and mis-shaped tensor on stderr and exits 1; with\n" +
            "--non-strict it prints the same list, loads what matches and runs (the rest keep their defaults:\n" +
            "zero weights, identity BatchNorm). The classifier's size is read from classifier.weight; the feature\n" +
            "does not use it.\n" +
            "--activations DIR writes the input as DIR/input.npy and every module call's output as DIR/<name>.npy\n" +
            "(conv1.conv, conv2.0.gate, conv2.0.gate@2 ... in stream order), and DIR/activations.json listing them in\n" +
            "the order they ran, with their shapes, reduction lengths K and float32 noise (the reference re-run with\n" +
            "simulated rounding: learn diff's tolerance scale); compare a port's dump with it with learn diff. With\n" +
            "--impl fast the layers inside a fused group (conv1.conv, conv1.bn ...) are not materialised and not written.\n" +
            "DIR must be new, empty or an earlier dump (then replaced). Nothing is written unless the whole run\n" +
            "succeeds; the output last.",
        Options =
        [
            OSNetWeights.VariantOption,
            new("--weights", "FILE", "checkpoint: .pth/.pt (torch.save) or .safetensors", Required: true),
            new("--non-strict", null, "load the tensors that match, report the others, and run"),
            new("--input", "X.npy", "images [N, 3, H, W] or one image [3, H, W], normalised as the weights expect", Required: true),
            new("--impl", "naive|fast", "implementation: the reference modules, or the fused execution plan (Learn.Engine.OSNetPlan)", Default: "naive"),
            new("--output", "Y.npy", "where to write the features [N, 512] ([512] for one image)", Required: true),
            new("--activations", "DIR", "also write each layer call's output into DIR (for learn diff)"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        // Arguments first, then every file, then the work; nothing is written before the work succeeded.
        string variant = OSNetWeights.Variant(args);
        Implementation impl = args.Value("--impl", ParsedArgs.Convert.Choice(
            ("naive", Implementation.Naive), ("fast", Implementation.Fast)), Implementation.Naive);
        string output = args.Required("--output");
        TensorFiles.CheckOutput(output, args.Text("--weights"), args.Text("--input"));
        string? activations = args.Text("--activations");
        if (activations is not null)
        {
            CheckActivationFolder(activations);
        }

        string weights = args.Required("--weights");
        StateDict stateDict = OSNetWeights.Load(weights);
        string inputPath = args.Required("--input");
        Tensor x = TensorFiles.Read(inputPath);
        bool unbatched = x.Rank == 3;
        if (x.Rank is not (3 or 4) || x.Size(x.Rank - 3) != 3)
        {
            throw CliError.Failure(inputPath, $"OSNet takes images [N, 3, H, W] or [3, H, W], got {x.ShapeString}");
        }

        if (unbatched)
        {
            x = x.Reshape(1, x.Size(0), x.Size(1), x.Size(2));
        }

        OSNet model = OSNetWeights.Build(variant, stateDict);
        try
        {
            StateDictMatch match = model.LoadStateDict(stateDict, strict: !args.Has("--non-strict"));
            if (!match.IsExact)
            {
                OSNetWeights.WriteMismatch(context, weights, variant, match);
                int expected = match.Matched.Count + match.Missing.Count + match.Mismatched.Count;
                context.Error.WriteLine($"  --non-strict: loaded the {match.Matched.Count} of {expected} tensors that match; the others keep their defaults");
            }
        }
        catch (StateDictMismatchException e) when (e.Match is not null)
        {
            OSNetWeights.WriteMismatch(context, weights, variant, e.Match);
            return ExitCode.DataFailure;
        }

        // The symbolic pass checks that the image is large enough (each layer names itself when it is not)
        // and gives every layer call's reduction length K for the activation index.
        CostTable table;
        try
        {
            table = CostTable.For(model, x.Size(2), x.Size(3), batch: x.Size(0));
        }
        catch (ArgumentException e)
        {
            throw CliError.Failure(inputPath, $"images {x.Size(2)}x{x.Size(3)} are too small for OSNet: {Cli.OneLine(e)}");
        }

        OSNetPlan? plan = impl == Implementation.Fast ? OSNetPlan.Fuse(model) : null;

        string? staging = activations is null ? null : StagingFolder(activations);
        ActivationDirectory? dump = null;
        Tensor y;
        bool finished = false;
        try
        {
            if (staging is null)
            {
                y = plan?.Forward(x) ?? model.Forward(x);
            }
            else
            {
                var reductions = Reductions(table);
                dump = new ActivationDirectory(staging, reduction: (name, call) => reductions.GetValueOrDefault((name, call)));
                // The outputs, the input and each layer's float32 noise; the bar follows the forward's calls.
                y = ProgressDisplay.Run(context, $"{variant} --activations", table.Rows.Count,
                    progress => PortReference.Dump(model, x, dump, new ProgressSink(dump, progress), plan));
            }

            finished = true;
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "impl")
        {
            throw CliError.Usage("--impl", $"'{args.Text("--impl")}' is not available for osnet in this build");
        }
        catch (NotSupportedException e) when (impl != Implementation.Naive)
        {
            throw CliError.Usage("--impl", $"'{args.Text("--impl")}' does not support a layer of {variant}: {Cli.OneLine(e)}");
        }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            // The library refuses what PyTorch refuses, naming the layer (the symbolic pass catches most first).
            throw CliError.Failure(inputPath, Cli.OneLine(e));
        }
        catch (Exception e) when (staging is not null && e is IOException or UnauthorizedAccessException)
        {
            throw CliError.Failure(activations, $"cannot write the activations: {Cli.OneLine(e)}");
        }
        finally
        {
            if (!finished && staging is not null && Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true); // no partial dump
            }
        }

        if (staging is not null)
        {
            Publish(staging, activations!);
            string fused = plan is null ? "" : $" ({plan.Fusions.Count} fused groups: their inner layers are not materialised)";
            context.Out.WriteLine($"{activations}: {dump!.Entries.Count} layer outputs and {ActivationDirectory.IndexFileName}{fused}");
        }

        if (unbatched)
        {
            y = y.Reshape(y.Size(1));
        }

        TensorFiles.Write(output, y);
        context.Out.WriteLine($"{output}: {y.ShapeString}");
        return ExitCode.Ok;
    }

    // K of every module call, keyed by (name, call number): the k-th row of a name is its k-th call.
    private static Dictionary<(string, int), long?> Reductions(CostTable table)
    {
        var calls = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new Dictionary<(string, int), long?>();
        foreach (CostRow row in table.Rows)
        {
            calls[row.Name] = calls.GetValueOrDefault(row.Name) + 1;
            result[(row.Name, calls[row.Name])] = row.Reduction;
        }

        return result;
    }

    /// <summary>The dump folder may be new, empty, or an earlier dump (only .npy files and the index), which is replaced.</summary>
    private static void CheckActivationFolder(string folder)
    {
        if (File.Exists(folder))
        {
            throw CliError.Failure(folder, "is a file, expected a folder for the activations");
        }

        // "ref/" names the folder ref: without the trailing separator, its parent is the parent of ref, not ref itself.
        string? parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        if (parent is not null && !Directory.Exists(parent))
        {
            throw CliError.Failure(folder, $"cannot write: folder '{parent}' does not exist");
        }

        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any() && !IsEarlierDump(folder))
        {
            throw CliError.Failure(folder, $"is not empty and not an earlier activation dump (no {ActivationDirectory.IndexFileName}, or other files); choose a new folder");
        }
    }

    private static bool IsEarlierDump(string folder) =>
        File.Exists(Path.Combine(folder, ActivationDirectory.IndexFileName))
        && !Directory.EnumerateDirectories(folder).Any()
        && Directory.EnumerateFiles(folder).All(f => f.EndsWith(".npy", StringComparison.Ordinal) || Path.GetFileName(f) == ActivationDirectory.IndexFileName);

    // A sibling of the target, so that publishing it is a rename on the same file system.
    private static string StagingFolder(string folder)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }

    // Moves the finished dump into place, replacing an earlier one.
    private static void Publish(string staging, string folder)
    {
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        string? old = Directory.Exists(full) ? full + $".{Guid.NewGuid():N}.old" : null;
        try
        {
            if (old is not null)
            {
                Directory.Move(full, old);
            }

            Directory.Move(staging, full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Directory.Delete(staging, recursive: true);
            if (old is not null && !Directory.Exists(full))
            {
                Directory.Move(old, full);
            }

            throw CliError.Failure(folder, $"cannot write the activations: {Cli.OneLine(e)}");
        }

        if (old is not null)
        {
            Directory.Delete(old, recursive: true);
        }
    }
}
