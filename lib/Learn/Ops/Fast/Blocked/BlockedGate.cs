namespace Learn.Ops.Fast.Blocked;

/// <summary>The channel gate's multiply on blocked maps, accumulated into the block's sum of streams.</summary>
internal static class BlockedGate
{
    /// <summary>
    /// sum[n, c, p] = x[n, c, p] * g[n, c] (when <paramref name="first"/>) or sum[n, c, p] += x[n, c, p] * g[n, c], for
    /// blocked maps x and sum of logical shape [n, c, h, w] and gates <paramref name="g"/> [n*c] (plain order). With
    /// <paramref name="first"/> the whole sum is written, its padding lanes as 0.
    /// </summary>
    public static void Accumulate(float[] x, float[] g, int n, int c, int h, int w, float[] sum, bool first, int threads)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(c), hw = h * w;
        if (first)
        {
            Array.Clear(sum, 0, BlockedLayout.Length(n, c, h, w)); // the padding lanes too: a reused buffer may hold old values there
        }

        for (int img = 0; img < n; img++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int origin = ((img * cb) + (ch / B)) * hw * B + (ch % B);
                float gate = g[(img * c) + ch];
                for (int p = 0; p < hw; p++)
                {
                    int at = origin + (p * B);
                    sum[at] = first ? x[at] * gate : sum[at] + (x[at] * gate);
                }
            }
        }
    }
}
