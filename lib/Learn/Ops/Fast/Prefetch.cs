using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Learn.Ops.Fast;

/// <summary>
/// Software prefetch of strided rows into the caches, where the hardware offers it (x86 SSE; a no-op elsewhere,
/// and when hardware intrinsics are off). A hint only: it never changes a result.
/// </summary>
internal static unsafe class Prefetch
{
    /// <summary>Prefetches <paramref name="floats"/> floats from each of <paramref name="rows"/> rows starting at <paramref name="p"/>, <paramref name="stride"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Rows(float* p, int rows, long stride, int floats)
    {
        if (!Sse.IsSupported || floats <= 0)
        {
            return;
        }

        for (int r = 0; r < rows; r++, p += stride)
        {
            // Every line the run touches: from its first float's line to its last float's line.
            nuint first = (nuint)p & ~(nuint)63, last = (nuint)(p + floats - 1) & ~(nuint)63;
            for (nuint line = first; line <= last; line += 64)
            {
                Sse.Prefetch0((void*)line);
            }
        }
    }
}
