using System.Text.Json;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// Maps a fixture case's PyTorch arguments (the manifest's <c>args</c>, spelled as in PyTorch) onto the
/// library's operators and calls them. Unknown operators and malformed arguments name the manifest and case.
/// </summary>
internal sealed class FixtureArguments
{
    private readonly FixtureCase _case;
    private readonly JsonElement _args;
    private readonly string _where;

    public FixtureArguments(FixtureCase fixture, JsonElement args, string manifestPath)
    {
        _case = fixture;
        _args = args;
        _where = $"{manifestPath}: case '{fixture.Name}'";
    }

    public Tensor Invoke(Implementation impl) => _case.Op switch
    {
        "conv1d" => Conv.Conv1d(Input, _case.Load("weight"), Bias(), ConvOptions(), impl),
        "conv2d" => Conv.Conv2d(Input, _case.Load("weight"), Bias(), ConvOptions(), impl),
        "conv3d" => Conv.Conv3d(Input, _case.Load("weight"), Bias(), ConvOptions(), impl),
        "batch_norm" => BatchNorm.Forward(Input, _case.Load("running_mean"), _case.Load("running_var"),
            _case.LoadOptional("weight"), _case.LoadOptional("bias"), Double("eps")),
        "instance_norm" => InstanceNorm.Forward(Input, _case.LoadOptional("weight"), _case.LoadOptional("bias"), Double("eps")),
        "relu" => Relu.Forward(Input),
        "silu" => Silu.Forward(Input),
        "sigmoid" => Sigmoid.Forward(Input),
        "max_pool2d" => MaxPool2d.Forward(Input, PoolOptions(withDilation: true)),
        "avg_pool2d" => AvgPool2d.Forward(Input, PoolOptions(withDilation: false)),
        "adaptive_avg_pool2d" => AdaptiveAvgPool(),
        "linear" => Linear.Forward(Input, _case.Load("weight"), Bias()),
        "cat" => Concat.Forward(Numbered(), Int("dim")),
        "add" => Add(),
        _ => throw new InvalidDataException($"{_where}: unknown op '{_case.Op}'"),
    };

    private Tensor Input => _case.Load("input");

    // The manifest says whether the layer has a bias; the file must agree.
    private Tensor? Bias()
    {
        bool declared = Bool("bias");
        if (declared != _case.Inputs.ContainsKey("bias"))
        {
            throw new InvalidDataException($"{_where}: bias={declared.ToString().ToLowerInvariant()} but the bias tensor is {(declared ? "missing" : "present")}");
        }

        return _case.LoadOptional("bias");
    }

    private ConvOptions ConvOptions() => new()
    {
        Stride = IntList("stride"),
        Padding = Padding(),
        Dilation = IntList("dilation"),
        Groups = Int("groups"),
        PaddingMode = Mode(),
    };

    private Padding Padding()
    {
        JsonElement v = Get("padding");
        return v.ValueKind == JsonValueKind.String
            ? v.GetString() switch
            {
                "same" => Ops.Padding.Same,
                "valid" => Ops.Padding.Valid,
                var other => throw new InvalidDataException($"{_where}: padding '{other}' is not same, valid or sizes"),
            }
            : Ops.Padding.Of(Fixtures.AsIntList(v, "padding", _where));
    }

    private PaddingMode Mode()
    {
        string text = Fixtures.GetString(_args, "padding_mode", _where);
        try
        {
            return PaddingModes.Parse(text);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{_where}: {e.Message}", e);
        }
    }

    private PoolOptions PoolOptions(bool withDilation)
    {
        JsonElement stride = Get("stride");
        return new PoolOptions
        {
            Kernel = IntList("kernel_size"),
            Stride = stride.ValueKind == JsonValueKind.Null ? null : Fixtures.AsIntList(stride, "stride", _where),
            Padding = IntList("padding"),
            Dilation = withDilation ? IntList("dilation") : [1],
            CeilMode = Bool("ceil_mode"),
            CountIncludePad = withDilation || Bool("count_include_pad"),
        };
    }

    private Tensor AdaptiveAvgPool()
    {
        int[] size = IntList("output_size");
        return size.Length switch
        {
            1 => AdaptiveAvgPool2d.Forward(Input, size[0], size[0]),
            2 => AdaptiveAvgPool2d.Forward(Input, size[0], size[1]),
            _ => throw new InvalidDataException($"{_where}: output_size must have one or two values"),
        };
    }

    private Tensor Add()
    {
        List<Tensor> xs = Numbered();
        return xs.Count == 2
            ? Ops.Add.Forward(xs[0], xs[1])
            : throw new InvalidDataException($"{_where}: add needs exactly input0 and input1, but has {xs.Count} inputs");
    }

    // input0, input1, ... in order.
    private List<Tensor> Numbered()
    {
        var xs = new List<Tensor>();
        for (int i = 0; _case.Inputs.ContainsKey($"input{i}"); i++)
        {
            xs.Add(_case.Load($"input{i}"));
        }

        return xs.Count > 0 ? xs : throw new InvalidDataException($"{_where}: no input0, input1, ... tensors");
    }

    private JsonElement Get(string key) =>
        _args.TryGetProperty(key, out JsonElement v) ? v : throw new InvalidDataException($"{_where}: missing argument '{key}'");

    private int[] IntList(string key) => Fixtures.AsIntList(Get(key), key, _where);

    private int Int(string key) => Fixtures.GetInt(_args, key, _where);

    private double Double(string key) =>
        Get(key) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : throw new InvalidDataException($"{_where}: '{key}' must be a number");

    private bool Bool(string key) => Get(key).ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new InvalidDataException($"{_where}: '{key}' must be true or false"),
    };
}
