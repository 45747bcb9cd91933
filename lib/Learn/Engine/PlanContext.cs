using Learn.Tensors;

namespace Learn.Engine;

/// <summary>
/// The buffers of one forward in flight: every intermediate of a plan lives in a tensor kept here by role and
/// shape, so a steady-state forward at a fixed input shape allocates nothing that grows with the image or the
/// batch. A plan hands each concurrent forward its own context (which makes a forward reentrant) and keeps
/// the contexts for the next forwards. Buffers are kept for every input shape a context has seen: a plan fed
/// many different image sizes holds one buffer set per size (make a new plan to let them go).
/// </summary>
internal sealed class PlanContext
{
    private readonly Dictionary<(int Role, int N, int C, int H, int W), Tensor> _tensors = [];
    private readonly Dictionary<(int Role, int Length), float[]> _floats = [];
    private readonly Dictionary<int, int[]> _offsets = [];

    /// <summary>The role of a conv kernel's padded input copy, apart from the roles a plan numbers from 0.</summary>
    private const int PaddedRole = -1;

    /// <summary>The tensor [n, c, h, w] for <paramref name="role"/>, reused while the same role asks for the same shape.</summary>
    public Tensor Tensor4(int role, int n, int c, int h, int w)
    {
        if (!_tensors.TryGetValue((role, n, c, h, w), out Tensor? t))
        {
            t = Tensor.Zeros(n, c, h, w);
            _tensors[(role, n, c, h, w)] = t;
        }

        return t;
    }

    /// <summary>A float buffer of exactly <paramref name="length"/> for <paramref name="role"/>.</summary>
    public float[] Floats(int role, int length)
    {
        if (!_floats.TryGetValue((role, length), out float[]? f))
        {
            f = new float[length];
            _floats[(role, length)] = f;
        }

        return f;
    }

    /// <summary>
    /// The padded copy of a conv's input (the stem's), of exactly <paramref name="length"/>: kept here rather than
    /// rented from a shared pool, which the runtime may trim between forwards (and then a forward allocates it again).
    /// </summary>
    public float[] Padded(int length) => Floats(PaddedRole, length);

    /// <summary>An int buffer of exactly <paramref name="length"/> for a conv kernel's tap offsets.</summary>
    public int[] Offsets(int length)
    {
        if (!_offsets.TryGetValue(length, out int[]? o))
        {
            o = new int[length];
            _offsets[length] = o;
        }

        return o;
    }
}
