using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// The checked shape of one convolution call: batch, channels, groups and the spatial axes, padded out
/// to three (depth, height, width) so that 1-D, 2-D and 3-D convolution share one loop nest. Refuses what
/// PyTorch refuses, with the numbers in the message.
/// </summary>
public sealed class ConvGeometry
{
    private ConvGeometry(int batch, int inChannels, int outChannels, int groups, ConvAxis[] axes, int spatialDims, bool unbatched)
    {
        Batch = batch;
        InChannels = inChannels;
        OutChannels = outChannels;
        Groups = groups;
        Axes = axes;
        SpatialDims = spatialDims;
        Unbatched = unbatched;
    }

    /// <summary>N.</summary>
    public int Batch { get; }

    /// <summary>C_in.</summary>
    public int InChannels { get; }

    /// <summary>C_out.</summary>
    public int OutChannels { get; }

    /// <summary>G; each group maps C_in/G input channels to C_out/G output channels.</summary>
    public int Groups { get; }

    /// <summary>Depth, height and width axes (a 2-D convolution has depth 1, a 1-D one also height 1).</summary>
    public IReadOnlyList<ConvAxis> Axes { get; }

    /// <summary>1, 2 or 3.</summary>
    public int SpatialDims { get; }

    /// <summary>True when the input had no batch dimension (PyTorch accepts C x H x W for conv2d).</summary>
    public bool Unbatched { get; }

    /// <summary>Input channels per group, C_in/G.</summary>
    public int InPerGroup => InChannels / Groups;

    /// <summary>Output channels per group, C_out/G.</summary>
    public int OutPerGroup => OutChannels / Groups;

    /// <summary>The reduction length of one output value: (C_in/G) * prod(kernel).</summary>
    public int ReductionLength => InPerGroup * Axes[0].Kernel * Axes[1].Kernel * Axes[2].Kernel;

    /// <summary>The output shape, batched or not as the input was.</summary>
    public int[] OutputShape()
    {
        var shape = new List<int>();
        if (!Unbatched)
        {
            shape.Add(Batch);
        }

        shape.Add(OutChannels);
        for (int a = 3 - SpatialDims; a < 3; a++)
        {
            shape.Add(Axes[a].Output);
        }

        return shape.ToArray();
    }

    /// <summary>Checks the arguments of a <paramref name="spatialDims"/>-D convolution and resolves padding.</summary>
    public static ConvGeometry Resolve(int spatialDims, Tensor input, Tensor weight, Tensor? bias, ConvOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(options);
        string op = $"conv{spatialDims}d";

        bool unbatched = input.Rank == spatialDims + 1;
        if (input.Rank != spatialDims + 1 && input.Rank != spatialDims + 2)
        {
            throw new ArgumentException(
                $"Expected {spatialDims + 1}D (unbatched) or {spatialDims + 2}D (batched) input to {op}, but got input of size: {input.ShapeString}");
        }

        if (weight.Rank != spatialDims + 2)
        {
            throw new ArgumentException(
                $"Expected {spatialDims + 2}-dimensional weight for {op}, but got weight of size {weight.ShapeString}");
        }

        int[] x = unbatched ? [1, .. input.Shape] : input.Shape;
        int[] w = weight.Shape;
        int groups = options.Groups;
        if (groups <= 0)
        {
            throw new ArgumentException($"non-positive groups is not supported (groups={groups})");
        }

        if (w[0] < 1)
        {
            throw new ArgumentException(
                $"Given groups={groups}, expected weight to be at least 1 at dimension 0, but got weight of size {weight.ShapeString} instead");
        }

        if (w.Skip(2).Any(k => k < 1))
        {
            throw new ArgumentException(
                $"kernel size should be greater than zero, but got kernel size ({string.Join(" x ", w.Skip(2))}) in weight of size {weight.ShapeString}");
        }

        if (w[0] % groups != 0)
        {
            throw new ArgumentException(
                $"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got weight of size {weight.ShapeString} instead");
        }

        if (x[1] != w[1] * groups)
        {
            throw new ArgumentException(
                $"Given groups={groups}, weight of size {weight.ShapeString}, expected input{input.ShapeString} to have {w[1] * groups} channels, but got {x[1]} channels instead");
        }

        if (bias is not null && (bias.Rank != 1 || bias.Length != w[0]))
        {
            throw new ArgumentException(
                $"Given weight of size {weight.ShapeString}, expected bias to be 1-dimensional with {w[0]} elements, but got bias of size {bias.ShapeString} instead");
        }

        int[] stride = IntList.Expand(options.Stride, spatialDims, "stride");
        int[] dilation = IntList.Expand(options.Dilation, spatialDims, "dilation");
        if (stride.Any(s => s <= 0))
        {
            throw new ArgumentException($"non-positive stride is not supported (stride={IntList.Format(stride)})");
        }

        if (dilation.Any(d => d <= 0))
        {
            throw new ArgumentException($"dilation should be greater than zero (dilation={IntList.Format(dilation)})");
        }

        var (before, after) = ResolvePadding(options.Padding, stride, dilation, w.AsSpan(2).ToArray());

        // Axes are right-aligned into (depth, height, width); missing leading axes are size-1 no-ops.
        var axes = new ConvAxis[3];
        for (int a = 0; a < 3; a++)
        {
            int d = a - (3 - spatialDims);
            axes[a] = d < 0
                ? new ConvAxis(1, 1, 1, 1, 0, 0)
                : new ConvAxis(x[2 + d], w[2 + d], stride[d], dilation[d], before[d], after[d]);
        }

        CheckPaddingMode(options.PaddingMode, axes, spatialDims, input);
        CheckOutputSize(axes, spatialDims, input);
        return new ConvGeometry(x[0], x[1], w[0], groups, axes, spatialDims, unbatched);
    }

