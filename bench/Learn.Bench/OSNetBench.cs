using System.Globalization;
using BenchmarkDotNet.Attributes;
using Learn.Analysis;
using Learn.Engine;
using Learn.IO;
using Learn.Models;
using Learn.Ops;
using Learn.Ops.Fast;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Tensor = Learn.Tensors.Tensor;

namespace Learn.Bench;

/// <summary>
/// OSNet forward, batch 1, 3x256x128, on the models bench/models/export_osnet_peers.py writes into
/// bench/models/out/ (the fixtures' generated weights; TorchScript and ONNX opset 13 from PyTorch 1.13).
/// </summary>
public sealed class OSNetCase
{
    private OSNetCase(string variant, string dir)
    {
        Variant = variant;
        Dir = dir;
        Input = Npy.Read(Path.Combine(dir, "input.npy"));
        PyTorchOutput = Npy.Read(Path.Combine(dir, variant + ".out.npy"));
        StateDict = Checkpoint.Load(Path.Combine(dir, variant + ".pth"));
        CostTable table = CostTable.For(NewModel(), Input.Size(2), Input.Size(3));
        Macs = table.Macs;
        Reduction = table.Output.Reduction;
    }

    /// <summary>The variants benchmarked.</summary>
    public static IReadOnlyList<string> Variants { get; } = ["osnet_x0_25", "osnet_x1_0"];

    /// <summary>torchreid's variant name.</summary>
    public string Variant { get; }

    /// <summary>The folder of the exported models.</summary>
    public string Dir { get; }

    /// <summary>[1, 3, 256, 128].</summary>
    public Tensor Input { get; }

    /// <summary>PyTorch's output, [1, 512].</summary>
    public Tensor PyTorchOutput { get; }

    /// <summary>The weights.</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict { get; }

    /// <summary>Multiply-accumulates of one forward (cost table, classifier excluded).</summary>
    public long Macs { get; }

    /// <summary>K of the output along its longest path, for the tolerance rule.</summary>
    public long Reduction { get; }

    /// <summary>The folder holding the exported models, or null with a message saying how to make them.</summary>
    public static string? FindDir(out string message)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "bench", "models", "out");
            if (Variants.All(v => File.Exists(Path.Combine(candidate, v + ".onnx"))))
            {
                message = "";
                return candidate;
            }
        }

        message = "OSNet models missing: run `/usr/bin/python3 bench/models/export_osnet_peers.py` (writes bench/models/out/)";
        return null;
    }

    /// <summary>Loads the case, or throws with how to make the models.</summary>
    public static OSNetCase Load(string variant) =>
        new(variant, FindDir(out string message) ?? throw new FileNotFoundException(message));

    /// <summary>A fresh Learn model (the reference modules) with the weights.</summary>
    public OSNet NewModel()
    {
        OSNet model = OSNet.Create(Variant, StateDict["classifier.bias"].Length);
        model.LoadStateDict(StateDict);
        return model;
    }

    /// <summary>The input repeated <paramref name="batch"/> times: [batch, 3, 256, 128].</summary>
    public Tensor Batch(int batch)
    {
        var data = new float[Input.Length * batch];
        for (int i = 0; i < batch; i++)
        {
            Input.Data.CopyTo(data, i * Input.Length);
        }

        return new Tensor([batch, .. Input.Shape[1..]], data);
    }

    /// <summary>
    /// Sets up peer <paramref name="name"/> at <paramref name="threads"/> threads for a batch of 1 or 8 (the fast peer's
    /// plan in <paramref name="layout"/>, running batches as <paramref name="planBatch"/> says).
    /// </summary>
    public IConvPeer Create(string name, int threads, int batch = 1, PlanLayout layout = PlanLayout.Auto, PlanBatch planBatch = PlanBatch.Auto)
    {
        if (batch is not (1 or 8))
        {
            throw new ArgumentException($"the exported ONNX models take a batch of 1 or 8, not {batch}", nameof(batch));
        }

        Tensor x = Batch(batch);
        return name switch
        {
            Peers.Naive => new LearnPeer(this, Implementation.Naive, 1, x),
            Peers.Fast => new LearnPeer(this, Implementation.Fast, threads, x, layout, planBatch),
            Peers.LibTorch => new TorchScriptPeer(this, threads, x),
            Peers.Onnx => new Peers.OnnxPeer(
                options => new InferenceSession(Path.Combine(Dir, Variant + (batch == 1 ? ".onnx" : ".b8.onnx")), options), x, [batch, 512], "input", "feature", threads),
            _ => throw new ArgumentException($"unknown peer '{name}'", nameof(name)),
        };
    }

    /// <summary>The reference modules (naive), or the model fused into an execution plan with its own thread count (fast).</summary>
    private sealed class LearnPeer(OSNetCase c, Implementation implementation, int threads, Tensor x, PlanLayout layout = PlanLayout.Auto,
        PlanBatch planBatch = PlanBatch.Auto) : IConvPeer
    {
        private readonly OSNet _model = c.NewModel();
        private readonly OSNetPlan? _plan = implementation == Implementation.Fast
            ? OSNetPlan.Fuse(c.NewModel(), new PlanOptions { Threads = threads, Layout = layout, Batch = planBatch }) : null;
        private Tensor? _y;

        public string Name => implementation == Implementation.Fast ? Peers.Fast : Peers.Naive;

        public void Run() => _y = _plan is null ? _model.Forward(x) : _plan.Forward(x);

        public float[] Output() => _y!.Data;

        public void Dispose()
        {
        }
    }

    /// <summary>torch.jit.load of the traced model, eval, no_grad, torch.set_num_threads(t).</summary>
    private sealed class TorchScriptPeer : IConvPeer
    {
        private readonly torch.jit.ScriptModule<torch.Tensor, torch.Tensor> _module;
        private readonly torch.Tensor _x;
        private torch.Tensor? _y;

        public TorchScriptPeer(OSNetCase c, int threads, Tensor x)
        {
            torch.set_num_threads(threads);
            _module = torch.jit.load<torch.Tensor, torch.Tensor>(Path.Combine(c.Dir, c.Variant + ".ts.pt"));
            _module.eval();
            _x = torch.tensor(x.Data, x.Shape.Select(d => (long)d).ToArray());
        }

        public string Name => Peers.LibTorch;

        public void Run()
        {
            using var _ = torch.no_grad();
            _y?.Dispose();
            _y = _module.call(_x);
        }

        public float[] Output() => _y!.contiguous().data<float>().ToArray();

        public void Dispose()
        {
            _y?.Dispose();
            _x.Dispose();
            _module.Dispose();
        }
    }
}

