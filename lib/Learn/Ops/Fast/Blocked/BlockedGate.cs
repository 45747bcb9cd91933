using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Learn.Ops.Fast.Blocked;

/// <summary>The channel gate's multiply on blocked maps, accumulated into the block's sum of streams.</summary>
/// <remarks>
/// Blocked, the gate is one vector per channel block (g[n, 16b .. 16b + 15], zeros past C), so each position is one
/// vector multiply (and add). The product is rounded before the add, as the reference's two ops round, so the
/// result equals x*g (+ sum) of the reference bit for bit.
/// </remarks>
internal static unsafe class BlockedGate
{
    /// <summary>
    /// sum[n, c, p] = x[n, c, p] * g[n, c] (when <paramref name="first"/>) or sum[n, c, p] += x[n, c, p] * g[n, c], for
    /// blocked maps x and sum of logical shape [n, c, h, w] and gates <paramref name="g"/> [n*c] (plain order). With
    /// <paramref name="first"/> the whole sum is written, its padding lanes as 0.
    /// </summary>
    public static void Accumulate(float[] x, float[] g, int n, int c, int h, int w, float[] sum, bool first, int threads)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(c), hw = h * w, planes = n * cb;
        long length = (long)planes * hw * B;
        if (x.Length < length || sum.Length < length || g.Length < n * c)
        {
            throw new ArgumentException($"blocked gate: [{n}, {c}, {h}, {w}] needs maps of {length} floats and {n * c} gates, got {x.Length}, {sum.Length} and {g.Length}");
        }

        if (length == 0)
        {
            return;
        }

        Parallelism.For(threads, planes, length * FastElementwise.ElementCost, (x, g, sum, c, cb, hw, first), static (a, start, end) =>
        {
            fixed (float* px = a.x, pg = a.g, ps = a.sum)
            {
                for (int plane = start; plane < end; plane++)
                {
                    int img = plane / a.cb, block = plane % a.cb;
                    Vector512<float> gate = Lanes(pg + (img * a.c) + (block * B), Math.Min(B, a.c - (block * B)));
                    long origin = (long)plane * a.hw * B;
                    if (a.first)
                    {
                        Product(px + origin, gate, ps + origin, a.hw);
                    }
                    else
                    {
                        AddProduct(px + origin, gate, ps + origin, a.hw);
                    }
                }
            }
        });
    }

    /// <summary>The first <paramref name="count"/> (1..16) floats at <paramref name="p"/> as a vector, zeros after them.</summary>
    private static Vector512<float> Lanes(float* p, int count)
    {
        if (count == BlockedLayout.Block)
        {
            return Vector512.Load(p);
        }

        float* lanes = stackalloc float[BlockedLayout.Block];
        for (int i = 0; i < BlockedLayout.Block; i++)
        {
            lanes[i] = i < count ? p[i] : 0f;
        }

        return Vector512.Load(lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Product(float* x, Vector512<float> g, float* y, int positions)
    {
        const int B = BlockedLayout.Block;
        int p = 0;
        for (; p + 4 <= positions; p += 4)
        {
            float* xp = x + ((long)p * B), yp = y + ((long)p * B);
            (Vector512.Load(xp) * g).Store(yp);
            (Vector512.Load(xp + B) * g).Store(yp + B);
            (Vector512.Load(xp + (2 * B)) * g).Store(yp + (2 * B));
            (Vector512.Load(xp + (3 * B)) * g).Store(yp + (3 * B));
        }

        for (; p < positions; p++)
        {
            (Vector512.Load(x + ((long)p * B)) * g).Store(y + ((long)p * B));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddProduct(float* x, Vector512<float> g, float* y, int positions)
    {
        const int B = BlockedLayout.Block;
        int p = 0;
        for (; p + 4 <= positions; p += 4)
        {
            float* xp = x + ((long)p * B), yp = y + ((long)p * B);
            (Vector512.Load(yp) + (Vector512.Load(xp) * g)).Store(yp); // no FMA: the reference rounds the product first
            (Vector512.Load(yp + B) + (Vector512.Load(xp + B) * g)).Store(yp + B);
            (Vector512.Load(yp + (2 * B)) + (Vector512.Load(xp + (2 * B)) * g)).Store(yp + (2 * B));
            (Vector512.Load(yp + (3 * B)) + (Vector512.Load(xp + (3 * B)) * g)).Store(yp + (3 * B));
        }

        for (; p < positions; p++)
        {
            float* xp = x + ((long)p * B), yp = y + ((long)p * B);
            (Vector512.Load(yp) + (Vector512.Load(xp) * g)).Store(yp);
        }
    }
}