    private static (int[] Before, int[] After) ResolvePadding(Padding padding, int[] stride, int[] dilation, int[] kernel)
    {
        int dims = kernel.Length;
        if (padding.Kind == "same")
        {
            if (stride.Any(s => s != 1))
            {
                throw new ArgumentException($"padding='same' is not supported for strided convolutions (stride={IntList.Format(stride)})");
            }

            // PyTorch: total = d*(k-1); left = total/2; the odd cell, if any, goes after.
            var before = new int[dims];
            var after = new int[dims];
            for (int d = 0; d < dims; d++)
            {
                int total = dilation[d] * (kernel[d] - 1);
                before[d] = total / 2;
                after[d] = total - before[d];
            }

            return (before, after);
        }

        int[] sizes = IntList.Expand(padding.Sizes, dims, "padding");
        if (sizes.Any(p => p < 0))
        {
            throw new ArgumentException($"negative padding is not supported (padding={IntList.Format(sizes)})");
        }

        return (sizes, (int[])sizes.Clone());
    }

    private static void CheckPaddingMode(PaddingMode mode, ConvAxis[] axes, int spatialDims, Tensor input)
    {
        for (int a = 3 - spatialDims; a < 3; a++)
        {
            ConvAxis axis = axes[a];
            int dim = input.Rank - 3 + a;
            int largest = Math.Max(axis.PadBefore, axis.PadAfter);
            if (mode == PaddingMode.Reflect && largest >= axis.Input)
            {
                throw new ArgumentException(
                    $"Padding size should be less than the corresponding input dimension, but got: padding ({axis.PadBefore}, {axis.PadAfter}) at dimension {dim} of input {input.ShapeString}");
            }

            if (mode == PaddingMode.Circular && largest > axis.Input)
            {
                throw new ArgumentException(
                    $"Padding value causes wrapping around more than once: padding ({axis.PadBefore}, {axis.PadAfter}) at dimension {dim} of input {input.ShapeString}");
            }
        }
    }

    private static void CheckOutputSize(ConvAxis[] axes, int spatialDims, Tensor input)
    {
        ConvAxis[] used = axes[(3 - spatialDims)..];
        if (used.Any(a => a.Input + a.PadBefore + a.PadAfter < a.EffectiveKernel))
        {
            string padded = string.Join(" x ", used.Select(a => a.Input + a.PadBefore + a.PadAfter));
            string kernel = string.Join(" x ", used.Select(a => a.EffectiveKernel));
            throw new ArgumentException(
                $"Calculated padded input size per channel: ({padded}). Kernel size: ({kernel}). Kernel size can't be greater than actual input size (input {input.ShapeString})");
        }

        if (used.Any(a => a.Output < 1))
        {
            throw new ArgumentException(
                $"Calculated output size: ({string.Join(" x ", used.Select(a => a.Output))}). Output size is too small (input {input.ShapeString})");
        }
    }
}
