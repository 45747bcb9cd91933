using System.Diagnostics;
using System.Globalization;
using Learn.Ops.Fast;

namespace Learn.Bench;

/// <summary>
/// The first look (<c>Learn.Bench --quick</c>, meant for <c>learn bench --quick</c>): every case, every peer,
/// 1 and 2 threads, timed with a Stopwatch loop (median of single calls after warm-up), in well under a
/// minute. Each peer's output is first checked against the naive reference with the tolerance rule.
/// Prints one Markdown table.
/// </summary>
public static class QuickBench
{
    private static readonly string[] Timed = [Peers.Fast, Peers.LibTorch, Peers.Onnx];

    /// <summary>Runs the table and writes it to <paramref name="output"/>. Returns 1 if a peer disagreed with the reference.</summary>
    public static int Run(TextWriter output, double secondsPerMeasurement = 1.5, IReadOnlyList<int>? threadCounts = null, string only = "", bool cpuTime = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        threadCounts ??= [1, 2];
        var inv = CultureInfo.InvariantCulture;
        int savedThreads = Parallelism.Threads;
        bool allAgree = true;
        if (cpuTime && (!ThreadClock.Available || threadCounts.Any(t => t != 1)))
        {
            throw new ArgumentException("--cpu-time needs Linux and --threads 1: it reads the calling thread's CPU clock");
        }

        Func<double> clock = cpuTime ? ThreadClock.NowMs : () => Stopwatch.GetTimestamp() * 1000.0 / Stopwatch.Frequency;
        output.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs, Vector<float>.Count = {System.Numerics.Vector<float>.Count}, " +
            $"Vector512 accelerated = {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, .NET {Environment.Version}, " +
            $"load average {LoadAverage()}, clock = {(cpuTime ? "thread CPU time" : "wall")}");
        output.WriteLine();
        output.WriteLine("| case | threads | naive ms | fast ms | libtorch ms | onnxruntime ms | fast GFLOP/s | best peer GFLOP/s | fast / best peer | fast bytes allocated / call |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");

        var naive = new Dictionary<BenchCase, (double Ms, float[] Y)>();
        BenchCase[] cases = BenchCase.All.Where(c => c.Key.Contains(only, StringComparison.Ordinal) || c.Name.Contains(only, StringComparison.Ordinal)).ToArray();
        foreach (BenchCase c in cases)
        {
            using IConvPeer p = Peers.Create(Peers.Naive, c, 1);
            double ms = MedianMs(p.Run, 0, minReps: 3);
            naive[c] = (ms, p.Output());
        }

        foreach (int threads in threadCounts)
        {
            foreach (BenchCase c in cases)
            {
                var ms = new Dictionary<string, double>();
                long allocated;
                var peers = Timed.Select(name => Peers.Create(name, c, threads)).ToArray();
                try
                {
                    foreach (IConvPeer p in peers)
                    {
                        p.Run();
                        string? disagreement = Disagreement(p.Output(), naive[c].Y, c.Geometry.ReductionLength);
                        if (disagreement is not null)
                        {
                            allAgree = false;
                            output.WriteLine($"<!-- {p.Name} disagrees with the reference on {c.Name}: {disagreement} -->");
                        }
                    }

                    allocated = AllocatedPerCall(peers[0].Run);
                    // One thread: interleave, so a change of load hits every peer alike. More threads: one peer at a
                    // time after a pause, because the peers' pools spin-wait after each call (OpenMP in libtorch,
                    // ORT's intra-op pool) and would steal the cores the next peer runs on.
                    double[] medians = threads == 1
                        ? InterleavedMs(peers.Select(p => (Action)p.Run).ToArray(), secondsPerMeasurement, clock)
                        : peers.Select(p => Isolated(p.Run, secondsPerMeasurement / peers.Length)).ToArray();
                    for (int i = 0; i < peers.Length; i++)
                    {
                        ms[peers[i].Name] = medians[i];
                    }
                }
                finally
                {
                    foreach (IConvPeer p in peers)
                    {
                        p.Dispose();
                    }
                }

                double best = Math.Min(ms[Peers.LibTorch], ms[Peers.Onnx]);
                output.WriteLine(string.Create(inv,
                    $"| {c.Name} | {threads} | {naive[c].Ms:F1} | {ms[Peers.Fast]:F3} | {ms[Peers.LibTorch]:F3} | {ms[Peers.Onnx]:F3} | " +
                    $"{Gflops(c, ms[Peers.Fast]):F1} | {Gflops(c, best):F1} | {ms[Peers.Fast] / best:F2}x | {allocated} |"));
            }
        }

