using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Learn.Ops.Fast;

/// <summary>
/// A few dedicated worker threads that spin for a short while after each job before they sleep, so that
/// back-to-back sub-millisecond convolutions find them awake: waking a sleeping thread costs tens of
/// microseconds or more on a virtual machine. (ONNX Runtime's intra-op pool and OpenMP spin for the same reason.)
/// </summary>
/// <remarks>
/// A run is cut into a few contiguous chunks that the caller and the workers claim with an atomic counter, so a
/// worker that is late (asleep, or descheduled on a busy machine) costs nothing: the caller takes its chunks.
/// Which thread computes a chunk never changes a result (see <see cref="Parallelism"/>). One run at a time;
/// a caller that finds the pool busy (another thread's run) does its whole range itself.
/// </remarks>
internal sealed class SpinPool : IDisposable
{
    /// <summary>How long an idle worker spins before it blocks.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000; // 50 us

    private const int Exhausted = int.MaxValue / 2;

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly object _busy = new();
    private volatile bool _disposed;
    private int _generation;
    private int _active;
    private int _next = Exhausted;
    private int _chunks;
    private int _count;
    private Action<int, int>? _body;
    private Exception? _error;

    public SpinPool(int threads)
    {
        Threads = threads;
        _workers = new Thread[threads - 1];
        _wake = new SemaphoreSlim[threads - 1];
        _sleeping = new int[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int slot = i;
            _wake[i] = new SemaphoreSlim(0);
            _workers[i] = new Thread(() => Work(slot)) { IsBackground = true, Name = $"Learn.Fast worker {slot + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads a run uses, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs body(start, end) over [0, count) in contiguous chunks shared by the caller and the workers.</summary>
    public void For(int count, Action<int, int> body)
    {
        if (!Monitor.TryEnter(_busy))
        {
            body(0, count);
            return;
        }

        try
        {
            // Publish the run before the counter opens it; workers read these after claiming a chunk.
            _body = body;
            _count = count;
            _chunks = Math.Min(count, Threads * 4);
            _error = null;
            Volatile.Write(ref _next, 0);
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < _workers.Length; i++)
            {
                if (Interlocked.Exchange(ref _sleeping[i], 0) == 1)
                {
                    _wake[i].Release();
                }
            }

            Exception? mine = null;
            try
            {
                Drain();
            }
            catch (Exception e)
            {
                mine = e;
                Volatile.Write(ref _next, Exhausted);
            }

            var spin = new SpinWait();
            while (Volatile.Read(ref _active) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            Volatile.Write(ref _next, Exhausted);
            Exception? error = mine ?? _error;
            if (error is not null)
            {
                ExceptionDispatchInfo.Capture(error).Throw();
            }
        }
        finally
        {
            Monitor.Exit(_busy);
        }
    }

    /// <summary>Claims and runs chunks until none is left.</summary>
    private void Drain()
    {
        int c;
        while ((c = Interlocked.Increment(ref _next) - 1) < _chunks)
        {
            _body!((int)((long)_count * c / _chunks), (int)((long)_count * (c + 1) / _chunks));
        }
    }

    private void Work(int slot)
    {
        int seen = 0;
        while (true)
        {
            long spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (Stopwatch.GetTimestamp() < spinUntil)
                {
                    Thread.SpinWait(20);
                    continue;
                }

                // Announce the sleep, then look once more: a run that starts after the announcement wakes us.
                Volatile.Write(ref _sleeping[slot], 1);
                if (Volatile.Read(ref _generation) == seen && !_disposed)
                {
                    _wake[slot].Wait();
                }

                Volatile.Write(ref _sleeping[slot], 0);
                spinUntil = Stopwatch.GetTimestamp() + SpinTicks;
            }

            if (_disposed)
            {
                return;
            }

            seen = Volatile.Read(ref _generation);
            Interlocked.Increment(ref _active);
            try
            {
                Drain();
            }
            catch (Exception e)
            {
                _error = e;
                Volatile.Write(ref _next, Exhausted);
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (SemaphoreSlim s in _wake)
        {
            s.Release();
        }
    }
}
