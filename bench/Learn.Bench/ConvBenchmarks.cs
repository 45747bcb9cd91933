using BenchmarkDotNet.Attributes;

namespace Learn.Bench;

/// <summary>
/// The full run, by BenchmarkDotNet (in process, so every peer shares one process and the patched libtorch):
/// each case at 1 and 2 threads, naive / fast / libtorch / ONNX Runtime, with allocations per call.
/// </summary>
[MemoryDiagnoser]
public class ConvBenchmarks
{
    private IConvPeer? _naive, _fast, _torch, _onnx;

    /// <summary>The case names, for the Case parameter.</summary>
    public static IEnumerable<string> CaseNames => BenchCase.All.Select(c => c.Key);

    /// <summary>Which case.</summary>
    [ParamsSource(nameof(CaseNames))]
    public string Case { get; set; } = "";

    /// <summary>Threads for every peer.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Builds the four peers.</summary>
    [GlobalSetup]
    public void Setup()
    {
        BenchCase c = BenchCase.All.Single(b => b.Key == Case);
        _naive = Peers.Create(Peers.Naive, c, Threads);
        _fast = Peers.Create(Peers.Fast, c, Threads);
        _torch = Peers.Create(Peers.LibTorch, c, Threads);
        _onnx = Peers.Create(Peers.Onnx, c, Threads);
    }

    /// <summary>Frees native resources.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _naive?.Dispose();
        _fast?.Dispose();
        _torch?.Dispose();
        _onnx?.Dispose();
    }

    /// <summary>The reference.</summary>
    [Benchmark(Description = "naive")]
    public void Naive() => _naive!.Run();

    /// <summary>Learn's fast path.</summary>
    [Benchmark(Description = "fast", Baseline = true)]
    public void Fast() => _fast!.Run();

    /// <summary>libtorch via TorchSharp.</summary>
    [Benchmark(Description = "libtorch")]
    public void LibTorch() => _torch!.Run();

    /// <summary>ONNX Runtime.</summary>
    [Benchmark(Description = "onnxruntime")]
    public void OnnxRuntime() => _onnx!.Run();
}
