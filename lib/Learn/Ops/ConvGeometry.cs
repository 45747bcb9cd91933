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

        if (x[1] != (long)w[1] * groups)
        {
            throw new ArgumentException(
                $"Given groups={groups}, weight of size {weight.ShapeString}, expected input{input.ShapeString} to have {(long)w[1] * groups} channels, but got {x[1]} channels instead");
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

        int[] kernel = w.AsSpan(2).ToArray();
        var (before, after) = ResolvePadding(options.Padding, stride, dilation, kernel);
        CheckPaddingMode(options.PaddingMode, x.AsSpan(2).ToArray(), before, after, input);
        CheckSizes(x, kernel, stride, dilation, before, after, w[0], input);

        // Axes are right-aligned into (depth, height, width); missing leading axes are size-1 no-ops.
        // CheckSizes proved every padded extent fits an int, so the narrowing casts below are exact.
        var axes = new ConvAxis[3];
        for (int a = 0; a < 3; a++)
        {
            int d = a - (3 - spatialDims);
            axes[a] = d < 0
                ? new ConvAxis(1, 1, 1, 1, 0, 0)
                : new ConvAxis(x[2 + d], w[2 + d], stride[d], dilation[d], (int)before[d], (int)after[d]);
        }

        return new ConvGeometry(x[0], x[1], w[0], groups, axes, spatialDims, unbatched);
    }

    private static (long[] Before, long[] After) ResolvePadding(Padding padding, int[] stride, int[] dilation, int[] kernel)
    {
        int dims = kernel.Length;
        if (padding.Kind == "same")
        {
            if (stride.Any(s => s != 1))
            {
                throw new ArgumentException($"padding='same' is not supported for strided convolutions (stride={IntList.Format(stride)})");
            }

            // PyTorch: total = d*(k-1); left = total/2; the odd cell, if any, goes after. In long: d*(k-1) may pass 2^31.
            var before = new long[dims];
            var after = new long[dims];
            for (int d = 0; d < dims; d++)
            {
                long total = (long)dilation[d] * (kernel[d] - 1);
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

        long[] resolved = sizes.Select(p => (long)p).ToArray();
        return (resolved, (long[])resolved.Clone());
    }

    private static void CheckPaddingMode(PaddingMode mode, int[] inputSizes, long[] before, long[] after, Tensor input)
    {
        for (int d = 0; d < inputSizes.Length; d++)
        {
            int dim = input.Rank - inputSizes.Length + d;
            long largest = Math.Max(before[d], after[d]);
            if (mode == PaddingMode.Reflect && largest >= inputSizes[d])
            {
                throw new ArgumentException(
                    $"Padding size should be less than the corresponding input dimension, but got: padding ({before[d]}, {after[d]}) at dimension {dim} of input {input.ShapeString}");
            }

            if (mode == PaddingMode.Circular && largest > inputSizes[d])
            {
                throw new ArgumentException(
                    $"Padding value causes wrapping around more than once: padding ({before[d]}, {after[d]}) at dimension {dim} of input {input.ShapeString}");
            }
        }
    }

    /// <summary>
    /// PyTorch's size checks, in long arithmetic so that no size wraps (PyTorch computes them in int64), then
    /// this tool's own limit: every padded extent and the output's element count must fit an int, because
    /// tensors here are float arrays indexed by int. Past that, every index the reference loops form
    /// (o*s - pad + t*d, at most the padded extent) fits an int.
    /// </summary>
    private static void CheckSizes(int[] x, int[] kernel, int[] stride, int[] dilation, long[] before, long[] after, int outChannels, Tensor input)
    {
        int dims = kernel.Length;
        var padded = new long[dims];
        var span = new long[dims];
        var output = new long[dims];
        for (int d = 0; d < dims; d++)
        {
            padded[d] = x[2 + d] + before[d] + after[d];
            span[d] = ((long)dilation[d] * (kernel[d] - 1)) + 1;
            output[d] = padded[d] >= span[d] ? ((padded[d] - span[d]) / stride[d]) + 1 : 0;
        }

        if (padded.Zip(span).Any(p => p.First < p.Second))
        {
            throw new ArgumentException(
                $"Calculated padded input size per channel: ({string.Join(" x ", padded)}). Kernel size: ({string.Join(" x ", span)}). Kernel size can't be greater than actual input size (input {input.ShapeString})");
        }

        if (padded.Any(p => p > int.MaxValue))
        {
            throw new ArgumentException(
                $"Calculated padded input size per channel: ({string.Join(" x ", padded)}) is larger than {int.MaxValue} along an axis, which this tool does not support (input {input.ShapeString})");
        }

        long count = (long)x[0] * outChannels;
        foreach (long o in output)
        {
            count = count > Array.MaxLength ? count : count * o;
        }

        if (count > Array.MaxLength)
        {
            throw new ArgumentException(
                $"Calculated output size: ({string.Join(" x ", output)}) with {x[0]} x {outChannels} planes is more than the {Array.MaxLength} elements one tensor can hold (input {input.ShapeString})");
        }
    }

    /// <summary>
    /// The one statement of what the fast kernels (<see cref="Fast.FastConv"/>) assume beyond a resolved
    /// geometry: per axis the extent E = padded + 64*stride (the padded extent plus vector and panel rounding
    /// of the output, each step one stride), and the product of the extents is at most 2^30. Then every index
    /// a kernel forms inside one padded, phase-split plane, and the sum of two such indices, fits an int.
    /// </summary>
    /// <exception cref="NotSupportedException">When the geometry is outside that envelope (the naive implementation computes it).</exception>
    public void RequireFastKernelBounds()
    {
        long volume = 1;
        foreach (ConvAxis a in Axes)
        {
            long extent = (long)a.Input + a.PadBefore + a.PadAfter + (64L * a.Stride);
            volume = volume > FastPlaneLimit || extent > FastPlaneLimit ? FastPlaneLimit + 1 : volume * extent;
        }

        if (volume > FastPlaneLimit)
        {
            throw new NotSupportedException(
                $"the fast kernels index padded planes (plus rounding by the stride) of at most {FastPlaneLimit} elements, and this convolution needs more; use the naive implementation");
        }
    }

    /// <summary>The largest padded plane the fast kernels index: 2^30 elements.</summary>
    public const long FastPlaneLimit = 1L << 30;
}
