namespace Learn.Analysis;

/// <summary>
/// The receptive field of a feature map along one axis, in input pixels (Dumoulin and Visin, "A guide to
/// convolution arithmetic", 2016; Araujo et al., "Computing Receptive Fields of CNNs", Distill 2019).
/// Output cell i sees input cells [First(i), First(i) + Size - 1], centred on <c>Start + i*Jump</c>.
/// </summary>
/// <param name="Size">How many input cells one output cell sees (r).</param>
/// <param name="Jump">Distance in input cells between neighbouring output cells (the product of the strides, j).</param>
/// <param name="Start">Input coordinate of the centre of output cell 0 (half-integer after even windows).</param>
/// <remarks>
/// Through a layer with kernel k, stride s, padding p and dilation d (span k' = d*(k-1)+1):
/// <code>r_out = r_in + (k'-1)*j_in,   j_out = j_in*s,   start_out = start_in + ((k'-1)/2 - p)*j_in</code>
/// Convention: a channel gate or an InstanceNorm rescales each channel by statistics of the whole map; that
/// global context is not counted (as for squeeze-and-excitation blocks), only the local path is.
/// </remarks>
public readonly record struct ReceptiveField(long Size, long Jump, double Start)
{
    /// <summary>The input itself: each cell sees itself.</summary>
    public static ReceptiveField Input { get; } = new(1, 1, 0);

    /// <summary>The field after a window of <paramref name="kernel"/> taps (conv or pooling).</summary>
    public ReceptiveField Through(int kernel, int stride, int padding, int dilation = 1)
    {
        long span = (long)dilation * (kernel - 1) + 1;
        return new ReceptiveField(Size + (span - 1) * Jump, Jump * stride, Start + ((span - 1) / 2.0 - padding) * Jump);
    }

    /// <summary>The first input coordinate seen by output cell <paramref name="index"/> (may be negative: padding).</summary>
    public double First(int index) => Start + (double)index * Jump - (Size - 1) / 2.0;

    /// <summary>The field of a sum or concatenation of two branches on the same grid: the union of both windows.</summary>
    /// <exception cref="ArgumentException">The branches have different jumps (they are not on the same grid).</exception>
    public static ReceptiveField Union(ReceptiveField a, ReceptiveField b)
    {
        if (a.Jump != b.Jump)
        {
            throw new ArgumentException($"cannot merge receptive fields with jumps {a.Jump} and {b.Jump}: the branches are not on the same grid");
        }

        double lo = Math.Min(a.First(0), b.First(0));
        double hi = Math.Max(a.First(0) + a.Size - 1, b.First(0) + b.Size - 1);
        return new ReceptiveField((long)(hi - lo) + 1, a.Jump, (lo + hi) / 2);
    }
}
