using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Learn.Ops.Fast;

/// <summary>The few vector helpers the kernels share, in the portable <see cref="Vector{T}"/> form.</summary>
internal static class Simd
{
    /// <summary>Floats per vector: 8 with AVX2, 4 with SSE/NEON or when hardware intrinsics are off.</summary>
    public static int Width => Vector<float>.Count;

    /// <summary>a*b + c, fused (one rounding) where the runtime offers it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) =>
#if NET9_0_OR_GREATER
        Vector.FusedMultiplyAdd(a, b, c);
#else
        (a * b) + c;
#endif

    /// <summary>Applies the epilogue to a vector of finished sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Finish(Vector<float> v, bool relu) => relu ? Vector.Max(v, Vector<float>.Zero) : v;

    /// <summary>a*b + c on 16 lanes (the blocked kernels' vectors), fused where the runtime offers it (.NET 9+).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Fma(Vector512<float> a, Vector512<float> b, Vector512<float> c) =>
#if NET9_0_OR_GREATER
        Vector512.FusedMultiplyAdd(a, b, c);
#else
        (a * b) + c;
#endif

    /// <summary>Applies the epilogue to a 16-lane vector of finished sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Finish(Vector512<float> v, bool relu) => relu ? Vector512.Max(v, Vector512<float>.Zero) : v;

    /// <summary>Applies the epilogue to one finished sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(float v, bool relu) => relu && v < 0f ? 0f : v;

    /// <summary>The dot product of two spans of one length, in vectors (partial sums per lane, then across lanes and the tail).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, v = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        for (; i <= n - v; i += v)
        {
            acc = Fma(new Vector<float>(a[i..]), new Vector<float>(b[i..]), acc);
        }

        float s = Vector.Sum(acc);
        for (; i < n; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }
}
