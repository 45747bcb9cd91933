using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// NumPy/PyTorch broadcasting for two tensors of equal rank: a dimension of size 1 repeats to match the
/// other (e.g. x [N, C, H, W] times a gate [N, C, 1, 1]). The shared loop of <see cref="Add"/> and <see cref="Multiply"/>.
/// </summary>
internal static class Broadcast
{
    public static Tensor Apply(string op, Tensor a, Tensor b, Func<float, float, float> f)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank != b.Rank)
        {
            throw new ArgumentException($"{op}: tensors must have the same rank, but got {a.ShapeString} and {b.ShapeString}");
        }

        int rank = a.Rank;
        var shape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int sa = a.Size(d), sb = b.Size(d);
            if (sa != sb && sa != 1 && sb != 1)
            {
                throw new ArgumentException(
                    $"{op}: The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {d} ({a.ShapeString} vs {b.ShapeString})");
            }

            shape[d] = Math.Max(sa, sb);
        }

        var y = Tensor.Zeros(shape);
        var index = new int[rank];
        for (int i = 0; i < y.Length; i++)
        {
            // Unravel i, then read each operand at the index clamped to its size-1 dimensions.
            int rest = i, ia = 0, ib = 0;
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }

            for (int d = 0; d < rank; d++)
            {
                ia = ia * a.Size(d) + (a.Size(d) == 1 ? 0 : index[d]);
                ib = ib * b.Size(d) + (b.Size(d) == 1 ? 0 : index[d]);
            }

            y.Data[i] = f(a.Data[ia], b.Data[ib]);
        }

        return y;
    }
}
