using Learn.Layers;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// The per-layer rule that tells a port's float32 rounding from a bug (<c>learn diff</c>), beside the operator rule
/// <see cref="Tolerance"/>. Both modes judge each element by its own tolerance t and report the ratio |a - e| / t;
/// a layer diverges when some element's ratio exceeds 1. u = 2^-24.
/// <para><b>Isolated</b> (the layer recomputed by the reference from the port's own inputs, so only the layer's own
/// rounding can differ): for an output value y = sum of K terms x_k w_k (+ bias),</para>
/// <code>t = λ u ((√K + s) M + |y|),   M = Σ_k |x_k| |w_k| + |bias|,   λ = 8</code>
/// the probabilistic bound for a float32 sum of K terms in any order, λ u √K Σ|terms| (Higham and Mary, "A New
/// Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 41(5), 2019: it fails with probability
/// at most 2 exp(-λ²/2) per value, 2.5e-14 for λ = 8), plus the final rounding of y; s = (number of summed inputs − 1)
/// covers the port's float32 sum of several inputs (OSBlock's conv3 is fed the sum of four gated streams). M is the
/// layer's own magnitude: the same op run on |x| with |w| (Conv2d, Linear, average pooling with K = the window);
/// BatchNorm: M = (|x| + |mean|) |γ| / sqrt(var + eps) + |β| with K = 1; Sigmoid, the gate's product and OSBlock's
/// residual add: M = the magnitudes of the operands, K = 1. ReLU and max pooling are exact (t = 0). A chain
/// (Sequential, ConvLayer ...), a layer whose parts the port fused (BatchNorm folded into the conv), or a gate or
/// block whose parts were not dumped is re-run whole from its input under the propagated rule below.
/// <para><b>Propagated</b> (the port's dump against the reference run end to end; rounding from all earlier layers is
/// in it): <c>t = F noise_L + 2u|e|,  F = 8</c>, where noise_L is recorded per layer by the reference dump
/// (<see cref="NoiseProbe"/>): the largest deviation, at that layer, of the reference re-run with a simulated float32
/// rounding error injected into every computing layer's output (uniform in ±u(√K rms(y) + |y|), the same local
/// size as above with the layer's RMS for M). So the tolerance grows with what the layers before did (depth, gains,
/// magnitudes) as a real float32 port's error does, and F leaves room for a port whose rounding is a few times
/// larger than the simulated one (another summation order at every layer).</para>
/// </summary>
public static class PortTolerance
{
    /// <summary>λ of the isolated rule.</summary>
    public const double Lambda = 8;

    /// <summary>F of the propagated rule.</summary>
    public const double NoiseFactor = 8;

    /// <summary>float32's unit roundoff.</summary>
    public const double U = Tolerance.UnitRoundoff;

    /// <summary>The propagated rule's tolerance for an expected value <paramref name="expected"/> at a layer whose recorded noise is <paramref name="noise"/>.</summary>
    public static double Propagated(double noise, double expected) => NoiseFactor * noise + 2 * U * Math.Abs(expected);

    /// <summary>The isolated rule's tolerance for a value y with magnitude M, own reduction K and <paramref name="extraInputs"/> summed inputs beyond the first.</summary>
    public static double Isolated(double magnitude, long k, int extraInputs, double y) =>
        Lambda * U * ((Math.Sqrt(k) + extraInputs) * magnitude + Math.Abs(y));
}

/// <summary>The verdict on one layer under a per-element tolerance: the worst element is the one with the largest error/tolerance ratio.</summary>
/// <param name="MaxAbsError">max |a - e|.</param>
/// <param name="WorstRatio">max |a - e| / t (0 when equal, infinity for a difference where t = 0 or NaN/Inf).</param>
/// <param name="WorstIndex">Flat index of the element with <paramref name="WorstRatio"/>.</param>
/// <param name="Port">The port's value there.</param>
/// <param name="Expected">The expected value there.</param>
/// <param name="ToleranceAtWorst">t there.</param>
/// <param name="Outside">How many elements have a ratio above 1.</param>
/// <param name="Shape">The layer's shape.</param>
public sealed record LayerVerdict(double MaxAbsError, double WorstRatio, int WorstIndex, float Port, float Expected, double ToleranceAtWorst, int Outside, IReadOnlyList<int> Shape)
{
    /// <summary>True when every element is within its tolerance.</summary>
    public bool Close => Outside == 0;

    /// <summary>The worst element's index in <see cref="Shape"/>, e.g. (0, 3, 4, 1).</summary>
    public string WorstAt
    {
        get
        {
            var index = new int[Shape.Count];
            int flat = Math.Max(0, WorstIndex);
            for (int d = Shape.Count - 1; d >= 0; d--)
            {
                index[d] = Shape[d] == 0 ? 0 : flat % Shape[d];
                flat = Shape[d] == 0 ? 0 : flat / Shape[d];
            }

            return "(" + string.Join(", ", index) + ")";
        }
    }

    /// <summary>Compares <paramref name="port"/> with <paramref name="expected"/> (same shape) under the per-element tolerance <paramref name="tolerance"/>.</summary>
    public static LayerVerdict Of(Tensor port, Tensor expected, Func<int, double> tolerance)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(tolerance);
        if (!port.SameShape(expected))
        {
            throw new ArgumentException($"shape {port.ShapeString} against {expected.ShapeString}");
        }

        double maxAbs = 0, worst = -1, tolAtWorst = 0;
        int worstIndex = 0, outside = 0;
        for (int i = 0; i < port.Length; i++)
        {
            double a = port.Data[i], e = expected.Data[i];
            double abs = a == e ? 0 : Math.Abs(a - e); // a == e admits equal infinities
            if (double.IsNaN(abs))
            {
                abs = double.PositiveInfinity;
            }

            double t = tolerance(i);
            double ratio = abs == 0 ? 0 : t > 0 ? abs / t : double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, abs);
            if (ratio > 1)
            {
                outside++;
            }

            if (ratio > worst)
            {
                worst = ratio;
                worstIndex = i;
                tolAtWorst = t;
            }
        }

        return new LayerVerdict(maxAbs, Math.Max(0, worst), worstIndex,
            port.Length == 0 ? 0 : port.Data[worstIndex], expected.Length == 0 ? 0 : expected.Data[worstIndex], tolAtWorst, outside, port.Shape);
    }
}

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

/// <summary>The reference side of <c>learn diff</c>: what <c>learn osnet --activations</c> writes.</summary>
public static class PortReference
{
    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="x"/> with every module call's output written to
    /// <paramref name="dump"/> (the input first, as <c>input</c>), then records each layer's float32 noise in the
    /// index (<see cref="NoiseProbe"/>, on the reference loops whatever implementation the model was set to).
    /// Returns the output.
    /// </summary>
    public static Tensors.Tensor Dump(Models.OSNet model, Tensors.Tensor x, ActivationDirectory dump)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dump);
        dump.Record(OSNetGraph.InputKey, 1, x); // the image, so a port's input (BGR, normalisation) is compared too
        Tensors.Tensor y = model.Forward(x, dump);
        model.UseImplementation(Ops.Implementation.Naive);
        var noise = new Dictionary<string, double>(NoiseProbe.Measure(model, x, key =>
        {
            string file = Path.Combine(dump.Folder, key + ".npy");
            return File.Exists(file) ? IO.Npy.Read(file) : null;
        }), StringComparer.Ordinal)
        {
            [OSNetGraph.InputKey] = 0, // the input is given, not computed
        };
        dump.RecordNoise(noise);
        return y;
    }
}
