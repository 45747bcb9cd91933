using System.Numerics;
using System.Runtime.InteropServices;
using Learn.Tensors;

namespace Learn.Ops.Fast;

/// <summary>
/// Fast pooling over [N, C, H, W]: plain loops with the window clipped to the input once per row and column
/// instead of a bounds test per tap, vectors where the access is contiguous (the global average). Tested equal
/// to <see cref="Ops.MaxPool2d"/>, <see cref="Ops.AvgPool2d"/> and <see cref="Ops.AdaptiveAvgPool2d"/>.
/// Options outside what OSNet needs (dilation, ceil mode, padded averages) throw <see cref="NotSupportedException"/>.
/// </summary>
public static class FastPool
{
    /// <summary>
    /// Max pooling with a square window (any kernel, stride, padding; dilation 1, floor mode) into <paramref name="y"/>
    /// [N, C, outH, outW]. Per output row: the max over the window's input rows, whole rows at a time in vectors,
    /// then the max over each window's columns of that row. A NaN input is not guaranteed to propagate.
    /// <paramref name="threads"/>: 0 for <see cref="Parallelism.Threads"/>.
    /// </summary>
    public static void MaxPool2d(Tensor x, int kernel, int stride, int padding, Tensor y, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var (planes, h, w, oh, ow) = Check(x, y, kernel, stride, padding);
        float[] xs = x.Data, ys = y.Data;
        Parallelism.For(threads, planes, (long)planes * oh * w * kernel * 4, (p0, p1) =>
        {
            Span<float> rowMax = Workspace.Row(w).AsSpan(0, w); // per-thread: no allocation per call
            for (int p = p0; p < p1; p++)
            {
                int xBase = p * h * w, yBase = p * oh * ow;
                for (int i = 0; i < oh; i++)
                {
                    int r0 = Math.Max(0, i * stride - padding), r1 = Math.Min(h, i * stride - padding + kernel);
                    xs.AsSpan(xBase + r0 * w, w).CopyTo(rowMax);
                    for (int r = r0 + 1; r < r1; r++)
                    {
                        MaxInto(rowMax, xs.AsSpan(xBase + r * w, w));
                    }

                    for (int j = 0; j < ow; j++)
                    {
                        int c0 = Math.Max(0, j * stride - padding), c1 = Math.Min(w, j * stride - padding + kernel);
                        float m = rowMax[c0]; // padding is -inf: it never wins, so only in-range columns count
                        for (int c = c0 + 1; c < c1; c++)
                        {
                            m = Math.Max(m, rowMax[c]);
                        }

                        ys[yBase + i * ow + j] = m;
                    }
                }
            }
        });
    }

    /// <summary>Average pooling with a square window, no padding, floor mode, into <paramref name="y"/>: the mean of k*k values (rows summed first, in vectors); <paramref name="threads"/> as for max pooling.</summary>
    public static void AvgPool2d(Tensor x, int kernel, int stride, Tensor y, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var (planes, h, w, oh, ow) = Check(x, y, kernel, stride, 0);
        float[] xs = x.Data, ys = y.Data;
        float inv = 1f / (kernel * kernel);
        Parallelism.For(threads, planes, (long)planes * oh * w * kernel * 4, (p0, p1) =>
        {
            Span<float> rowSum = Workspace.Row(w).AsSpan(0, w);
            for (int p = p0; p < p1; p++)
            {
                int xBase = p * h * w, yBase = p * oh * ow;
                for (int i = 0; i < oh; i++)
                {
                    xs.AsSpan(xBase + i * stride * w, w).CopyTo(rowSum);
                    for (int r = 1; r < kernel; r++)
                    {
                        AddInto(rowSum, xs.AsSpan(xBase + (i * stride + r) * w, w));
                    }

                    for (int j = 0; j < ow; j++)
                    {
                        float s = 0;
                        for (int c = j * stride; c < j * stride + kernel; c++)
                        {
                            s += rowSum[c];
                        }

                        ys[yBase + i * ow + j] = s * inv;
                    }
                }
            }
        });
    }

    private static void MaxInto(Span<float> acc, ReadOnlySpan<float> row)
    {
        int i = 0, v = Vector<float>.Count;
        for (; i <= acc.Length - v; i += v)
        {
            Vector.Max(new Vector<float>(acc[i..]), new Vector<float>(row[i..])).CopyTo(acc[i..]);
        }

        for (; i < acc.Length; i++)
        {
            acc[i] = Math.Max(acc[i], row[i]);
        }
    }

    private static void AddInto(Span<float> acc, ReadOnlySpan<float> row)
    {
        int i = 0, v = Vector<float>.Count;
        for (; i <= acc.Length - v; i += v)
        {
            (new Vector<float>(acc[i..]) + new Vector<float>(row[i..])).CopyTo(acc[i..]);
        }

        for (; i < acc.Length; i++)
        {
            acc[i] += row[i];
        }
    }

    /// <summary>Global average pooling: <paramref name="y"/>[n, c] = mean over H*W of x[n, c] (y holds N*C values, e.g. [N, C, 1, 1]).</summary>
    public static void GlobalAvgPool(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rank != 4 || y.Length != x.Size(0) * x.Size(1))
        {
            throw new ArgumentException($"global average pool: input {x.ShapeString} needs an output of N*C values, got {y.ShapeString}");
        }

        int planes = x.Size(0) * x.Size(1), inner = x.Size(2) * x.Size(3);
        for (int p = 0; p < planes; p++)
        {
            y.Data[p] = Sum(x.Data.AsSpan(p * inner, inner)) / inner;
        }
    }

    /// <summary>The sum of <paramref name="values"/> in Vector&lt;float&gt;-wide partial sums, then a scalar tail.</summary>
    internal static float Sum(ReadOnlySpan<float> values)
    {
        var acc = Vector<float>.Zero;
        int i = 0;
        var vs = MemoryMarshal.Cast<float, Vector<float>>(values);
        foreach (Vector<float> v in vs)
        {
            acc += v;
        }

        i = vs.Length * Vector<float>.Count;
        float s = Vector.Sum(acc);
        for (; i < values.Length; i++)
        {
            s += values[i];
        }

        return s;
    }

    private static (int Planes, int H, int W, int OH, int OW) Check(Tensor x, Tensor y, int kernel, int stride, int padding)
    {
        if (x.Rank != 4)
        {
            throw new ArgumentException($"pooling expects [N, C, H, W], got {x.ShapeString}");
        }

        int h = x.Size(2), w = x.Size(3);
        int oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        if (kernel <= 0 || stride <= 0 || padding < 0 || 2 * padding > kernel || oh <= 0 || ow <= 0)
        {
            throw new ArgumentException($"pooling: kernel {kernel}, stride {stride}, padding {padding} do not fit the input {x.ShapeString}");
        }

        int[] shape = [x.Size(0), x.Size(1), oh, ow];
        if (!y.Shape.SequenceEqual(shape))
        {
            throw new ArgumentException($"pooling: output has shape {y.ShapeString}, expected {Tensor.Format(shape)}");
        }

        return (x.Size(0) * x.Size(1), h, w, oh, ow);
    }

    /// <summary>The output shape of a square pool on [N, C, H, W] (floor mode).</summary>
    public static int[] OutputShape(int[] input, int kernel, int stride, int padding) =>
        [input[0], input[1], (input[2] + 2 * padding - kernel) / stride + 1, (input[3] + 2 * padding - kernel) / stride + 1];
}
