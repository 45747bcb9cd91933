using Learn.Analysis;
using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// The multi-branch dilated module as the request in the seed text (001) specifies it, built from
/// <see cref="DepthwiseSeparableConv"/> blocks (depthwise + BN + ReLU, pointwise + BN + ReLU):
/// <code>
/// m    = compress(x)                    1x1 depthwise-separable conv, C_in -> C_mid
/// b5   = branch5(m)                     5x5 depthwise-separable, dilation 5 (span 21), C_mid -> C_mid
/// b7   = branch7(m)                     7x7, dilation 7 (span 43)
/// b9   = branch9(m)                     9x9, dilation 9 (span 73)
/// y    = fuse(cat[b5, b7, b9, x])       the residual branch is the input itself; 1x1 depthwise-separable, 3*C_mid + C_in -> C_out
/// </code>
/// Padding d*(k-1)/2 keeps the size. Children <c>compress</c>, <c>branch5</c>, <c>branch7</c>, <c>branch9</c>, <c>fuse</c>.
/// </summary>
/// <remarks>
/// The published answer's code departs from its own request:
/// <list type="bullet">
/// <item>its branches use 3x3 kernels with dilation 2, 3, 4 (spans 5, 7, 9): it reads "5x5, 7x7, 9x9" as the spans of
/// dilated 3x3 kernels, where the request asks for 5x5, 7x7 and 9x9 kernels dilated by 5, 7 and 9;</item>
/// <item>its compression is a plain 1x1 conv + BN + ReLU, not depthwise-separable (a 1x1 depthwise conv would only
/// scale each channel; the separable form is that scale followed by the 1x1 pointwise conv);</item>
/// <item>its residual branch is a 1x1 conv + BN + ReLU to C_out rather than a connection from the input, and each
/// branch ends at C_out, so the concatenation has 4*C_out channels;</item>
/// <item>its final 1x1 conv is built inside <c>forward</c>: new random weights on every call, never registered, so never
/// trained or saved; it is a plain conv (not depthwise-separable, no BN or activation), and its 4*C_out output
/// channels do not match the C_out the surrounding network is declared with.</item>
/// </list>
/// </remarks>
public sealed class DilatedMultiBranch : Module
{
    /// <summary>Creates the module; <paramref name="midChannels"/> defaults to C_in/2 (the request leaves it open; the answer halves).</summary>
    public DilatedMultiBranch(int inChannels, int outChannels, int? midChannels = null)
    {
        int mid = midChannels ?? Math.Max(1, inChannels / 2);
        Compress = RegisterModule("compress", new DepthwiseSeparableConv(inChannels, mid, kernelSize: 1));
        Branch5 = RegisterModule("branch5", new DepthwiseSeparableConv(mid, mid, kernelSize: 5, dilation: 5));
        Branch7 = RegisterModule("branch7", new DepthwiseSeparableConv(mid, mid, kernelSize: 7, dilation: 7));
        Branch9 = RegisterModule("branch9", new DepthwiseSeparableConv(mid, mid, kernelSize: 9, dilation: 9));
        Fuse = RegisterModule("fuse", new DepthwiseSeparableConv(3 * mid + inChannels, outChannels, kernelSize: 1));
    }

    /// <summary>PyTorch <c>compress</c>.</summary>
    public DepthwiseSeparableConv Compress { get; }

    /// <summary>PyTorch <c>branch5</c>.</summary>
    public DepthwiseSeparableConv Branch5 { get; }

    /// <summary>PyTorch <c>branch7</c>.</summary>
    public DepthwiseSeparableConv Branch7 { get; }

    /// <summary>PyTorch <c>branch9</c>.</summary>
    public DepthwiseSeparableConv Branch9 { get; }

    /// <summary>PyTorch <c>fuse</c>.</summary>
    public DepthwiseSeparableConv Fuse { get; }

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor x)
    {
        Tensor m = Compress.Forward(x);
        Tensor cat = Ops.Concat.Forward([Branch5.Forward(m), Branch7.Forward(m), Branch9.Forward(m), x]);
        return Fuse.Forward(cat);
    }

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Signal m = TraceChild(context, name, Compress, input);
        var branches = new List<Signal>
        {
            TraceChild(context, name, Branch5, m), TraceChild(context, name, Branch7, m), TraceChild(context, name, Branch9, m), input,
        };
        int[] shape = input.Shape;
        shape[1] = branches.Sum(b => b.Shape[1]);
        return TraceChild(context, name, Fuse, Signal.Merge(shape, branches));
    }
}
