using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Tensor = Learn.Tensors.Tensor;

namespace Learn.Bench;

/// <summary>One implementation of a benchmark case, set up once, then run many times.</summary>
public interface IConvPeer : IDisposable
{
    /// <summary>Column name in the tables.</summary>
    string Name { get; }

    /// <summary>One forward.</summary>
    void Run();

    /// <summary>The output of the last <see cref="Run"/>, as float32 NCHW.</summary>
    float[] Output();
}

/// <summary>The peers of a case at a thread count.</summary>
public static class Peers
{
    /// <summary>The reference loop.</summary>
    public const string Naive = "naive";

    /// <summary>Learn's fast path.</summary>
    public const string Fast = "fast";

    /// <summary>libtorch through TorchSharp.</summary>
    public const string LibTorch = "libtorch";

    /// <summary>ONNX Runtime on a one-Conv model.</summary>
    public const string Onnx = "onnxruntime";

    /// <summary>Sets up peer <paramref name="name"/> for case <paramref name="c"/> at <paramref name="threads"/> threads.</summary>
    public static IConvPeer Create(string name, BenchCase c, int threads) => name switch
    {
        Naive => new NaivePeer(c),
        Fast => new FastPeer(c, threads),
        LibTorch => new TorchPeer(c, threads),
        Onnx => new OnnxPeer(options => new InferenceSession(OnnxConvModel.Build(c), options), c.Input, c.OutputShape, "X", "Y", threads),
        _ => throw new ArgumentException($"unknown peer '{name}'", nameof(name)),
    };

    private sealed class NaivePeer(BenchCase c) : IConvPeer
    {
        private Tensor? _y;

        public string Name => Naive;

        public void Run() => _y = Conv.Conv2d(c.Input, c.Weight, c.Bias, c.Options, Implementation.Naive);

        public float[] Output() => _y!.Data;

        public void Dispose()
        {
        }
    }

    /// <summary>Writes into one output tensor, as a steady-state caller would.</summary>
    private sealed class FastPeer : IConvPeer
    {
        private readonly BenchCase _c;
        private readonly Tensor _y;
        private readonly int _threads;

        public FastPeer(BenchCase c, int threads)
        {
            _c = c;
            _threads = threads;
            _y = Tensor.Zeros(c.OutputShape);
        }

        public string Name => Fast;

        public void Run()
        {
            Parallelism.Threads = _threads;
            FastConv.Conv2d(_c.Input, _c.Weight, _c.Bias, _c.Options, output: _y);
        }

        public float[] Output() => _y.Data;

        public void Dispose()
        {
        }
    }

    /// <summary>torch.nn.functional.conv2d under no_grad, with torch.set_num_threads(t).</summary>
    private sealed class TorchPeer : IConvPeer
    {
        private readonly BenchCase _c;
        private readonly torch.Tensor _x, _w, _b;
        private torch.Tensor? _y;

        public TorchPeer(BenchCase c, int threads)
        {
            _c = c;
            torch.set_num_threads(threads);
            _x = torch.tensor(c.Input.Data, c.InputShape.Select(d => (long)d).ToArray());
            _w = torch.tensor(c.Weight.Data, c.WeightShape.Select(d => (long)d).ToArray());
            _b = torch.tensor(c.Bias.Data, [c.WeightShape[0]]);
        }

        public string Name => LibTorch;

        public void Run()
        {
            using var _ = torch.no_grad();
            _y?.Dispose();
            _y = torch.nn.functional.conv2d(_x, _w, _b,
                strides: [_c.Stride[0], _c.Stride[1]], padding: [_c.Padding[0], _c.Padding[1]],
                dilation: [_c.Dilation[0], _c.Dilation[1]], groups: _c.Groups);
        }

        public float[] Output() => _y!.contiguous().data<float>().ToArray();

        public void Dispose()
        {
            _y?.Dispose();
            _x.Dispose();
            _w.Dispose();
            _b.Dispose();
        }
    }

    /// <summary>
    /// An ONNX Runtime peer: an InferenceSession (ORT_ENABLE_ALL, IntraOpNumThreads = t, sequential) with its input
    /// and output bound once, so a timed run does no allocation of ours. the <c>open</c> function makes the session
    /// from the options (a one-Conv model built in memory, or an exported model file).
    /// </summary>
    internal sealed class OnnxPeer : IConvPeer
    {
        private readonly InferenceSession _session;
        private readonly SessionOptions _options;
        private readonly RunOptions _run = new();
        private readonly OrtValue _x, _y;
        private readonly float[] _out;
        private readonly string[] _inputNames, _outputNames;

        public OnnxPeer(Func<SessionOptions, InferenceSession> open, Tensor input, int[] outputShape, string inputName, string outputName, int threads)
        {
            _options = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            };
            _session = open(_options);
            _inputNames = [inputName];
            _outputNames = [outputName];
            _x = OrtValue.CreateTensorValueFromMemory(input.Data, input.Shape.Select(d => (long)d).ToArray());
            _out = new float[Tensor.CountOf(outputShape)];
            _y = OrtValue.CreateTensorValueFromMemory(_out, outputShape.Select(d => (long)d).ToArray());
        }

        public string Name => Onnx;

        public void Run() => _session.Run(_run, _inputNames, [_x], _outputNames, [_y]);

        public float[] Output() => _out;

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
            _run.Dispose();
            _session.Dispose();
            _options.Dispose();
        }
    }
}
