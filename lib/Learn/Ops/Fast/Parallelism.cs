namespace Learn.Ops.Fast;

/// <summary>
/// The thread-count setting of the fast paths and their one way of splitting work: a range of independent
/// items cut into <see cref="Threads"/> contiguous chunks, one per worker.
/// </summary>
/// <remarks>
/// Every fast kernel computes each output value in one place, with a summation order that does not depend
/// on which chunk it falls in; the split only decides who computes it. So results are bit-identical for
/// any thread count, not just for a fixed one.
/// </remarks>
public static class Parallelism
{
    private static int s_threads = Environment.ProcessorCount;
    private static SpinPool? s_pool;

    /// <summary>Below this many multiply-adds a call runs on the calling thread: waking a worker costs more.</summary>
    internal const long SerialBelowMacs = 200_000;

    /// <summary>Worker threads used by the fast paths (default: the processor count). Must be at least 1.</summary>
    public static int Threads
    {
        get => s_threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            s_threads = value;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in contiguous chunks, one per
    /// thread, on a <see cref="SpinPool"/> kept for the current thread count; serially when the whole job is
    /// under <see cref="SerialBelowMacs"/> multiply-adds.
    /// </summary>
    internal static void For(int count, long totalMacs, Action<int, int> body)
    {
        int t = Math.Min(Threads, count);
        if (t <= 1 || totalMacs < SerialBelowMacs)
        {
            body(0, count);
            return;
        }

        SpinPool? pool = s_pool;
        if (pool is null || pool.Threads != t)
        {
            var fresh = new SpinPool(t);
            SpinPool? old = Interlocked.Exchange(ref s_pool, fresh);
            old?.Dispose();
            pool = fresh;
        }

        pool.For(count, body);
    }
}
