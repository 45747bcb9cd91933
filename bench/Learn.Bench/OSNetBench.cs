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

    /// <summary>Sets up peer <paramref name="name"/> at <paramref name="threads"/> threads.</summary>
    public IConvPeer Create(string name, int threads) => name switch
    {
        Peers.Naive => new LearnPeer(this, Implementation.Naive, 1),
        Peers.Fast => new LearnPeer(this, Implementation.Fast, threads),
        Peers.LibTorch => new TorchScriptPeer(this, threads),
        Peers.Onnx => new Peers.OnnxPeer(
            options => new InferenceSession(Path.Combine(Dir, Variant + ".onnx"), options), Input, [1, 512], "input", "feature", threads),
        _ => throw new ArgumentException($"unknown peer '{name}'", nameof(name)),
    };

    /// <summary>The reference modules (naive), or the model fused into an execution plan with its own thread count (fast).</summary>
    private sealed class LearnPeer(OSNetCase c, Implementation implementation, int threads) : IConvPeer
    {
        private readonly OSNet _model = c.NewModel();
        private readonly OSNetPlan? _plan = implementation == Implementation.Fast ? OSNetPlan.Fuse(c.NewModel(), new PlanOptions { Threads = threads }) : null;
        private Tensor? _y;

        public string Name => implementation == Implementation.Fast ? Peers.Fast : Peers.Naive;

        public void Run() => _y = _plan is null ? _model.Forward(c.Input) : _plan.Forward(c.Input);

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

        public TorchScriptPeer(OSNetCase c, int threads)
        {
            torch.set_num_threads(threads);
            _module = torch.jit.load<torch.Tensor, torch.Tensor>(Path.Combine(c.Dir, c.Variant + ".ts.pt"));
            _module.eval();
            _x = torch.tensor(c.Input.Data, c.Input.Shape.Select(d => (long)d).ToArray());
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

/// <summary>The OSNet rows of <c>--quick</c>: one naive forward, then fast, libtorch and ONNX Runtime at each thread count.</summary>
public static class QuickOSNet
{
    private static readonly string[] Timed = [Peers.Fast, Peers.LibTorch, Peers.Onnx];

    /// <summary>Writes the table; returns 1 if a peer disagreed with the reference, 0 otherwise (also when the models are missing).</summary>
    public static int Run(TextWriter output, IReadOnlyList<int> threadCounts, double secondsPerMeasurement = 3, bool naiveX1 = true)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(threadCounts);
        var inv = CultureInfo.InvariantCulture;
        if (OSNetCase.FindDir(out string message) is null)
        {
            output.WriteLine($"<!-- {message} -->");
            return 0;
        }

        int saved = Parallelism.Threads;
        bool allAgree = true;
        output.WriteLine("| model | threads | MACs | naive ms | fast ms | libtorch ms | onnxruntime ms | fast GFLOP/s | best peer GFLOP/s | fast / best peer | fast / libtorch | naive / fast | fast bytes allocated / forward |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (string variant in OSNetCase.Variants)
        {
            OSNetCase c = OSNetCase.Load(variant);
            double naiveMs;
            float[] reference;
            using (IConvPeer naive = c.Create(Peers.Naive, 1))
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                naive.Run(); // one forward: the reference takes seconds
                naiveMs = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                reference = naive.Output().ToArray();
            }

            string? vsTorch = QuickBench.Disagreement(reference, c.PyTorchOutput.Data, c.Reduction);
            if (vsTorch is not null)
            {
                allAgree = false;
                output.WriteLine($"<!-- naive disagrees with PyTorch on {variant}: {vsTorch} -->");
            }

            foreach (int threads in threadCounts)
            {
                var peers = Timed.Select(name => c.Create(name, threads)).ToArray();
                var ms = new Dictionary<string, double>();
                long allocated;
                try
                {
                    foreach (IConvPeer p in peers)
                    {
                        p.Run();
                        string? d = QuickBench.Disagreement(p.Output(), reference, c.Reduction);
                        if (d is not null)
                        {
                            allAgree = false;
                            output.WriteLine($"<!-- {p.Name} disagrees with the reference on {variant}: {d} -->");
                        }
                    }

                    allocated = QuickBench.AllocatedPerCall(peers[0].Run);
                    double[] medians = threads == 1
                        ? QuickBench.InterleavedMs(peers.Select(p => (Action)p.Run).ToArray(), secondsPerMeasurement, () => System.Diagnostics.Stopwatch.GetTimestamp() * 1000.0 / System.Diagnostics.Stopwatch.Frequency)
                        : peers.Select(p =>
                        {
                            Thread.Sleep(300);
                            return QuickBench.MedianMs(p.Run, secondsPerMeasurement / peers.Length);
                        }).ToArray();
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
                double fast = ms[Peers.Fast];
                output.WriteLine(string.Create(inv,
                    $"| {variant} | {threads} | {c.Macs / 1e6:F0}M | {naiveMs:F0} | {fast:F2} | {ms[Peers.LibTorch]:F2} | {ms[Peers.Onnx]:F2} | " +
                    $"{2.0 * c.Macs / (fast * 1e6):F1} | {2.0 * c.Macs / (best * 1e6):F1} | {fast / best:F2}x | {fast / ms[Peers.LibTorch]:F2}x | {naiveMs / fast:F0}x | {allocated} |"));
            }
        }

        Parallelism.Threads = saved;
        output.WriteLine();
        output.WriteLine("OSNet: batch 1, 3x256x128; naive is one single-threaded forward; each peer checked against it (K = the output's reduction length) before timing.");
        return allAgree ? 0 : 1;
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
