using Learn.IO;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>
/// Writes each captured output to <c>folder/&lt;key&gt;.npy</c> as it is produced (keys as
/// <see cref="ActivationRecorder.KeyOf"/>: <c>conv2.0.gate</c>, <c>conv2.0.gate@2</c> ...), so a whole network can be
/// dumped without holding every activation in memory. Each file is written atomically. This is the layout
/// <c>learn osnet --activations DIR</c> produces and <c>learn diff</c> compares.
/// </summary>
public sealed class ActivationDirectory : IActivationSink
{
    private readonly Func<string, bool>? _include;
    private readonly List<string> _written = [];

    /// <summary>Writes into <paramref name="folder"/> (created if needed) every layer, or those <paramref name="include"/> accepts.</summary>
    public ActivationDirectory(string folder, Func<string, bool>? include = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = folder;
        _include = include;
        Directory.CreateDirectory(folder);
    }

    /// <summary>The output folder.</summary>
    public string Folder { get; }

    /// <summary>The keys written so far, in order.</summary>
    public IReadOnlyList<string> Written => _written;

    /// <inheritdoc />
    public void Record(string name, int call, Tensor output)
    {
        if (_include is not null && !_include(name))
        {
            return;
        }

        string key = ActivationRecorder.KeyOf(name, call);
        Npy.Write(Path.Combine(Folder, key + ".npy"), output);
        _written.Add(key);
    }
}
