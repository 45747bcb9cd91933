using Learn.Analysis;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>PyTorch <c>nn.MaxPool2d</c> (square window). No tensors.</summary>
public sealed class MaxPool2d : Module
{
    /// <summary>Creates the layer; a null stride means stride = kernel, as in PyTorch.</summary>
    public MaxPool2d(int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        Options = new PoolOptions { Kernel = [kernelSize], Stride = [stride ?? kernelSize], Padding = [padding], Dilation = [dilation], CeilMode = ceilMode };
    }

    /// <summary>The pooling arguments.</summary>
    public PoolOptions Options { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        if (Implementation == Implementation.Naive)
        {
            return Ops.MaxPool2d.Forward(x, Options);
        }

        if (Options.Dilation[0] != 1 || Options.CeilMode || x.Rank != 4)
        {
            throw new NotSupportedException($"the fast max pool supports [N, C, H, W] with dilation 1 and floor mode, got {x.ShapeString}, dilation {Options.Dilation[0]}, ceil_mode {Options.CeilMode}");
        }

        int k = Options.Kernel[0], s = Options.Stride?[0] ?? k, p = Options.Padding[0];
        var y = Tensor.Zeros(Ops.Fast.FastPool.OutputShape(x.Shape, k, s, p));
        Ops.Fast.FastPool.MaxPool2d(x, k, s, p, y);
        return y;
    }

    /// <summary>Which implementation runs: the reference, or <see cref="Ops.Fast.FastPool.MaxPool2d"/>.</summary>
    public Implementation Implementation { get; set; } = Implementation.Naive;

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input) => Pool.Trace(name, input, Options);
}

/// <summary>PyTorch <c>nn.AvgPool2d</c> (square window). No tensors.</summary>
public sealed class AvgPool2d : Module
{
    /// <summary>Creates the layer; a null stride means stride = kernel, as in PyTorch.</summary>
    public AvgPool2d(int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
    {
        Options = new PoolOptions { Kernel = [kernelSize], Stride = [stride ?? kernelSize], Padding = [padding], CeilMode = ceilMode, CountIncludePad = countIncludePad };
    }

    /// <summary>The pooling arguments.</summary>
    public PoolOptions Options { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        if (Implementation == Implementation.Naive)
        {
            return Ops.AvgPool2d.Forward(x, Options);
        }

        if (Options.Padding[0] != 0 || Options.CeilMode || x.Rank != 4)
        {
            throw new NotSupportedException($"the fast average pool supports [N, C, H, W] without padding in floor mode, got {x.ShapeString}, padding {Options.Padding[0]}, ceil_mode {Options.CeilMode}");
        }

        int k = Options.Kernel[0], s = Options.Stride?[0] ?? k;
        var y = Tensor.Zeros(Ops.Fast.FastPool.OutputShape(x.Shape, k, s, 0));
        Ops.Fast.FastPool.AvgPool2d(x, k, s, y);
        return y;
    }

    /// <summary>Which implementation runs: the reference, or <see cref="Ops.Fast.FastPool.AvgPool2d"/>.</summary>
    public Implementation Implementation { get; set; } = Implementation.Naive;

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input) => Pool.Trace(name, input, Options);
}

/// <summary>PyTorch <c>nn.AdaptiveAvgPool2d</c>; output size 1 is global average pooling. No tensors.</summary>
public sealed class AdaptiveAvgPool2d : Module
{
    /// <summary>Creates the layer for an output of <paramref name="outputHeight"/> x <paramref name="outputWidth"/>.</summary>
    public AdaptiveAvgPool2d(int outputHeight = 1, int outputWidth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputWidth);
        OutputHeight = outputHeight;
        OutputWidth = outputWidth;
    }

    /// <summary>Output height.</summary>
    public int OutputHeight { get; }

    /// <summary>Output width.</summary>
    public int OutputWidth { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        if (Implementation == Implementation.Naive)
        {
            return Ops.AdaptiveAvgPool2d.Forward(x, OutputHeight, OutputWidth);
        }

        if (OutputHeight != 1 || OutputWidth != 1 || x.Rank != 4)
        {
            throw new NotSupportedException($"the fast adaptive average pool supports global pooling (1x1) of [N, C, H, W], got {OutputHeight}x{OutputWidth} of {x.ShapeString}");
        }

        var y = Tensor.Zeros(x.Size(0), x.Size(1), 1, 1);
        Ops.Fast.FastPool.GlobalAvgPool(x, y);
        return y;
    }

    /// <summary>Which implementation runs: the reference, or <see cref="Ops.Fast.FastPool.GlobalAvgPool"/>.</summary>
    public Implementation Implementation { get; set; } = Implementation.Naive;

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        int[] s = input.Shape;
        if (s.Length != 4)
        {
            throw new ArgumentException($"{name}: AdaptiveAvgPool2d expects [N, C, H, W], got {input.ShapeString}");
        }

        // The widest window, ceil(in/out) cells, spaced floor(in/out) apart: exact when out divides in.
        int kh = (s[2] + OutputHeight - 1) / OutputHeight, kw = (s[3] + OutputWidth - 1) / OutputWidth;
        int sh = Math.Max(1, s[2] / OutputHeight), sw = Math.Max(1, s[3] / OutputWidth);
        return new Signal(
            [s[0], s[1], OutputHeight, OutputWidth],
            input.Height.Through(kh, sh, 0),
            input.Width.Through(kw, sw, 0),
            input.Reduction + (long)kh * kw);
    }
}

/// <summary>The symbolic pass shared by the pooling layers.</summary>
internal static class Pool
{
    public static Signal Trace(string name, Signal input, PoolOptions options)
    {
        ArgumentNullException.ThrowIfNull(input);
        int[] s = input.Shape;
        if (s.Length != 4)
        {
            throw new ArgumentException($"{name}: pooling expects [N, C, H, W], got {input.ShapeString}");
        }

        int k = options.Kernel[0], st = options.Stride?[0] ?? k, p = options.Padding[0], d = options.Dilation[0];
        int span = ConvAxis.EffectiveKernelSize(k, d);
        int[] shape = [s[0], s[1], Out(s[2]), Out(s[3])];
        return new Signal(shape, input.Height.Through(k, st, p, d), input.Width.Through(k, st, p, d), input.Reduction + (long)k * k);

        int Out(int size)
        {
            int numerator = size + 2 * p - span;
            if (numerator < 0)
            {
                // C# division truncates towards zero; PyTorch's floor would give an empty output here.
                throw new ArgumentException($"{name}: input {input.ShapeString} is smaller than the window");
            }

            int o = (options.CeilMode ? (numerator + st - 1) / st : numerator / st) + 1;
            if (options.CeilMode && (o - 1) * st >= size + p)
            {
                o--; // PyTorch drops a last window that would start in the padding
            }

            if (o <= 0)
            {
                throw new ArgumentException($"{name}: input {input.ShapeString} is smaller than the window");
            }

            return o;
        }
    }
}