        Parallelism.Threads = savedThreads;
        output.WriteLine();
        output.WriteLine("naive is single-threaded and timed once per case; GFLOP/s = 2*MACs/time; fast / best peer < 1 means fast wins.");
        return allAgree ? 0 : 1;
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>Median of single calls after the other peers' spinning threads have gone to sleep.</summary>
    private static double Isolated(Action run, double seconds)
    {
        Thread.Sleep(300);
        return MedianMs(run, seconds);
    }

    /// <summary>Managed bytes allocated per call by all threads, over 50 warm calls.</summary>
    public static long AllocatedPerCall(Action run)
    {
        ArgumentNullException.ThrowIfNull(run);
        run();
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int i = 0; i < 50; i++)
        {
            run();
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - before) / 50;
    }

    /// <summary>2*MACs / time, in GFLOP/s.</summary>
    public static double Gflops(BenchCase c, double ms)
    {
        ArgumentNullException.ThrowIfNull(c);
        return 2.0 * c.Macs / (ms * 1e6);
    }

    /// <summary>
    /// Times several implementations in alternating rounds (each runs a batch of calls in every round), so that
    /// a change of load on a shared machine hits all of them alike; returns per implementation the median over
    /// rounds of the mean time per call, in ms.
    /// </summary>
    public static double[] InterleavedMs(Action[] runs, double seconds, Func<double> clock, int rounds = 15)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(clock);
        var perCall = new double[runs.Length];
        for (int i = 0; i < runs.Length; i++)
        {
            perCall[i] = MedianMs(runs[i], 0.25 / runs.Length, minReps: 3); // warm-up, and a first estimate
        }

        var means = new double[runs.Length][];
        for (int i = 0; i < runs.Length; i++)
        {
            means[i] = new double[rounds];
        }

        for (int r = 0; r < rounds; r++)
        {
            for (int i = 0; i < runs.Length; i++)
            {
                int calls = Math.Max(1, (int)(seconds * 1000 / rounds / runs.Length / perCall[i]));
                double t0 = clock();
                for (int k = 0; k < calls; k++)
                {
                    runs[i]();
                }

                means[i][r] = (clock() - t0) / calls;
            }
        }

        return means.Select(m => m.Order().ElementAt(rounds / 2)).ToArray();
    }

    /// <summary>Median wall time of single calls, in ms, after a warm-up; at least <paramref name="minReps"/> calls.</summary>
    public static double MedianMs(Action run, double seconds, int minReps = 11)
    {
        ArgumentNullException.ThrowIfNull(run);
        var warm = Stopwatch.StartNew();
        do
        {
            run();
        }
        while (warm.Elapsed.TotalSeconds < Math.Min(0.25, seconds / 2)); // past tier-0 JIT and the thread pool ramp-up

        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < minReps || (total.Elapsed.TotalSeconds < seconds && times.Count < 100_000))
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }

        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Null when every value is within |a - e| &lt;= atol + rtol*|e|, atol = rtol = 4 * 2^-24 * K; else the worst one.</summary>
    public static string? Disagreement(float[] actual, float[] expected, long k)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        if (actual.Length != expected.Length)
        {
            return $"{actual.Length} values, expected {expected.Length}";
        }

        double tol = 4.0 / (1 << 24) * k;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            if (!(Math.Abs(a - e) <= tol + (tol * Math.Abs(e))))
            {
                return string.Create(CultureInfo.InvariantCulture, $"[{i}] {a:R} vs {e:R} (atol=rtol={tol:G3})");
            }
        }

        return null;
    }
}
