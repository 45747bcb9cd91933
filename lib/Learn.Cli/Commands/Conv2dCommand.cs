using Learn.Cli.CommandLine;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Cli.Commands;

/// <summary><c>learn conv2d</c>: PyTorch's <c>torch.nn.functional.conv2d</c> (with padding_mode) on .npy files.</summary>
internal static class Conv2dCommand
{
    public static Verb Verb { get; } = new()
    {
        Name = "conv2d",
        Summary = "2-D convolution of .npy tensors with PyTorch's semantics (nn.Conv2d / F.conv2d)",
        Description =
            "Reads the tensors, checks every argument the way PyTorch does, computes the convolution and writes\n" +
            "Y = conv2d(X, W, B) as float32. The output file is written only when everything succeeded, and whole.\n" +
            "Example: learn conv2d --input x.npy --weight w.npy --stride 2,1 --padding 1 --groups 4 --output y.npy",
        Options =
        [
            new("--input", "X.npy", "input [N, C_in, H, W] or unbatched [C_in, H, W]", Required: true),
            new("--weight", "W.npy", "weight [C_out, C_in/groups, kh, kw]", Required: true),
            new("--bias", "B.npy", "bias [C_out]"),
            new("--stride", "s|sh,sw", "step between outputs, >= 1", Default: "1"),
            new("--padding", "p|ph,pw|same|valid", "cells added on both sides, or same (stride 1 only) / valid", Default: "0"),
            new("--padding-mode", "zeros|reflect|replicate|circular", "what the padding reads", Default: "zeros"),
            new("--dilation", "d|dh,dw", "spacing between kernel taps, >= 1", Default: "1"),
            new("--groups", "g", "channel groups; g = C_in is depthwise", Default: "1"),
            new("--impl", "naive|fast", "implementation: the reference loops or the fast path", Default: "naive"),
            new("--kernel", "auto|depthwise|pointwise|indirect|im2col", "with --impl fast: force a kernel (auto picks by shape); the one that ran is printed", Default: "auto"),
            new("--output", "Y.npy", "where to write the result", Required: true),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        // Every argument is checked before any file is read, and every file before anything is written.
        int[] stride = args.Value("--stride", IntPair(1), [1]);
        Padding padding = args.Value("--padding", ParsePadding, Padding.Valid);
        PaddingMode mode = args.Value("--padding-mode", ParsedArgs.Convert.Choice(
            ("zeros", PaddingMode.Zeros), ("reflect", PaddingMode.Reflect),
            ("replicate", PaddingMode.Replicate), ("circular", PaddingMode.Circular)), PaddingMode.Zeros);
        int[] dilation = args.Value("--dilation", IntPair(1), [1]);
        int groups = args.Value("--groups", ParsedArgs.Convert.Int(1), 1);
        Implementation impl = args.Value("--impl", ParsedArgs.Convert.Choice(
            ("naive", Implementation.Naive), ("fast", Implementation.Fast)), Implementation.Naive);
        ConvKernel kernel = args.Value("--kernel", ParsedArgs.Convert.Choice(
            Enum.GetValues<ConvKernel>().Select(k => (k.Name(), k)).ToArray()), ConvKernel.Auto);
        if (kernel != ConvKernel.Auto && impl != Implementation.Fast)
        {
            throw CliError.Usage("--kernel", $"'{args.Text("--kernel")}' names a fast kernel: add --impl fast");
        }

        if (padding.Kind == "same" && stride.Any(s => s != 1))
        {
            throw CliError.Usage("--padding", $"'same' needs stride 1 (PyTorch refuses it for strided convolutions), but --stride is {string.Join(",", stride)}");
        }

        string output = args.Required("--output");
        TensorFiles.CheckOutput(output, args.Text("--input"), args.Text("--weight"), args.Text("--bias"));
        Tensor x = TensorFiles.Read(args.Required("--input"));
        Tensor w = TensorFiles.Read(args.Required("--weight"));
        string? biasPath = args.Text("--bias");
        Tensor? b = biasPath is null ? null : TensorFiles.Read(biasPath);

        var options = new ConvOptions { Stride = stride, Padding = padding, PaddingMode = mode, Dilation = dilation, Groups = groups };
        Tensor y;
        string ran = "";
        try
        {
            if (impl == Implementation.Fast)
            {
                ConvGeometry g = ConvGeometry.Resolve(2, x, w, b, options);
                if (!FastConv.Accepts(kernel, g))
                {
                    throw CliError.Usage("--kernel", $"'{kernel.Name()}' does not compute this convolution; auto would run {FastConv.KernelFor(g)}");
                }

                ConvKernel chosen = kernel == ConvKernel.Auto ? FastConv.Choose(g) : kernel;
                y = FastConv.Conv2d(x, w, b, options, kernel: chosen);
                ran = $" (fast kernel: {chosen.Name()})";
            }
            else
            {
                y = Conv.Conv2d(x, w, b, options, impl);
            }
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "impl")
        {
            throw CliError.Usage("--impl", $"'{args.Text("--impl")}' is not available for conv2d in this build");
        }
        catch (NotSupportedException e) when (impl != Implementation.Naive)
        {
            throw CliError.Usage("--impl", $"'{args.Text("--impl")}' does not support this convolution: {Cli.OneLine(e)}");
        }
        catch (ArgumentException e) when (e is not ArgumentNullException)
        {
            // The library refuses what PyTorch refuses, with PyTorch's message and the numbers.
            throw CliError.Failure(null, Cli.OneLine(e));
        }

        TensorFiles.Write(output, y);
        context.Out.WriteLine($"{output}: {y.ShapeString}{ran}");
        return ExitCode.Ok;
    }

    /// <summary>"a" or "a,b" (height, width), each &gt;= <paramref name="min"/>: the spelling of stride, padding and dilation.</summary>
    internal static Func<string, int[]> IntPair(int min) => text =>
    {
        string[] parts = text.Split(',');
        var values = new int[parts.Length];
        bool ok = parts.Length is 1 or 2;
        for (int i = 0; ok && i < parts.Length; i++)
        {
            ok = int.TryParse(parts[i], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out values[i])
                && values[i] >= min;
        }

        return ok ? values : throw new FormatException($"must be one integer or two as h,w, each >= {min}, but got '{text}'");
    };

    internal static Padding ParsePadding(string text)
    {
        if (text is "same" or "valid")
        {
            return text == "same" ? Padding.Same : Padding.Valid;
        }

        try
        {
            return Padding.Of(IntPair(0)(text));
        }
        catch (FormatException)
        {
            throw new FormatException($"must be same, valid, or one integer or two as h,w, each >= 0, but got '{text}'");
        }
    }
}
