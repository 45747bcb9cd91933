namespace Learn.Ops.Fast.Blocked;

/// <summary>
/// A depthwise 3x3 convolution (stride 1, zero padding 1, one input channel per group) on blocked maps:
/// <c>y[n, c, i, j] = act(b[c] + sum over (u, v) in 3x3 of w[c, u, v] * x[n, c, i + u - 1, j + v - 1])</c>, x taken
/// as 0 outside the map, the taps summed row by row from the bias, then the ReLU.
/// </summary>
internal static class BlockedDepthwise
{
    /// <summary>
    /// Packs w [C, 1, 3, 3] and an optional bias [C] for <see cref="Forward"/>: per block of 16 channels, the 9 taps as
    /// 9 vectors of 16, then the bias vector (zeros past C).
    /// </summary>
    public static float[] Pack(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int channels)
    {
        const int B = BlockedLayout.Block;
        if (w.Length != channels * 9 || (bias.Length != 0 && bias.Length != channels))
        {
            throw new ArgumentException($"depthwise 3x3 weights: expected [{channels}, 1, 3, 3] and a bias of {channels}, got {w.Length} and {bias.Length}");
        }

        int cb = BlockedLayout.Blocks(channels);
        var packed = new float[cb * 10 * B];
        for (int c = 0; c < channels; c++)
        {
            int block = c / B, lane = c % B;
            for (int t = 0; t < 9; t++)
            {
                packed[(((block * 10) + t) * B) + lane] = w[(c * 9) + t];
            }

            packed[(((block * 10) + 9) * B) + lane] = bias.Length == 0 ? 0 : bias[c];
        }

        return packed;
    }

    /// <summary>y = act(depthwise3x3(x) + b) for blocked maps x, y of logical shape [batch, channels, h, w].</summary>
    public static void Forward(float[] packed, float[] x, int batch, int channels, int h, int w, float[] y, bool relu, int threads)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(channels);
        for (int plane = 0; plane < batch * cb; plane++)
        {
            int block = plane % cb;
            int origin = plane * h * w * B;
            for (int i = 0; i < h; i++)
            {
                for (int j = 0; j < w; j++)
                {
                    for (int lane = 0; lane < B; lane++)
                    {
                        float s = packed[(((block * 10) + 9) * B) + lane];
                        for (int u = 0; u < 3; u++)
                        {
                            int r = i + u - 1;
                            if (r < 0 || r >= h)
                            {
                                continue;
                            }

                            for (int v = 0; v < 3; v++)
                            {
                                int q = j + v - 1;
                                if (q >= 0 && q < w)
                                {
                                    s += packed[(((block * 10) + (u * 3) + v) * B) + lane] * x[origin + ((((r * w) + q) * B) + lane)];
                                }
                            }
                        }

                        y[origin + ((((i * w) + j) * B) + lane)] = relu && s < 0 ? 0 : s;
                    }
                }
            }
        }
    }
}
