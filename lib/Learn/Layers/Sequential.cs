using Learn.Tensors;

namespace Learn.Layers;

/// <summary>PyTorch <c>nn.Sequential</c>: children named "0", "1", ... run in order.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _modules = [];

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        foreach (Module m in modules)
        {
            _modules.Add(RegisterModule(_modules.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), m));
        }
    }

    /// <summary>The number of children.</summary>
    public int Count => _modules.Count;

    /// <summary>Child <paramref name="index"/>.</summary>
    public Module this[int index] => _modules[index];

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        foreach (Module m in _modules)
        {
            x = m.Forward(x);
        }

        return x;
    }
}
