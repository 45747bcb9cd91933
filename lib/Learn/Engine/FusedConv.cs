using Learn.Layers;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Engine;

/// <summary>
/// One convolution of a plan with what follows it fused: an eval BatchNorm folded into its weights and bias
/// (<see cref="BatchNormFolding"/>), the GEMM weights packed once (<see cref="PackedWeights"/>), and a ReLU, or a
/// residual add then a ReLU, applied in the kernel's store. Immutable after construction, so any number of
/// forwards may run it at once.
/// </summary>
internal sealed class FusedConv
{
    private readonly Tensor _weight;
    private readonly Tensor? _bias;
    private readonly PackedWeights? _packed;
    private readonly ConvOptions _options;
    private ConvGeometry? _geometry; // the last geometry resolved (immutable; a race only resolves twice)

    public FusedConv(Conv2d conv, BatchNorm2d? bn, bool relu)
    {
        ArgumentNullException.ThrowIfNull(conv);
        if (bn is null)
        {
            _weight = Copy(conv.Weight);
            _bias = conv.Bias is null ? null : Copy(conv.Bias);
        }
        else
        {
            var (w, b) = BatchNormFolding.Fold(conv.Weight.Data, conv.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data,
                bn.Weight.Data, bn.Bias.Data, bn.Eps);
            _weight = new Tensor(conv.Weight.Shape, w);
            _bias = new Tensor([conv.OutChannels], b);
        }

        _options = conv.Options;
        InChannels = conv.InChannels;
        OutChannels = conv.OutChannels;
        Relu = relu;
        if (conv.InChannels / conv.Groups != 1)
        {
            _packed = PackedWeights.Pack(conv.Groups, conv.OutChannels / conv.Groups, (int)conv.ReductionLength, _weight.Data, _bias?.Data);
        }
    }

    /// <summary>C_in.</summary>
    public int InChannels { get; }

    /// <summary>C_out.</summary>
    public int OutChannels { get; }

    /// <summary>True when a ReLU follows (in the store).</summary>
    public bool Relu { get; }

    /// <summary>The checked geometry of this conv on <paramref name="x"/>.</summary>
    public ConvGeometry Geometry(Tensor x)
    {
        ConvGeometry? g = _geometry;
        if (g is null || g.Batch != x.Size(0) || g.Axes[1].Input != x.Size(2) || g.Axes[2].Input != x.Size(3))
        {
            if (x.Rank != 4 || x.Size(1) != InChannels)
            {
                throw new ArgumentException($"Conv2d expects [N, {InChannels}, H, W], got {x.ShapeString}");
            }

            g = ConvGeometry.Resolve(2, x, _weight, _bias, _options);
            _geometry = g;
        }

        return g;
    }

    /// <summary>
    /// y = epilogue(conv(x) + bias [+ residual]); y must be [N, C_out, OH, OW]. A kernel that copies the input
    /// (the indirect one) takes its buffers from <paramref name="context"/> when one is given.
    /// </summary>
    public void Run(Tensor x, Tensor y, int threads, Tensor? residual = null, bool? relu = null, PlanContext? context = null)
    {
        ConvGeometry g = Geometry(x);
        bool r = relu ?? Relu;
        switch (FastConv.Choose(g))
        {
            case ConvKernel.Depthwise when residual is null:
                DepthwiseConv.Forward(g, x.Data, _weight.Data, _bias?.Data, y.Data, _options.PaddingMode, r, threads);
                break;
            case ConvKernel.Pointwise:
                PointwiseGemm.Forward(g, x.Data, _packed!, y.Data, r, residual?.Data, threads);
                break;
            case ConvKernel.Indirect:
                IndirectConv.Forward(g, x.Data, _packed!, y.Data, _options.PaddingMode, r, residual?.Data, threads,
                    context?.Padded(IndirectConv.BufferLength(g)), context?.Offsets(g.ReductionLength));
                break;
            case ConvKernel.Im2col:
                Im2colConv.Forward(g, x.Data, _packed!, y.Data, _options.PaddingMode, r, residual?.Data, threads);
                break;
            default:
                throw new NotSupportedException("a residual epilogue on a depthwise convolution");
        }
    }

    private static Tensor Copy(Tensor t) => new(t.Shape, (float[])t.Data.Clone());
}
