using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Learn.Tensors;

namespace Learn.Ops.Fast;

/// <summary>
/// The elementwise steps of OSNet on the fast path, Vector&lt;float&gt; wide with a scalar tail: residual
/// add + ReLU, the channel gate's broadcast product accumulated into the block sum, ReLU in place.
/// Each output value is computed exactly as the reference computes it (one float add, one product, one max),
/// so for non-NaN values these agree with <see cref="Ops.Add"/>, <see cref="Ops.Multiply"/> and <see cref="Ops.Relu"/> bit for bit.
/// </summary>
public static class FastElementwise
{
    /// <summary><paramref name="y"/> = max(0, a + b), all of one length (y may be a or b).</summary>
    public static void AddRelu(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        if (a.Length != b.Length || y.Length != a.Length)
        {
            throw new ArgumentException($"add + relu: lengths {a.Length}, {b.Length} and {y.Length} differ");
        }

        int n = a.Length, i = 0, v = Vector<float>.Count;
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float py = ref MemoryMarshal.GetReference(y);
        for (; i <= n - v; i += v)
        {
            var s = Vector.LoadUnsafe(ref pa, (nuint)i) + Vector.LoadUnsafe(ref pb, (nuint)i);
            Vector.Max(s, Vector<float>.Zero).StoreUnsafe(ref py, (nuint)i);
        }

        for (; i < n; i++)
        {
            float s = Unsafe.Add(ref pa, i) + Unsafe.Add(ref pb, i);
            Unsafe.Add(ref py, i) = s > 0 ? s : 0;
        }
    }

    /// <summary>
    /// The gated sum of OSBlock: acc[n, c, :] = x[n, c, :] * g[n, c] when <paramref name="first"/>, else
    /// acc[n, c, :] += x[n, c, :] * g[n, c] (the product rounded before the add, as the reference's two ops do).
    /// On the calling thread; copies <paramref name="g"/> (the plan calls the array overload, which does not).
    /// </summary>
    public static void GateAccumulate(Tensor x, ReadOnlySpan<float> g, Tensor acc, bool first) => GateAccumulate(x, g.ToArray(), acc, first, 1);

    /// <summary>The same on up to <paramref name="threads"/> threads, split by (image, channel) planes (each value computed as on one thread).</summary>
    public static void GateAccumulate(Tensor x, float[] g, Tensor acc, bool first, int threads)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(acc);
        int planes = x.Size(0) * x.Size(1), inner = x.Length / Math.Max(1, planes);
        if (g.Length != planes || acc.Length != x.Length)
        {
            throw new ArgumentException($"gate: x {x.ShapeString} needs {planes} gates and an accumulator of its size, got {g.Length} and {acc.ShapeString}");
        }

        // A streamed float costs about what a few GEMM multiply-adds do: weigh it so that only maps worth a hand-off split.
        Parallelism.For(threads, planes, (long)x.Length * ElementCost, (start, end) => GatePlanes(x.Data, g, acc.Data, first, inner, start, end));
    }

    /// <summary>Multiply-adds one streamed element is counted as when deciding whether to split work over threads.</summary>
    internal const int ElementCost = 4;

    private static void GatePlanes(float[] x, float[] g, float[] acc, bool first, int inner, int start, int end)
    {
        int v = Vector<float>.Count;
        for (int p = start; p < end; p++)
        {
            Span<float> xs = x.AsSpan(p * inner, inner), ys = acc.AsSpan(p * inner, inner);
            float gp = g[p];
            var gv = new Vector<float>(gp);
            int i = 0;
            if (first)
            {
                for (; i <= inner - v; i += v)
                {
                    (new Vector<float>(xs[i..]) * gv).CopyTo(ys[i..]);
                }

                for (; i < inner; i++)
                {
                    ys[i] = xs[i] * gp;
                }
            }
            else
            {
                for (; i <= inner - v; i += v)
                {
                    var prod = new Vector<float>(xs[i..]) * gv; // no FMA: keep the reference's rounding
                    (new Vector<float>(ys[i..]) + prod).CopyTo(ys[i..]);
                }

                for (; i < inner; i++)
                {
                    float prod = xs[i] * gp;
                    ys[i] += prod;
                }
            }
        }
    }

    /// <summary>y = max(0, y) in place.</summary>
    public static void ReluInPlace(Span<float> y)
    {
        int i = 0, v = Vector<float>.Count;
        for (; i <= y.Length - v; i += v)
        {
            Vector.Max(new Vector<float>(y[i..]), Vector<float>.Zero).CopyTo(y[i..]);
        }

        for (; i < y.Length; i++)
        {
            y[i] = y[i] > 0 ? y[i] : 0;
        }
    }
}
