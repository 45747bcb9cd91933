using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// The checked shape of a 2-D pooling call. Along each axis
/// <code>out = floor_or_ceil((in + 2p - d*(k-1) - 1) / s) + 1</code>
/// and, with ceil_mode, the last window is dropped when it would start inside the right padding
/// ((out-1)*s &gt;= in + p), exactly as PyTorch's <c>pooling_output_shape</c>.
/// </summary>
internal static class PoolGeometry
{
    public static (ConvAxis Height, ConvAxis Width) Resolve(string op, Tensor x, PoolOptions options, bool allowDilation)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        if (x.Rank is not (3 or 4))
        {
            throw new ArgumentException($"Expected 3D (unbatched) or 4D (batched) input to {op}, but got input of size: {x.ShapeString}");
        }

        int[] kernel = IntList.Expand(options.Kernel, 2, "kernel_size");
        int[] stride = IntList.Expand(options.Stride ?? options.Kernel, 2, "stride");
        int[] padding = IntList.Expand(options.Padding, 2, "padding");
        int[] dilation = IntList.Expand(options.Dilation, 2, "dilation");
        if (kernel.Any(k => k <= 0))
        {
            throw new ArgumentException($"{op}: kernel size should be greater than zero, but got kernel_size={IntList.Format(kernel)}");
        }

        if (stride.Any(s => s <= 0))
        {
            throw new ArgumentException($"{op}: stride should be greater than zero, but got stride={IntList.Format(stride)}");
        }

        if (dilation.Any(d => d <= 0))
        {
            throw new ArgumentException($"{op}: dilation should be greater than zero, but got dilation={IntList.Format(dilation)}");
        }

        if (!allowDilation && dilation.Any(d => d != 1))
        {
            throw new ArgumentException($"{op} has no dilation, but got dilation={IntList.Format(dilation)}");
        }

        if (padding.Any(p => p < 0) || padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2)
        {
            throw new ArgumentException(
                $"{op}: pad should be at most half of kernel size, but got padding={IntList.Format(padding)} and kernel_size={IntList.Format(kernel)}");
        }

        // In long arithmetic, as PyTorch's int64 pooling_output_shape: d*(k-1)+1 and in + 2p pass 2^31 for
        // hostile arguments. The padding is at most half the kernel, so in + 2p + span fits a long easily.
        var axes = new ConvAxis[2];
        for (int a = 0; a < 2; a++)
        {
            int input = x.Size(a - 2);
            long span = ((long)dilation[a] * (kernel[a] - 1)) + 1;
            long numerator = input + (2L * padding[a]) - span;
            long output = (options.CeilMode ? CeilDiv(numerator, stride[a]) : FloorDiv(numerator, stride[a])) + 1;
            if (options.CeilMode && (output - 1) * stride[a] >= input + padding[a])
            {
                output--;
            }

            if (output < 1)
            {
                throw new ArgumentException(
                    $"{op}: Given input size {x.ShapeString}, calculated output size along dimension {x.Rank - 2 + a} is {output}. Output size is too small");
            }

            // The far padding is whatever the last window needs, so ConvAxis.Output reproduces 'output'.
            long padAfter = Math.Max(((output - 1) * stride[a]) + span - input - padding[a], padding[a]);
            if (input + padding[a] + padAfter > int.MaxValue)
            {
                throw new ArgumentException(
                    $"{op}: the padded input along dimension {x.Rank - 2 + a} spans {input + padding[a] + padAfter} cells, more than the {int.MaxValue} this tool indexes");
            }

            axes[a] = new ConvAxis(input, kernel[a], stride[a], dilation[a], padding[a], (int)padAfter);
            if (axes[a].Output != output)
            {
                throw new InvalidOperationException($"{op}: pooling geometry disagrees with itself along dimension {x.Rank - 2 + a}");
            }
        }

        return (axes[0], axes[1]);
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private static long CeilDiv(long a, long b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    /// <summary>The output shape: the input's leading dimensions, then the two output sizes.</summary>
    public static int[] OutputShape(Tensor x, ConvAxis h, ConvAxis w)
    {
        int[] shape = x.Shape;
        shape[^2] = h.Output;
        shape[^1] = w.Output;
        return shape;
    }
}
