namespace Learn.Ops.Fast;

/// <summary>
/// The default thread count of the fast paths and their one way of splitting work: a range of independent
/// items cut into contiguous chunks, one per worker.
/// </summary>
/// <remarks>
/// Every fast kernel computes each output value in one place, with a summation order that does not depend
/// on which chunk it falls in; the split only decides who computes it. So results are bit-identical for
/// any thread count, not just for a fixed one. The execution plan (<see cref="Learn.Engine.OSNetPlan"/>)
/// passes its own thread count with each call instead of reading <see cref="Threads"/>.
/// </remarks>
public static class Parallelism
{
    private static int s_threads = Environment.ProcessorCount;

    // One pool per thread count, kept for the life of the process: callers asking for different counts
    // (two plans, or a plan and the default) never dispose a pool that another call is using.
    private static readonly SpinPool?[] s_pools = new SpinPool?[65];

    /// <summary>Below this many multiply-adds a call runs on the calling thread: waking a worker costs more.</summary>
    internal const long SerialBelowMacs = 200_000;

    /// <summary>
    /// Worker threads used by the fast kernels when a caller does not say (default: the processor count).
    /// Must be at least 1. The lessons set it; library code passes a count instead.
    /// </summary>
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
    /// Runs <paramref name="body"/>(start, end) over [0, <paramref name="count"/>) in contiguous chunks on up to
    /// <paramref name="threads"/> threads (a <see cref="SpinPool"/> kept per count; 0 means <see cref="Threads"/>);
    /// serially when the whole job is under <see cref="SerialBelowMacs"/> multiply-adds.
    /// </summary>
    internal static void For(int threads, int count, long totalMacs, Action<int, int> body)
    {
        int t = Workers(threads, count, totalMacs);
        if (t <= 1)
        {
            body(0, count);
            return;
        }

        SpinPool? pool = Volatile.Read(ref s_pools[t]);
        if (pool is null)
        {
            var fresh = new SpinPool(t);
            pool = Interlocked.CompareExchange(ref s_pools[t], fresh, null) ?? fresh;
            if (!ReferenceEquals(pool, fresh))
            {
                fresh.Dispose();
            }
        }

        pool.For(count, body);
    }

    /// <summary>
    /// The same with the body's inputs passed as <paramref name="state"/> to a body that captures nothing (a
    /// <c>static</c> lambda, whose delegate the compiler caches): a call that runs on the calling thread then
    /// allocates nothing, where a capturing lambda allocates its closure on every call. A steady-state forward of the
    /// blocked OSNet plan at one thread allocates nothing that way.
    /// </summary>
    internal static void For<TState>(int threads, int count, long totalMacs, TState state, Action<TState, int, int> body)
    {
        if (Workers(threads, count, totalMacs) <= 1)
        {
            body(state, 0, count);
            return;
        }

        ForSplit(threads, count, totalMacs, state, body);
    }

    // Apart from For<TState>: a lambda's closure is allocated on entry to the method that declares it, so in For<TState>
    // it would be allocated on the serial path too.
    private static void ForSplit<TState>(int threads, int count, long totalMacs, TState state, Action<TState, int, int> body) =>
        For(threads, count, totalMacs, (start, end) => body(state, start, end));

    /// <summary>The threads a call of <see cref="For"/> runs on: 1 when the job is too small to split.</summary>
    private static int Workers(int threads, int count, long totalMacs)
    {
        threads = threads <= 0 ? s_threads : threads;
        int t = Math.Min(Math.Min(threads, count), s_pools.Length - 1);
        return totalMacs < SerialBelowMacs ? 1 : t;
    }
}
