using System.Numerics;
using System.Runtime.CompilerServices;

namespace Learn.Lessons;

/// <summary>
/// Lesson 7's one-tap step, <c>acc[i] += w * row[i + offset]</c> for i in [0, n), written twice: a scalar loop and
/// a <see cref="Vector{T}"/> loop with a scalar tail. The lesson shows the same loops in a cell; it times these copies.
/// Measured in lesson 7's runner: the loops written in a cell (a script, compiled by the kernel) ran their vector form
/// under 2x faster than their scalar form, and so did these methods until they were marked
/// <see cref="MethodImplOptions.AggressiveOptimization"/>; marked, they measured about 14x. A method first runs as
/// unoptimised tier-0 code and is recompiled only after enough calls, which a short timing may not reach.
/// </summary>
public static class TapStep
{
    /// <summary>One product per element, one element at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scalar(float[] acc, float[] row, float w, int offset, int n)
    {
        ArgumentNullException.ThrowIfNull(acc);
        ArgumentNullException.ThrowIfNull(row);
        Require(acc, row, offset, n);
        for (int i = 0; i < n; i++)
        {
            acc[i] += w * row[i + offset];
        }
    }

    /// <summary><see cref="Vector{T}.Count"/> products per instruction, then the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Vectorised(float[] acc, float[] row, float w, int offset, int n)
    {
        ArgumentNullException.ThrowIfNull(acc);
        ArgumentNullException.ThrowIfNull(row);
        Require(acc, row, offset, n);
        var weight = new Vector<float>(w);
        int lanes = Vector<float>.Count, i = 0;
        for (; i + lanes <= n; i += lanes)
        {
            (new Vector<float>(acc, i) + (weight * new Vector<float>(row, i + offset))).CopyTo(acc, i);
        }

        for (; i < n; i++)
        {
            acc[i] += w * row[i + offset];
        }
    }

    private static void Require(float[] acc, float[] row, int offset, int n)
    {
        if (n < 0 || offset < 0 || n > acc.Length || (long)n + offset > row.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(n), $"n = {n} and offset = {offset} do not fit acc[{acc.Length}] and row[{row.Length}]");
        }
    }
}
