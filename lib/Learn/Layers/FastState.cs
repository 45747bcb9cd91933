using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Layers;

/// <summary>
/// A layer's reusable output tensor on the fast path: the same tensor is returned while the shape stays the
/// same, so a steady-state forward allocates no large buffers. The tensor is overwritten by the layer's next
/// call: a fast forward is not reentrant, and a caller keeping a result across calls must copy it.
/// </summary>
internal sealed class OutputCache
{
    private Tensor? _tensor;

    /// <summary>The cached tensor of <paramref name="shape"/> (allocated when the shape changed).</summary>
    public Tensor Get(int[] shape)
    {
        if (_tensor is null || !_tensor.Shape.AsSpan().SequenceEqual(shape))
        {
            _tensor = Tensor.Zeros(shape);
        }

        return _tensor;
    }
}

/// <summary>
/// The fast path of conv [-> eval BatchNorm] [-> ReLU]: the BN folded into the conv's weights and bias
/// (<see cref="BatchNormFolding"/>), the ReLU fused into the conv's store (<see cref="Epilogue.Relu"/>), the
/// output written into a reused tensor. The folded weights are computed on first use and again after any
/// <see cref="Module.LoadStateDict"/> (tracked by <see cref="Module.StateVersion"/>); a caller who writes into
/// the weight tensors directly must call <see cref="Invalidate"/>.
/// </summary>
internal sealed class FusedConv(Conv2d conv, BatchNorm2d? bn, bool relu)
{
    private readonly OutputCache _output = new();
    private Tensor? _weight;
    private Tensor? _bias;
    private long _version = -1;
    private ConvOptions? _options;

    /// <summary>Forgets the folded weights.</summary>
    public void Invalidate() => _version = -1;

    /// <summary>The fused forward, into the reused output tensor.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (_version != Module.StateVersion || _weight is null)
        {
            if (bn is null)
            {
                _weight = conv.Weight;
                _bias = conv.Bias;
            }
            else
            {
                var (w, b) = BatchNormFolding.Fold(conv.Weight.Data, conv.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data,
                    bn.Weight.Data, bn.Bias.Data, bn.Eps);
                _weight = new Tensor(conv.Weight.Shape, w);
                _bias = new Tensor([conv.OutChannels], b);
            }

            _options = conv.Options;
            _version = Module.StateVersion;
        }

        if (x.Rank != 4 || x.Size(1) != conv.InChannels)
        {
            throw new ArgumentException($"Conv2d expects [N, {conv.InChannels}, H, W], got {x.ShapeString}");
        }

        int span = (conv.KernelSize - 1) * conv.Dilation + 1;
        int oh = (x.Size(2) + 2 * conv.Padding - span) / conv.Stride + 1, ow = (x.Size(3) + 2 * conv.Padding - span) / conv.Stride + 1;
        Tensor y = _output.Get([x.Size(0), conv.OutChannels, oh, ow]);
        return FastConv.Conv2d(x, _weight, _bias, _options, relu ? Epilogue.Relu : Epilogue.None, y);
    }
}