/// <summary>
/// The OSNet rows of <c>--quick</c>: batch 1 and 8 at each thread count, the fused plan against libtorch and ONNX
/// Runtime in one process. Every peer is first checked against the reference (one naive batch-1 forward; a batch of
/// 8 is the same image 8 times, so each row must match it). Then interleaved rounds: in each round every peer runs a
/// few calls in a rotating order, and the round's ratio fast / peer is recorded, so a change of load on the shared
/// machine hits all peers alike. Reported: the median time per call, the median ratio and its spread (the 10th to
/// 90th percentile of the per-round ratios).
/// </summary>
public static class QuickOSNet
{
    private static readonly string[] Timed = [Peers.Fast, Peers.LibTorch, Peers.Onnx];

    /// <summary>Writes the table; returns 1 if a peer disagreed with the reference, 0 otherwise (also when the models are missing).</summary>
    public static int Run(TextWriter output, IReadOnlyList<int> threadCounts, int rounds = 31, int[]? batches = null, bool profile = true,
        string variants = "", bool withTorch = true, bool cpuTime = false, PlanBatch planBatch = PlanBatch.Auto)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(threadCounts);
        batches ??= [1, 8];
        string[] timed = withTorch ? Timed : [Peers.Fast, Peers.Onnx];
        var inv = CultureInfo.InvariantCulture;
        if (OSNetCase.FindDir(out string message) is null)
        {
            output.WriteLine($"<!-- {message} -->");
            return 0;
        }

