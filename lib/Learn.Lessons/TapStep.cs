using System.Numerics;
using System.Runtime.CompilerServices;

namespace Learn.Lessons;

/// <summary>
/// Lesson 7's one-tap step, <c>acc[i] += w * row[i + offset]</c> for i in [0, n), written twice: a scalar loop and
/// a <see cref="Vector{T}"/> loop with a scalar tail. The lesson shows the same loops in a cell; they are here, in a
/// Release-built library, for timing: a notebook cell is compiled as a script without optimisation, so timing a
/// loop written in a cell measures unoptimised code (in lesson 7's runner the cell's vector loop was under 2x
/// faster than its scalar loop, against about 8x here). Both are compiled fully optimised from their first call
/// (<see cref="MethodImplOptions.AggressiveOptimization"/>), so the timing never catches tier-0 code.
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
