using Learn.Layers;

namespace Learn.Analysis;

/// <summary>
/// Collects the rows of a <see cref="CostTable"/> while a module traces itself: one row per module call,
/// in call order (a parent before its children), with the multiply-accumulates done inside the call.
/// </summary>
public sealed class TraceContext
{
    private readonly List<CostRow?> _rows = [];
    private readonly HashSet<Module> _visited = new(ReferenceEqualityComparer.Instance);

    /// <summary>Multiply-accumulates counted so far.</summary>
    public long Macs { get; private set; }

    /// <summary>The finished rows.</summary>
    public IReadOnlyList<CostRow> Rows => _rows.Select(r => r ?? throw new InvalidOperationException("a module call is still being traced")).ToList();

    /// <summary>Parameters of every distinct module the trace went through (a shared module counts once).</summary>
    public long VisitedParameters => _visited.Sum(m => m.OwnParameters().Sum(p => (long)p.Value.Length));

    /// <summary>Counts multiply-accumulates of a convolution or linear layer.</summary>
    public void AddMacs(long macs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(macs);
        Macs += macs;
    }

    /// <summary>Traces <paramref name="module"/> under <paramref name="name"/> and records its row ("" records none: the root).</summary>
    public Signal Call(Module module, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        _visited.Add(module);
        int index = _rows.Count;
        if (name.Length > 0)
        {
            _rows.Add(null);
        }

        long before = Macs;
        Signal output = module.Trace(this, name, input);
        if (name.Length > 0)
        {
            _rows[index] = new CostRow(name, module.TypeName, output.Shape, module.ParameterCount(), Macs - before, output.Height, output.Width, output.Reduction);
        }

        return output;
    }
}
