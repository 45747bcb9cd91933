using System.Globalization;

namespace Learn.Tensors;

/// <summary>
/// A dense float32 tensor stored row-major (C order), the layout PyTorch and NumPy use by default.
/// Image tensors are NCHW: element (n, c, h, w) lives at ((n*C + c)*H + h)*W + w.
/// </summary>
/// <remarks>
/// Deliberately small: a shape, a flat array and indexers. Every operator checks the shapes it is
/// given and names the numbers when they do not fit.
/// </remarks>
public sealed class Tensor
{
    private readonly int[] _shape;

    /// <summary>Creates a tensor of the given shape that owns <paramref name="data"/> (no copy).</summary>
    /// <exception cref="ArgumentException">The data length is not the product of the shape.</exception>
    public Tensor(int[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long count = CountOf(shape);
        if (count != data.Length)
        {
            throw new ArgumentException(
                $"shape {Format(shape)} holds {count} elements but {data.Length} values were given", nameof(data));
        }

        _shape = (int[])shape.Clone();
        Data = data;
    }

    /// <summary>A new zero-filled tensor.</summary>
    public static Tensor Zeros(params int[] shape) => new(shape, new float[CountOf(shape)]);

    /// <summary>A new tensor holding a copy of <paramref name="values"/>.</summary>
    public static Tensor FromValues(int[] shape, ReadOnlySpan<float> values) => new(shape, values.ToArray());

    /// <summary>
    /// Uniform values in [-1, 1) from a seeded generator: non-degenerate data for tests and lessons
    /// (all-zero or all-one inputs hide indexing bugs).
    /// </summary>
    public static Tensor Random(int seed, params int[] shape)
    {
        var random = new Random(seed);
        var data = new float[CountOf(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(2 * random.NextDouble() - 1);
        }

        return new Tensor(shape, data);
    }

    /// <summary>The flat row-major storage. Writes go straight into the tensor.</summary>
    public float[] Data { get; }

    /// <summary>The shape (a copy; tensors do not change shape).</summary>
    public int[] Shape => (int[])_shape.Clone();

    /// <summary>The number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>The size of dimension <paramref name="dim"/>; negative counts from the end, as in PyTorch.</summary>
    public int Size(int dim)
    {
        int d = dim < 0 ? dim + Rank : dim;
        if (d < 0 || d >= Rank)
        {
            throw new ArgumentOutOfRangeException(nameof(dim), $"dimension {dim} is out of range for a tensor of shape {ShapeString}");
        }

        return _shape[d];
    }

    /// <summary>The shape written the way PyTorch prints it, e.g. <c>[2, 3, 9, 10]</c>.</summary>
    public string ShapeString => Format(_shape);

    /// <summary>Element of a rank-1 tensor.</summary>
    public float this[int i]
    {
        get => Data[Offset(i)];
        set => Data[Offset(i)] = value;
    }

    /// <summary>Element of a rank-2 tensor.</summary>
    public float this[int i, int j]
    {
        get => Data[Offset(i, j)];
        set => Data[Offset(i, j)] = value;
    }

    /// <summary>Element of a rank-3 tensor.</summary>
    public float this[int i, int j, int k]
    {
        get => Data[Offset(i, j, k)];
        set => Data[Offset(i, j, k)] = value;
    }

    /// <summary>Element of a rank-4 tensor, e.g. x[n, c, h, w].</summary>
    public float this[int n, int c, int h, int w]
    {
        get => Data[Offset(n, c, h, w)];
        set => Data[Offset(n, c, h, w)] = value;
    }

    /// <summary>Element of a rank-5 tensor, e.g. x[n, c, d, h, w].</summary>
    public float this[int n, int c, int d, int h, int w]
    {
        get => Data[Offset(n, c, d, h, w)];
        set => Data[Offset(n, c, d, h, w)] = value;
    }

    /// <summary>The flat offset of an index, checked against the shape.</summary>
    public int Offset(params int[] index)
    {
        ArgumentNullException.ThrowIfNull(index);
        if (index.Length != Rank)
        {
            throw new ArgumentException($"a tensor of shape {ShapeString} needs {Rank} indices, got {index.Length}", nameof(index));
        }

        int offset = 0;
        for (int d = 0; d < Rank; d++)
        {
            if ((uint)index[d] >= (uint)_shape[d])
            {
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index[d]} is out of range for dimension {d} of size {_shape[d]} (shape {ShapeString})");
            }

            offset = offset * _shape[d] + index[d];
        }

        return offset;
    }

    /// <summary>The same data seen with another shape of equal element count (no copy); one -1 is inferred.</summary>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        int[] resolved = (int[])shape.Clone();
        int inferred = Array.IndexOf(resolved, -1);
        if (inferred >= 0)
        {
            long known = 1;
            for (int d = 0; d < resolved.Length; d++)
            {
                if (d != inferred)
                {
                    known *= resolved[d];
                }
            }

            if (known == 0 || Length % known != 0)
            {
                throw new ArgumentException($"cannot reshape a tensor of shape {ShapeString} to {Format(shape)}", nameof(shape));
            }

            resolved[inferred] = (int)(Length / known);
        }

        if (CountOf(resolved) != Length)
        {
            throw new ArgumentException($"cannot reshape a tensor of shape {ShapeString} ({Length} elements) to {Format(shape)}", nameof(shape));
        }

        return new Tensor(resolved, Data);
    }

    /// <summary>A deep copy.</summary>
    public Tensor Clone() => new(_shape, (float[])Data.Clone());

    /// <summary>True when both tensors have the same shape.</summary>
    public bool SameShape(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return _shape.AsSpan().SequenceEqual(other._shape);
    }

    /// <inheritdoc />
    public override string ToString() => $"Tensor{ShapeString}";

    /// <summary>Formats a shape as <c>[a, b, c]</c>.</summary>
    public static string Format(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return "[" + string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + "]";
    }

    /// <summary>The element count of a shape; refuses negative sizes and counts past int.MaxValue.</summary>
    public static long CountOf(IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int s in shape)
        {
            if (s < 0)
            {
                throw new ArgumentException($"shape {Format(shape)} has a negative size");
            }

            count *= s;
            if (count > Array.MaxLength)
            {
                throw new ArgumentException($"shape {Format(shape)} has more elements than one array can hold");
            }
        }

        return count;
    }
}
