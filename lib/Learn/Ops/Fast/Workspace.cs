namespace Learn.Ops.Fast;

/// <summary>
/// Per-thread scratch buffers that grow to the largest size asked for and are then reused, so that a
/// steady-state forward allocates no large buffers (the pool threads of <see cref="Parallelism"/> live on
/// between calls, and so do their buffers). A buffer is only valid until the same thread asks again.
/// </summary>
internal static class Workspace
{
    [ThreadStatic]
    private static float[]? t_panel;

    [ThreadStatic]
    private static float[]? t_tile;

    [ThreadStatic]
    private static float[]? t_plane;

    [ThreadStatic]
    private static float[]? t_row;

    [ThreadStatic]
    private static int[]? t_packedOffsets;

    /// <summary>Row offsets of a packed panel: kk*nr for kk &lt; k.</summary>
    public static int[] PackedOffsets(int k, int nr)
    {
        int[]? o = t_packedOffsets;
        if (o is null || o.Length < k || (k > 1 && o[1] != nr))
        {
            o = new int[Math.Max(k, o?.Length ?? 0)];
            for (int i = 0; i < o.Length; i++)
            {
                o[i] = i * nr;
            }

            t_packedOffsets = o;
        }

        return o;
    }

    /// <summary>The packed B panel of the GEMM (K x NR).</summary>
    public static float[] Panel(int length) => Grow(ref t_panel, length);

    /// <summary>One MR x NR output tile, for edge tiles that do not fit the output.</summary>
    public static float[] Tile(int length) => Grow(ref t_tile, length);

    /// <summary>A padded, phase-split input plane of the depthwise kernel.</summary>
    public static float[] Plane(int length) => Grow(ref t_plane, length);

    /// <summary>One row of a pooling kernel (the running max or sum over the window's rows).</summary>
    public static float[] Row(int length) => Grow(ref t_row, length);

    private static float[] Grow(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = new float[length];
        }

        return buffer;
    }
}
