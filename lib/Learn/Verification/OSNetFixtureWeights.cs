using System.Text;
using Learn.Layers;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// The C# twin of generated() in reference-weights/osnet/export_osnet.py: every state_dict tensor drawn from
/// splitmix64 keyed by FNV-1a("&lt;seed&gt;/&lt;variant&gt;/&lt;key&gt;") and mapped to dyadic rationals, so the
/// OSNet stage fixtures (<see cref="OSNetFixtureSuite"/>, <c>learn verify</c>) and the tests rebuild PyTorch's
/// exact weights without storing them. The tests check it against the manifest's checksums and, for
/// osnet_x0_25, against the exported .npy weights; the two generators must change together.
/// </summary>
public static class OSNetFixtureWeights
{
    private const ulong Golden = 0x9E3779B97F4A7C15;

    /// <summary>64-bit FNV-1a of the UTF-8 bytes of <paramref name="text"/> (the key hash of the generator).</summary>
    public static ulong Fnv1a64(string text)
    {
        ulong h = 0xCBF29CE484222325;
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            h = unchecked((h ^ b) * 0x100000001B3);
        }

        return h;
    }

    /// <summary>z_i = mix(base + (i+1)*golden): splitmix64's output function on a counter.</summary>
    /// <param name="seedBase">The stream's base, FNV-1a of its key.</param>
    /// <param name="i">The index of the value in the stream, from 0.</param>
    public static ulong SplitMix(ulong seedBase, long i)
    {
        unchecked
        {
            ulong z = seedBase + (ulong)(i + 1) * Golden;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            return z ^ (z >> 31);
        }
    }

    /// <summary>
    /// The tensor named <paramref name="key"/> ("variant/state_dict key"), by the last part of its name:
    /// a weight of rank &gt;= 2 is k * 2^(e-10) with k uniform in [-1024, 1024) and 2^e nearest sqrt(3/fan_in);
    /// running_var and a rank-1 weight are 0.5 + u * 2^-10 with u uniform in [0, 1024); running_mean and bias
    /// are k * 2^-13. Every value is a dyadic rational with at most 11 significant bits, exact in float16 and up.
    /// </summary>
    /// <exception cref="ArgumentException">The name has no rule (not weight, bias, running_mean or running_var).</exception>
    public static Tensor Generate(int seed, string key, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(shape);
        ulong seedBase = Fnv1a64($"{seed}/{key}");
        long n = Tensor.CountOf(shape);
        string name = key[(key.LastIndexOf('.') + 1)..];
        var data = new float[n];
        int e = 0;
        if (name == "weight" && shape.Length >= 2)
        {
            long fanIn = n / shape[0];
            e = (int)Math.Round(Math.Log2(Math.Sqrt(3.0 / fanIn)), MidpointRounding.ToEven); // Python's round()
        }

        for (long i = 0; i < n; i++)
        {
            ulong z = SplitMix(seedBase, i);
            long k = (long)(z >> 53) - 1024; // [-1024, 1024)
            long u = (long)(z >> 54);        // [0, 1024)
            double v = name switch
            {
                "weight" when shape.Length >= 2 => Math.ScaleB(k, e - 10),
                "running_var" or "weight" => 0.5 + Math.ScaleB(u, -10),
                "running_mean" or "bias" => Math.ScaleB(k, -13),
                _ => throw new ArgumentException($"no generator rule for {key}"),
            };
            data[i] = (float)v; // exact: dyadic with at most 11 significant bits
        }

        return new Tensor(shape, data);
    }

    /// <summary>An input tensor (export_osnet.py's generated_input): k * 2^-10 with k uniform in [-1024, 1024), keyed by "&lt;seed&gt;/&lt;key&gt;".</summary>
    public static Tensor Input(int seed, string key, int[] shape)
    {
        ulong seedBase = Fnv1a64($"{seed}/{key}");
        var data = new float[Tensor.CountOf(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)Math.ScaleB((long)(SplitMix(seedBase, i) >> 53) - 1024, -10);
        }

        return new Tensor(shape, data);
    }

    /// <summary>A state_dict for every tensor of <paramref name="model"/>, as the export script fills <paramref name="prefix"/>.</summary>
    public static Dictionary<string, Tensor> For(Module model, string prefix, int seed) =>
        (model ?? throw new ArgumentNullException(nameof(model))).NamedTensors().ToDictionary(p => p.Key, p => Generate(seed, $"{prefix}/{p.Key}", p.Value.Shape));
}