        bool allAgree = true;
        output.WriteLine($"load average at the start: {File.ReadAllText("/proc/loadavg").Trim()}");
        output.WriteLine();
        output.WriteLine("| model | batch | threads | fast ms | libtorch ms | onnxruntime ms | fast GFLOP/s | % of FMA peak | fast / onnxruntime (p10..p90) | fast / libtorch (p10..p90) | fast bytes allocated / forward |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (string variant in OSNetCase.Variants.Where(v => v.Contains(variants, StringComparison.Ordinal)))
        {
            OSNetCase c = OSNetCase.Load(variant);
            float[] reference;
            using (IConvPeer naive = c.Create(Peers.Naive, 1))
            {
                naive.Run(); // one forward: the reference takes seconds
                reference = naive.Output().ToArray();
            }

            string? vsTorch = QuickBench.Disagreement(reference, c.PyTorchOutput.Data, c.Reduction);
            if (vsTorch is not null)
            {
                allAgree = false;
                output.WriteLine($"<!-- naive disagrees with PyTorch on {variant}: {vsTorch} -->");
            }

            foreach (int batch in batches)
            {
                foreach (int threads in threadCounts)
                {
                    var peers = timed.Select(name => c.Create(name, threads, batch, planBatch: planBatch)).ToArray();
                    try
                    {
                        foreach (IConvPeer p in peers)
                        {
                            p.Run();
                            float[] y = p.Output();
                            for (int i = 0; i < batch; i++)
                            {
                                string? d = QuickBench.Disagreement(y.AsSpan(i * 512, 512).ToArray(), reference, c.Reduction);
                                if (d is not null)
                                {
                                    allAgree = false;
                                    output.WriteLine($"<!-- {p.Name} disagrees with the reference on {variant}, batch {batch}, image {i}: {d} -->");
                                    break;
                                }
                            }
                        }

                        long allocated = QuickBench.AllocatedPerCall(peers[0].Run);
                        // --cpu-time, 1 thread: every peer computes on the calling thread (checked below), so its CPU
                        // clock leaves out the time spent waiting for a core on a shared machine.
                        bool cpu = cpuTime && threads == 1;
                        if (cpu)
                        {
                            foreach (IConvPeer p in peers)
                            {
                                double share = CallerShare(p);
                                if (share < 0.95)
                                {
                                    output.WriteLine(string.Create(inv, $"<!-- {p.Name}: only {share:P0} of its CPU time is on the calling thread; --cpu-time undercounts it -->"));
                                }
                            }
                        }

                        var (ms, vsOnnx, vsTorch2) = Interleaved(peers, rounds, cpu ? ThreadClock.NowMs : null, pause: threads > 1);
                        if (!withTorch)
                        {
                            ms = [ms[0], double.NaN, ms[1]];
                        }

                        double gflops = 2.0 * c.Macs * batch / (ms[0] * 1e6);
                        output.WriteLine(string.Create(inv,
                            $"| {variant} | {batch} | {threads} | {ms[0]:F2} | {ms[1]:F2} | {ms[2]:F2} | {gflops:F0} | {100 * gflops / (268.0 * threads):F0}% | " +
                            $"{vsOnnx.Median:F2}x ({vsOnnx.Low:F2}..{vsOnnx.High:F2}) | {vsTorch2.Median:F2}x ({vsTorch2.Low:F2}..{vsTorch2.High:F2}) | {allocated} |"));
                    }
                    finally
                    {
                        foreach (IConvPeer p in peers)
                        {
                            p.Dispose();
                        }
                    }
                }
            }
        }

        output.WriteLine();
        output.WriteLine($"OSNet forward, 3x256x128, float32; {rounds} interleaved rounds per row{(cpuTime ? ", 1-thread rows by the thread's CPU clock" : "")}; % of FMA peak against 268 GFLOP/s per thread (docs/performance.md);");
        output.WriteLine("each peer checked against one naive forward (K = the output's reduction length) before timing.");
        if (profile)
        {
            foreach (string variant in OSNetCase.Variants)
            {
                output.WriteLine();
                WriteProfile(output, OSNetCase.Load(variant), 1);
            }
        }

        return allAgree ? 0 : 1;
    }

    /// <summary>The per-layer table of the plan at batch 1, one thread: steps grouped by stage and kind.</summary>
    public static void WriteProfile(TextWriter output, OSNetCase c, int threads)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(c);
        var inv = CultureInfo.InvariantCulture;
        OSNetPlan plan = OSNetPlan.Fuse(c.NewModel(), new PlanOptions { Threads = threads });
        // One thread: the thread's CPU clock, so that waiting for a core on a shared machine is not charged to a step.
        bool cpu = threads == 1 && ThreadClock.Available;
        IReadOnlyList<PlanStepTime> steps = plan.Profile(c.Input, rounds: 41, cpu ? ThreadClock.NowMs : null);
        double total = steps.Sum(s => s.Milliseconds);
        output.WriteLine($"{c.Variant}, batch 1, {threads} thread(s), {(cpu ? "thread CPU time" : "wall clock")}, load average " +
            $"{File.ReadAllText("/proc/loadavg").Trim()}: the plan's steps, summed by stage and kind (sum of medians {total.ToString("F2", inv)} ms)");
        output.WriteLine();
        output.WriteLine("| stage | step | calls | ms | share | GFLOP/s | % of FMA peak | MB moved | GB/s | bound by |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var g in steps.GroupBy(s => (Stage: s.Name.Split('.')[0].Split(' ')[0], s.Kind)))
        {
            double ms = g.Sum(s => s.Milliseconds);
            long macs = g.Sum(s => s.Macs), bytes = g.Sum(s => s.Bytes);
            double gflops = 2.0 * macs / (ms * 1e6), gbps = bytes / (ms * 1e6);
            // Which floor is nearer: the FMA peak (268 GFLOP/s per thread) or the one-core triad (34 GB/s).
            double computeFloor = 2.0 * macs / (268e9 * threads) * 1e3, memoryFloor = bytes / 34e9 * 1e3;
            string bound = Math.Max(computeFloor, memoryFloor) < 0.3 * ms ? "overhead / latency" : computeFloor >= memoryFloor ? "compute" : "memory";
            output.WriteLine(string.Create(inv,
                $"| {g.Key.Stage} | {g.Key.Kind} | {g.Count()} | {ms:F3} | {100 * ms / total:F0}% | {gflops:F0} | {100 * gflops / (268.0 * threads):F0}% | {bytes / 1e6:F2} | {gbps:F1} | {bound} |"));
        }
    }

    /// <summary>Median ms per call of each peer, and the per-round ratios fast / onnxruntime and fast / libtorch (median, 10th and 90th percentile).</summary>
    /// <summary>The calling thread's share of the process's CPU time over a few calls of <paramref name="peer"/>.</summary>
    private static double CallerShare(IConvPeer peer)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        process.Refresh();
        double thread0 = ThreadClock.NowMs(), process0 = process.TotalProcessorTime.TotalMilliseconds;
        for (int i = 0; i < 5; i++)
        {
            peer.Run();
        }

        process.Refresh();
        return (ThreadClock.NowMs() - thread0) / (process.TotalProcessorTime.TotalMilliseconds - process0);
    }

