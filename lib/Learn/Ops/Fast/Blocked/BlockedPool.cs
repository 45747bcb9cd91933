namespace Learn.Ops.Fast.Blocked;

/// <summary>Pooling on blocked maps (<see cref="BlockedLayout"/>), every channel block as 16 lanes at once.</summary>
internal static class BlockedPool
{
    /// <summary>Output size of a pooling window: floor((size + 2*padding - kernel) / stride) + 1.</summary>
    public static int Out(int size, int kernel, int stride, int padding) => ((size + (2 * padding) - kernel) / stride) + 1;

    /// <summary>
    /// Max pooling, square window <paramref name="kernel"/>, <paramref name="stride"/>, implicit -inf
    /// <paramref name="padding"/>, floor mode: y[n, c, i, j] = max over the window's in-map positions.
    /// </summary>
    public static void MaxPool(float[] x, int n, int c, int h, int w, int kernel, int stride, int padding, float[] y, int threads)
    {
        const int B = BlockedLayout.Block;
        int oh = Out(h, kernel, stride, padding), ow = Out(w, kernel, stride, padding), planes = n * BlockedLayout.Blocks(c);
        for (int plane = 0; plane < planes; plane++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    for (int lane = 0; lane < B; lane++)
                    {
                        float m = float.NegativeInfinity;
                        for (int u = 0; u < kernel; u++)
                        {
                            int r = (i * stride) + u - padding;
                            for (int v = 0; v < kernel; v++)
                            {
                                int q = (j * stride) + v - padding;
                                if (r >= 0 && r < h && q >= 0 && q < w)
                                {
                                    float value = x[((((plane * h) + r) * w) + q) * B + lane];
                                    m = value > m || float.IsNaN(value) ? value : m;
                                }
                            }
                        }

                        y[((((plane * oh) + i) * ow) + j) * B + lane] = m;
                    }
                }
            }
        }
    }

    /// <summary>Average pooling, square window <paramref name="kernel"/>, <paramref name="stride"/>, no padding, floor mode: the window's mean.</summary>
    public static void AvgPool(float[] x, int n, int c, int h, int w, int kernel, int stride, float[] y, int threads)
    {
        const int B = BlockedLayout.Block;
        int oh = Out(h, kernel, stride, 0), ow = Out(w, kernel, stride, 0), planes = n * BlockedLayout.Blocks(c);
        for (int plane = 0; plane < planes; plane++)
        {
            for (int i = 0; i < oh; i++)
            {
                for (int j = 0; j < ow; j++)
                {
                    for (int lane = 0; lane < B; lane++)
                    {
                        float s = 0;
                        for (int u = 0; u < kernel; u++)
                        {
                            for (int v = 0; v < kernel; v++)
                            {
                                s += x[(((((plane * h) + (i * stride) + u) * w) + (j * stride) + v) * B) + lane];
                            }
                        }

                        y[((((plane * oh) + i) * ow) + j) * B + lane] = s / (kernel * kernel);
                    }
                }
            }
        }
    }

    /// <summary>The mean of each channel over its h*w positions into <paramref name="means"/> [n*c] (plain order, logical channels).</summary>
    public static void ChannelMeans(float[] x, int n, int c, int h, int w, float[] means, int threads)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(c), hw = h * w;
        for (int img = 0; img < n; img++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int origin = ((img * cb) + (ch / B)) * hw * B + (ch % B);
                float s = 0;
                for (int p = 0; p < hw; p++)
                {
                    s += x[origin + (p * B)];
                }

                means[(img * c) + ch] = s / hw;
            }
        }
    }
}
