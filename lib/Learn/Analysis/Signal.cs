using Learn.Tensors;

namespace Learn.Analysis;

/// <summary>
/// What the symbolic forward pass (<see cref="Layers.Module"/>.Trace) carries instead of values: the shape of the
/// tensor, the receptive field of its cells along height and width, and the reduction length K behind them.
/// </summary>
/// <param name="Shape">The tensor shape, e.g. [N, C, H, W].</param>
/// <param name="Height">Receptive field along the height axis.</param>
/// <param name="Width">Receptive field along the width axis.</param>
/// <param name="Reduction">
/// K: the sum of the reduction lengths along the longest path from the input to this tensor ((C_in/G)*kh*kw per
/// convolution, in_features per linear layer, the window per pooling, H*W per instance norm or global pool,
/// 1 per element-wise step). <see cref="Verification.Tolerance.ForReduction"/> turns it into a tolerance.
/// </param>
public sealed record Signal(int[] Shape, ReceptiveField Height, ReceptiveField Width, long Reduction)
{
    /// <summary>The network input [N, C, H, W]: every cell sees itself, nothing reduced yet.</summary>
    public static Signal ForInput(params int[] shape) => new((int[])shape.Clone(), ReceptiveField.Input, ReceptiveField.Input, 0);

    /// <summary>The same signal after an element-wise step (K grows by one).</summary>
    public Signal Elementwise() => this with { Reduction = Reduction + 1 };

    /// <summary>The shape as PyTorch prints it.</summary>
    public string ShapeString => Tensor.Format(Shape);

    /// <summary>The signal of a sum or concatenation of branches: union of fields, longest K plus one for the merge.</summary>
    public static Signal Merge(int[] shape, IReadOnlyList<Signal> branches)
    {
        ArgumentNullException.ThrowIfNull(branches);
        ReceptiveField h = branches[0].Height, w = branches[0].Width;
        long k = branches[0].Reduction;
        foreach (Signal b in branches.Skip(1))
        {
            h = ReceptiveField.Union(h, b.Height);
            w = ReceptiveField.Union(w, b.Width);
            k = Math.Max(k, b.Reduction);
        }

        return new Signal(shape, h, w, k + 1);
    }
}
