using Learn.Layers;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// The reference's float32 noise per layer, for the propagated rule (<see cref="PortTolerance"/>): runs the model
/// again with a seeded rounding-sized error injected into each computing layer's output as it is produced (an
/// activation sink may change the tensor it is given before the next layer reads it, like a PyTorch forward hook
/// returning a modified output), and records how far each layer's output then is from the clean run.
/// </summary>
public sealed class NoiseProbe : IActivationSink
{
    private readonly Module _root;
    private readonly Func<string, Tensor?> _clean;
    private readonly Dictionary<string, double> _noise = new(StringComparer.Ordinal);
    private readonly HashSet<Tensor> _perturbed = new(ReferenceEqualityComparer.Instance);

    private NoiseProbe(Module root, Func<string, Tensor?> clean)
    {
        _root = root;
        _clean = clean;
    }

    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="x"/> with the injected rounding and returns, per dump key,
    /// max |noisy - clean| where <paramref name="clean"/> gives the clean run's output of a key (null: not recorded).
    /// Deterministic: the injected values come from a generator seeded by the key.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Measure(Module model, Tensor x, Func<string, Tensor?> clean)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(clean);
        var probe = new NoiseProbe(model, clean);
        model.Forward(x.Clone(), probe);
        return probe._noise;
    }

    /// <inheritdoc />
    public void Record(string name, int call, Tensor output)
    {
        ArgumentNullException.ThrowIfNull(output);
        string key = ActivationRecorder.KeyOf(name, call);
        Module module = _root.GetSubmodule(name);
        long? k = module switch
        {
            Conv2d conv => conv.ReductionLength,
            Linear linear => linear.InFeatures,
            AvgPool2d pool => (long)pool.Options.Kernel.Aggregate(1, (p, s) => p * s),
            AdaptiveAvgPool2d or BatchNorm2d or InstanceNorm2d or Sigmoid or Models.OSBlock or Models.ChannelGate => 1,
            _ => null, // exact (ReLU, max pooling) or a chain returning its last child's tensor
        };
        if (k is long kk && _perturbed.Add(output))
        {
            Inject(output, kk, key);
        }

        Tensor? reference = _clean(key);
        if (reference is not null && reference.SameShape(output))
        {
            double max = 0;
            for (int i = 0; i < output.Length; i++)
            {
                max = Math.Max(max, Math.Abs((double)output.Data[i] - reference.Data[i]));
            }

            _noise[key] = max;
        }
    }

    private static void Inject(Tensor y, long k, string key)
    {
        double sumSquares = 0;
        foreach (float v in y.Data)
        {
            sumSquares += (double)v * v;
        }

        double rms = y.Length == 0 ? 0 : Math.Sqrt(sumSquares / y.Length);
        var random = new Random(StableHash(key));
        for (int i = 0; i < y.Length; i++)
        {
            double r = 2 * random.NextDouble() - 1;
            y.Data[i] = (float)(y.Data[i] + r * PortTolerance.U * (Math.Sqrt(k) * rms + Math.Abs(y.Data[i])));
        }
    }

    // FNV-1a: string.GetHashCode differs between processes.
    private static int StableHash(string text)
    {
        uint h = 2166136261;
        foreach (char c in text)
        {
            h = (h ^ c) * 16777619;
        }

        return (int)(h & 0x7fffffff);
    }
}
