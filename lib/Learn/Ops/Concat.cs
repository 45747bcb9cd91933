using Learn.Tensors;

namespace Learn.Ops;

/// <summary>
/// Concatenation along one dimension (PyTorch <c>torch.cat</c>); along dimension 1 of NCHW tensors it stacks
/// channels, as multi-branch modules do. All other dimensions must agree.
/// </summary>
public static class Concat
{
    /// <summary>Concatenates <paramref name="tensors"/> along <paramref name="dim"/> (negative counts from the end).</summary>
    public static Tensor Forward(IReadOnlyList<Tensor> tensors, int dim = 1)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0)
        {
            throw new ArgumentException("cat expects a non-empty list of tensors");
        }

        Tensor first = tensors[0];
        int d = dim < 0 ? dim + first.Rank : dim;
        if (d < 0 || d >= first.Rank)
        {
            throw new ArgumentException($"cat: dimension {dim} is out of range for tensors of rank {first.Rank}");
        }

        int[] shape = first.Shape;
        shape[d] = 0;
        foreach (Tensor t in tensors)
        {
            bool fits = t.Rank == first.Rank && Enumerable.Range(0, t.Rank).All(i => i == d || t.Size(i) == first.Size(i));
            if (!fits)
            {
                throw new ArgumentException(
                    $"cat: sizes of tensors must match except in dimension {d}, but got {first.ShapeString} and {t.ShapeString}");
            }

            shape[d] += t.Size(d);
        }

        // Row-major: the output is 'outer' blocks, each the concatenation of every input's block.
        int outer = 1;
        for (int i = 0; i < d; i++)
        {
            outer *= shape[i];
        }

        var y = Tensor.Zeros(shape);
        int offset = 0;
        for (int o = 0; o < outer; o++)
        {
            foreach (Tensor t in tensors)
            {
                int block = t.Length / Math.Max(1, outer);
                Array.Copy(t.Data, o * block, y.Data, offset, block);
                offset += block;
            }
        }

        return y;
    }
}
