using System.Text.Json;
using Learn.IO;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Tests.Golden;

/// <summary>
/// One case of reference-weights/gradients/manifest.json: the forward's tensors and arguments, dL/dy, and
/// PyTorch autograd's gradients with the reduction length K each is held to.
/// </summary>
public sealed class GradientCase
{
    private readonly string _directory;
    private readonly JsonElement _args;

    private GradientCase(JsonElement c, string directory)
    {
        _directory = directory;
        Name = c.GetProperty("name").GetString()!;
        Op = c.GetProperty("op").GetString()!;
        _args = c.GetProperty("args").Clone();
        Inputs = c.GetProperty("inputs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Expected = c.GetProperty("expected").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        ReductionLength = c.GetProperty("reduction_length").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
    }

    public string Name { get; }

    public string Op { get; }

    public IReadOnlyDictionary<string, string> Inputs { get; }

    /// <summary>Gradient name (grad_input, grad_weight, grad_bias, ...) -> file.</summary>
    public IReadOnlyDictionary<string, string> Expected { get; }

    /// <summary>Gradient name -> K of the tolerance rule.</summary>
    public IReadOnlyDictionary<string, long> ReductionLength { get; }

    public JsonElement Args => _args;

    public int SpatialDims => Op[4] - '0';

    public bool Has(string role) => Inputs.ContainsKey(role);

    public Tensor Load(string role) => Npy.Read(Path.Combine(_directory, Inputs[role]));

    public Tensor LoadExpected(string gradient) => Npy.Read(Path.Combine(_directory, Expected[gradient]));

    /// <summary>The forward's conv arguments as <see cref="ConvOptions"/>.</summary>
    public ConvOptions ConvOptions()
    {
        JsonElement p = _args.GetProperty("padding");
        Padding padding = p.ValueKind switch
        {
            JsonValueKind.String => Padding.Parse(p.GetString()!),
            JsonValueKind.Number => Padding.Of(p.GetInt32()),
            _ => Padding.Of(p.EnumerateArray().Select(v => v.GetInt32()).ToArray()),
        };
        return new ConvOptions
        {
            Stride = Ints("stride"),
            Padding = padding,
            Dilation = Ints("dilation"),
            Groups = _args.GetProperty("groups").GetInt32(),
            PaddingMode = PaddingModes.Parse(_args.GetProperty("padding_mode").GetString()!),
        };
    }

    /// <summary>The conv gradients computed by the library with <paramref name="impl"/>, by gradient name.</summary>
    public Dictionary<string, Tensor> ComputeConv(Implementation impl)
    {
        Tensor x = Load("input"), w = Load("weight"), dy = Load("grad_output");
        bool bias = _args.GetProperty("bias").GetBoolean();
        ConvOptions options = ConvOptions();
        ConvGradients grads = SpatialDims switch
        {
            1 => ConvBackward.Conv1d(x, w, dy, bias, options, impl),
            2 => ConvBackward.Conv2d(x, w, dy, bias, options, impl),
            _ => ConvBackward.Conv3d(x, w, dy, bias, options, impl),
        };
        var result = new Dictionary<string, Tensor> { ["grad_input"] = grads.Input, ["grad_weight"] = grads.Weight };
        if (grads.Bias is not null)
        {
            result["grad_bias"] = grads.Bias;
        }

        return result;
    }

    private int[] Ints(string key)
    {
        JsonElement v = _args.GetProperty(key);
        return v.ValueKind == JsonValueKind.Number ? [v.GetInt32()] : v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    public override string ToString() => Name;

    /// <summary>Every case of the manifest under reference-weights/gradients, found above the test's directory.</summary>
    public static IReadOnlyList<GradientCase> LoadAll(out string torchVersion)
    {
        string directory = FindDirectory();
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "manifest.json")));
        JsonElement root = doc.RootElement;
        if (root.GetProperty("format").GetInt32() != 1)
        {
            throw new InvalidDataException("reference-weights/gradients/manifest.json: unknown format; re-run export_gradients.py");
        }

        torchVersion = root.GetProperty("torch_version").GetString()!;
        return root.GetProperty("cases").EnumerateArray().Select(c => new GradientCase(c, directory)).ToList();
    }

    private static string FindDirectory()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (string? d = start; d is not null; d = Path.GetDirectoryName(d))
            {
                string candidate = Path.Combine(d, "reference-weights", "gradients");
                if (File.Exists(Path.Combine(candidate, "manifest.json")))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException("reference-weights/gradients/manifest.json not found above the current or base directory");
    }
}