    /// <summary>
    /// Rounds of every peer in turn, the order rotating. With <paramref name="pause"/> (more than one thread) each peer's
    /// turn starts after 100 ms of sleep and one untimed call: the peers' pools spin-wait after a call (libtorch's OpenMP
    /// for up to a few hundred ms, ONNX Runtime's intra-op pool, Learn's for 50 us), and a peer timed right after
    /// another would share its cores with the other's spinning threads.
    /// </summary>
    private static (double[] Ms, (double Median, double Low, double High) VsOnnx, (double Median, double Low, double High) VsTorch) Interleaved(IConvPeer[] peers, int rounds,
        Func<double>? clockMs, bool pause = false)
    {
        clockMs ??= static () => System.Diagnostics.Stopwatch.GetTimestamp() * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        var perCall = peers.Select(p => QuickBench.MedianMs(p.Run, 0.3, minReps: 3)).ToArray(); // warm-up, first estimate
        var times = peers.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
        {
            for (int j = 0; j < peers.Length; j++)
            {
                int i = (r + j) % peers.Length; // rotate who goes first
                int calls = Math.Max(1, (int)(20 / perCall[i]));
                if (pause)
                {
                    Thread.Sleep(100);
                    peers[i].Run();
                }

                double t0 = clockMs();
                for (int k = 0; k < calls; k++)
                {
                    peers[i].Run();
                }

                times[i][r] = (clockMs() - t0) / calls;
            }
        }

        double[] ms = times.Select(t => t.Order().ElementAt(rounds / 2)).ToArray();
        int onnx = Array.FindIndex(peers, p => p.Name == Peers.Onnx), torch = Array.FindIndex(peers, p => p.Name == Peers.LibTorch);
        return (ms, Spread(Enumerable.Range(0, rounds).Select(r => times[0][r] / times[onnx][r])),
            torch < 0 ? (double.NaN, double.NaN, double.NaN) : Spread(Enumerable.Range(0, rounds).Select(r => times[0][r] / times[torch][r])));
    }

    private static (double Median, double Low, double High) Spread(IEnumerable<double> values)
    {
        double[] v = values.Order().ToArray();
        return (v[v.Length / 2], v[v.Length / 10], v[v.Length - 1 - (v.Length / 10)]);
    }
}

/// <summary>The BenchmarkDotNet run of the OSNet forward (MemoryDiagnoser: managed bytes per forward).</summary>
[MemoryDiagnoser]
public class OSNetBenchmarks
{
    private IConvPeer? _fast, _torch, _onnx;

    /// <summary>Which variant.</summary>
    [ParamsSource(nameof(VariantNames))]
    public string Variant { get; set; } = "";

    /// <summary>The variants.</summary>
    public static IEnumerable<string> VariantNames => OSNetCase.Variants;

    /// <summary>Threads for every peer.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Builds the peers (the naive forward, seconds long, is in --quick only).</summary>
    [GlobalSetup]
    public void Setup()
    {
        OSNetCase c = OSNetCase.Load(Variant);
        _fast = c.Create(Peers.Fast, Threads);
        _torch = c.Create(Peers.LibTorch, Threads);
        _onnx = c.Create(Peers.Onnx, Threads);
    }

    /// <summary>Frees native resources.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _fast?.Dispose();
        _torch?.Dispose();
        _onnx?.Dispose();
    }

    /// <summary>Learn's fast path.</summary>
    [Benchmark(Description = "fast", Baseline = true)]
    public void Fast() => _fast!.Run();

    /// <summary>libtorch via TorchSharp (TorchScript).</summary>
    [Benchmark(Description = "libtorch")]
    public void LibTorch() => _torch!.Run();

    /// <summary>ONNX Runtime.</summary>
    [Benchmark(Description = "onnxruntime")]
    public void OnnxRuntime() => _onnx!.Run();
}
