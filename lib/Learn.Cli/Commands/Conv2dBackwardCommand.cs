using System.Text;
using System.Text.RegularExpressions;
using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn conv2d-backward</c>: dL/dx, dL/dw and dL/db of <c>y = conv2d(x, w, b)</c> from dL/dy on .npy files,
/// what PyTorch autograd computes for <c>nn.Conv2d</c>.
/// </summary>
internal static partial class Conv2dBackwardCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "conv2d-backward",
        Summary = "gradients of a 2-D convolution (dL/dx, dL/dw, dL/db from dL/dy), as PyTorch autograd computes them",
        Description =
            "Reads the forward's input and weight and the gradient of the loss with respect to its output, checks every\n" +
            "argument as conv2d does and that G has the output's shape, and writes the gradients as float32. Either\n" +
            "every output file is written, whole, or none is.\n" +
            "Example: learn conv2d-backward --input x.npy --weight w.npy --grad-output g.npy --stride 2 --padding 1\n" +
            "         --grad-input gx.npy --grad-weight gw.npy",
        Options =
        [
            new("--input", "X.npy", "the forward's input [N, C_in, H, W] or unbatched [C_in, H, W]", Required: true),
            new("--weight", "W.npy", "the forward's weight [C_out, C_in/groups, kh, kw]", Required: true),
            new("--grad-output", "G.npy", "dL/dy, shaped like the forward's output", Required: true),
            new("--bias", null, "the forward had a bias (dL/db does not depend on its value); needs --grad-bias"),
            new("--stride", "s|sh,sw", "step between outputs, >= 1", Default: "1"),
            new("--padding", "p|ph,pw|same|valid", "cells added on both sides, or same (stride 1 only) / valid", Default: "0"),
            new("--padding-mode", "zeros|reflect|replicate|circular", "what the padding reads", Default: "zeros"),
            new("--dilation", "d|dh,dw", "spacing between kernel taps, >= 1", Default: "1"),
            new("--groups", "g", "channel groups; g = C_in is depthwise", Default: "1"),
            new("--impl", "naive|fast", "implementation: the reference loops or the fast path", Default: "naive"),
            new("--grad-input", "GX.npy", "where to write dL/dx", Required: true),
            new("--grad-weight", "GW.npy", "where to write dL/dw", Required: true),
            new("--grad-bias", "GB.npy", "where to write dL/db (with --bias)"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        // Every argument is checked before any file is read, and every file before anything is written.
        int[] stride = args.Value("--stride", Conv2dCommand.IntPair(1), [1]);
        Padding padding = args.Value("--padding", Conv2dCommand.ParsePadding, Padding.Valid);
        PaddingMode mode = args.Value("--padding-mode", ParsedArgs.Convert.Choice(
            ("zeros", PaddingMode.Zeros), ("reflect", PaddingMode.Reflect),
            ("replicate", PaddingMode.Replicate), ("circular", PaddingMode.Circular)), PaddingMode.Zeros);
        int[] dilation = args.Value("--dilation", Conv2dCommand.IntPair(1), [1]);
        int groups = args.Value("--groups", ParsedArgs.Convert.Int(1), 1);
        Implementation impl = args.Value("--impl", ParsedArgs.Convert.Choice(
            ("naive", Implementation.Naive), ("fast", Implementation.Fast)), Implementation.Naive);
        if (padding.Kind == "same" && stride.Any(s => s != 1))
        {
            throw CliError.Usage("--padding", $"'same' needs stride 1 (PyTorch refuses it for strided convolutions), but --stride is {string.Join(",", stride)}");
        }

        bool bias = args.Has("--bias");
        string? gradBiasPath = args.Text("--grad-bias");
        if (bias && gradBiasPath is null)
        {
            throw CliError.Usage("--bias", "needs --grad-bias GB.npy to say where dL/db goes");
        }

        if (!bias && gradBiasPath is not null)
        {
            throw CliError.Usage("--grad-bias", "needs --bias (only a forward with a bias has dL/db)");
        }

        var outputs = new List<(string Option, string Path)>
        {
            ("--grad-input", args.Required("--grad-input")),
            ("--grad-weight", args.Required("--grad-weight")),
        };
        if (gradBiasPath is not null)
        {
            outputs.Add(("--grad-bias", gradBiasPath));
        }

        foreach ((string option, string path) in outputs)
        {
            TensorFiles.CheckOutput(path);
            var same = outputs.FirstOrDefault(o => o.Option != option && Path.GetFullPath(o.Path) == Path.GetFullPath(path));
            if (same.Path is not null)
            {
                throw CliError.Usage(option, $"'{path}' is also given to {same.Option}; each gradient needs its own file");
            }
        }

        string inputPath = args.Required("--input"), weightPath = args.Required("--weight"), gradPath = args.Required("--grad-output");
        Tensor x = TensorFiles.Read(inputPath);
        Tensor w = TensorFiles.Read(weightPath);
        Tensor g = TensorFiles.Read(gradPath);
        string dtype = StoredDtype(inputPath);
        foreach ((string option, string path) in new[] { ("--weight", weightPath), ("--grad-output", gradPath) })
        {
            string other = StoredDtype(path);
            if (other != dtype)
            {
                throw CliError.Failure(path, $"{option} is {other} but --input is {dtype}; autograd needs one dtype for all three");
            }
        }

        var options = new ConvOptions { Stride = stride, Padding = padding, PaddingMode = mode, Dilation = dilation, Groups = groups };
        ConvGradients grads;
        try
        {
            grads = ConvBackward.Conv2d(x, w, g, bias, options, impl);
        }
        catch (NotSupportedException e) when (impl != Implementation.Naive)
        {
            throw CliError.Usage("--impl", $"'{args.Text("--impl")}' does not support this convolution: {Cli.OneLine(e)}");
        }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            // The library refuses what PyTorch refuses, with the numbers; a G of the wrong shape names both shapes.
            throw CliError.Failure(null, Cli.OneLine(e));
        }

        var results = new List<(string Path, Tensor Tensor)> { (outputs[0].Path, grads.Input), (outputs[1].Path, grads.Weight) };
        if (grads.Bias is not null)
        {
            results.Add((outputs[2].Path, grads.Bias));
        }

        WriteAllOrNothing(results);
        foreach ((string path, Tensor t) in results)
        {
            context.Out.WriteLine($"{path}: {t.ShapeString}");
        }

        return ExitCode.Ok;
    }

    /// <summary>
    /// Writes every tensor to a temporary file beside its destination, then moves them all into place: a failed
    /// write leaves no new file behind (each destination keeps what it had).
    /// </summary>
    private static void WriteAllOrNothing(List<(string Path, Tensor Tensor)> results)
    {
        var temporaries = new List<(string Temporary, string Path)>();
        try
        {
            foreach ((string path, Tensor tensor) in results)
            {
                string temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
                temporaries.Add((temporary, path));
                File.WriteAllBytes(temporary, Npy.Serialize(tensor));
            }

            foreach ((string temporary, string path) in temporaries)
            {
                File.Move(temporary, path, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            foreach ((string temporary, _) in temporaries)
            {
                File.Delete(temporary);
            }

            throw CliError.Failure(temporaries.Count > 0 ? temporaries[^1].Path : null, $"cannot write: {Cli.OneLine(e)}");
        }
    }

    /// <summary>
    /// The dtype an .npy file stores (float32 or float64; <see cref="Npy.Read"/> has already validated the header
    /// and converts float64 to float32, so the stored type is read back from the header here).
    /// </summary>
    private static string StoredDtype(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var head = new byte[(int)Math.Min(stream.Length, 4096)];
        stream.ReadExactly(head);
        Match m = DescrPattern().Match(Encoding.Latin1.GetString(head));
        return m.Success && m.Groups[1].Value == "f8" ? "float64" : "float32";
    }

    [GeneratedRegex(@"'descr'\s*:\s*'[<|]?(f4|f8)'")]
    private static partial Regex DescrPattern();
}
