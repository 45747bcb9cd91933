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
    public Tensor Tensor4(int role, int n, int c, int h, int w) =>
        GetOrAdd(_tensors, (Role: role, N: n, C: c, H: h, W: w), static k => Tensor.Zeros(k.N, k.C, k.H, k.W));

    /// <summary>A float buffer of exactly <paramref name="length"/> for <paramref name="role"/>.</summary>
    public float[] Floats(int role, int length) => GetOrAdd(_floats, (Role: role, Length: length), static k => new float[k.Length]);

    /// <summary>
    /// The padded copy of a conv's input (the stem's), of exactly <paramref name="length"/>: kept here rather than
    /// rented from a shared pool, which the runtime may trim between forwards (and then a forward allocates it again).
    /// </summary>
    public float[] Padded(int length) => Floats(PaddedRole, length);

    /// <summary>An int buffer of exactly <paramref name="length"/> for a conv kernel's tap offsets.</summary>
    public int[] Offsets(int length) => GetOrAdd(_offsets, length, static k => new int[k]);

    /// <summary>The buffer kept under <paramref name="key"/>, made by <paramref name="make"/> the first time (a static lambda: no allocation after).</summary>
    private static TValue GetOrAdd<TKey, TValue>(Dictionary<TKey, TValue> buffers, TKey key, Func<TKey, TValue> make)
        where TKey : notnull
    {
        if (!buffers.TryGetValue(key, out TValue? value))
        {
            value = make(key);
            buffers[key] = value;
        }

        return value;
    }
}
