using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Fast;

/// <summary>
/// The blocked (NCHW16c) kernels against the NCHW reference ops, through <see cref="BlockedLayout"/>: every channel
/// count 1..40 (one, partial and several blocks), widths 1 .. 2*tile+1 and heights 1..5 (the depthwise row tile and
/// the map's edges), OSNet's map sizes, batch 1-3. Outputs start as NaN so that a value not written shows, and the
/// padding lanes must come out as exactly 0. Each kernel is also run on 1, 2 and 3 threads on a map large enough to
/// be split, and must give the same bits.
/// </summary>
public class BlockedOpsTests
{
    private const int B = BlockedLayout.Block;

    private static readonly int[] Channels = [.. Enumerable.Range(1, 40), 48, 64];

    // OSNet x1_0 / x0_25 LightConv maps and channels, plus the stem's 128x64 map for the max pool.
    private static readonly (int C, int H, int W)[] OSNetMaps = [(64, 64, 32), (96, 32, 16), (128, 16, 8), (16, 64, 32), (24, 32, 16), (32, 16, 8)];

    private static IEnumerable<(int N, int C, int H, int W)> Shapes()
    {
        foreach (int c in Channels)
        {
            yield return ((c % 3) + 1, c, 3, 5 + (c % 4));
        }

        foreach (int w in Enumerable.Range(1, (2 * BlockedDepthwise.Tile) + 1))
        {
            foreach (int h in Enumerable.Range(1, 5))
            {
                yield return ((w + h) % 3 + 1, w % 2 == 0 ? 24 : 17, h, w);
            }
        }

        foreach (var (c, h, w) in OSNetMaps)
        {
            yield return (1, c, h, w);
        }
    }

    private static float[] Blocked(Tensor x)
    {
        int[] s = x.Shape;
        var b = new float[BlockedLayout.Length(s[0], s[1], s[2], s[3])];
        BlockedLayout.FromNchw(x.Data, s[0], s[1], s[2], s[3], b);
        return b;
    }

    private static Tensor Unblocked(float[] b, int n, int c, int h, int w)
    {
        var x = Tensor.Zeros(n, c, h, w);
        BlockedLayout.ToNchw(b, n, c, h, w, x.Data);
        return x;
    }

    private static float[] NaNs(int length)
    {
        var a = new float[length];
        Array.Fill(a, float.NaN);
        return a;
    }

    private static void AssertPaddingLanesZero(float[] y, int n, int c, int h, int w, string what)
    {
        int cb = BlockedLayout.Blocks(c);
        Assert.That(y.Length, Is.GreaterThanOrEqualTo(BlockedLayout.Length(n, c, h, w)), what);
        for (int img = 0; img < n; img++)
        {
            long origin = (((long)img * cb) + cb - 1) * h * w * B;
            for (int p = 0; p < h * w; p++)
            {
                for (int lane = ((c - 1) % B) + 1; lane < B; lane++)
                {
                    float v = y[origin + (p * B) + lane];
                    if (BitConverter.SingleToInt32Bits(v) != 0)
                    {
                        Assert.Fail($"{what}: padding lane {lane} of image {img}, position {p} holds {v}, not +0");
                    }
                }
            }
        }
    }

    [Test]
    public void Layout_round_trip_is_exact_and_puts_each_element_where_the_formula_says()
    {
        foreach (var (n, c, h, w) in Shapes())
        {
            Tensor x = Tensor.Random(c * 100 + w, n, c, h, w);
            float[] b = NaNs(BlockedLayout.Length(n, c, h, w));
            BlockedLayout.FromNchw(x.Data, n, c, h, w, b);
            int cb = BlockedLayout.Blocks(c);
            for (int img = 0; img < n; img++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    for (int p = 0; p < h * w; p++)
                    {
                        float want = x.Data[(((img * c) + ch) * h * w) + p], got = b[((((img * cb) + (ch / B)) * h * w) + p) * B + (ch % B)];
                        if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(got))
                        {
                            Assert.Fail($"[{n}, {c}, {h}, {w}] element ({img}, {ch}, {p}): {got}, expected {want}");
                        }
                    }
                }
            }

            AssertPaddingLanesZero(b, n, c, h, w, $"FromNchw [{n}, {c}, {h}, {w}]");
            var back = Tensor.Zeros(n, c, h, w);
            Array.Fill(back.Data, float.NaN);
            BlockedLayout.ToNchw(b, n, c, h, w, back.Data);
            Assert.That(back.Data, Is.EqualTo(x.Data), $"round trip [{n}, {c}, {h}, {w}]");
        }
    }

    [Test]
    public void Depthwise_matches_the_reference_grouped_conv_with_relu_and_without()
    {
        int seed = 1;
        foreach (var (n, c, h, w) in Shapes())
        {
            foreach (bool relu in new[] { false, true })
            {
                Tensor x = Tensor.Random(seed++, n, c, h, w), wt = Tensor.Random(seed++, c, 1, 3, 3), bias = Tensor.Random(seed++, c);
                Tensor expected = Conv.Conv2d(x, wt, bias, new ConvOptions { Padding = Padding.Of(1), Groups = c });
                if (relu)
                {
                    expected = Relu.Forward(expected);
                }

                float[] y = NaNs(BlockedLayout.Length(n, c, h, w));
                BlockedDepthwise.Forward(BlockedDepthwise.Pack(wt.Data, bias.Data, c), Blocked(x), n, c, h, w, y, relu, threads: 1);
                string what = $"depthwise [{n}, {c}, {h}, {w}] relu {relu}";
                AssertPaddingLanesZero(y, n, c, h, w, what);
                Close.Assert(Unblocked(y, n, c, h, w), expected, 10, what);
            }
        }
    }

    [Test]
    public void Depthwise_without_bias_adds_nothing()
    {
        Tensor x = Tensor.Random(7, 2, 20, 4, 9), wt = Tensor.Random(8, 20, 1, 3, 3);
        float[] y = NaNs(BlockedLayout.Length(2, 20, 4, 9));
        BlockedDepthwise.Forward(BlockedDepthwise.Pack(wt.Data, [], 20), Blocked(x), 2, 20, 4, 9, y, relu: false, threads: 1);
        Close.Assert(Unblocked(y, 2, 20, 4, 9), Conv.Conv2d(x, wt, null, new ConvOptions { Padding = Padding.Of(1), Groups = 20 }), 9, "no bias");
    }

    [Test]
    public void Gate_accumulate_is_the_reference_product_and_sum_bit_for_bit()
    {
        int seed = 1000;
        foreach (var (n, c, h, w) in Shapes())
        {
            Tensor x1 = Tensor.Random(seed++, n, c, h, w), x2 = Tensor.Random(seed++, n, c, h, w);
            float[] g1 = Tensor.Random(seed++, n * c).Data, g2 = Tensor.Random(seed++, n * c).Data;
            var expected = new float[n * c * h * w];
            for (int i = 0; i < expected.Length; i++)
            {
                int plane = i / (h * w);
                float first = x1.Data[i] * g1[plane], second = x2.Data[i] * g2[plane];
                expected[i] = first + second;
            }

            float[] sum = NaNs(BlockedLayout.Length(n, c, h, w));
            BlockedGate.Accumulate(Blocked(x1), g1, n, c, h, w, sum, first: true, threads: 1);
            AssertPaddingLanesZero(sum, n, c, h, w, $"gate first [{n}, {c}, {h}, {w}]");
            BlockedGate.Accumulate(Blocked(x2), g2, n, c, h, w, sum, first: false, threads: 1);
            AssertPaddingLanesZero(sum, n, c, h, w, $"gate [{n}, {c}, {h}, {w}]");
            Assert.That(Unblocked(sum, n, c, h, w).Data, Is.EqualTo(expected), $"gate [{n}, {c}, {h}, {w}]");
        }
    }

    [Test]
    public void Channel_means_match_the_reference_adaptive_average_pool()
    {
        int seed = 2000;
        foreach (var (n, c, h, w) in Shapes())
        {
            Tensor x = Tensor.Random(seed++, n, c, h, w);
            Tensor expected = AdaptiveAvgPool2d.Forward(x, 1, 1);
            var means = NaNs(n * c);
            BlockedPool.ChannelMeans(Blocked(x), n, c, h, w, means, threads: 1);
            Close.Assert(new Tensor([n, c, 1, 1], means), expected, h * w, $"means [{n}, {c}, {h}, {w}]");
        }
    }

    private static IEnumerable<(int N, int C, int H, int W)> PoolShapes()
    {
        foreach (var s in Shapes())
        {
            yield return s;
        }

        yield return (1, 64, 128, 64); // OSNet x1_0's stem output
        yield return (2, 16, 128, 64); // x0_25's
    }

    [TestCase(3, 2, 1)]
    [TestCase(2, 2, 0)]
    [TestCase(3, 1, 1)]
    [TestCase(1, 1, 0)]
    [TestCase(3, 2, 0)]
    public void Max_pool_matches_the_reference_bit_for_bit_nan_and_signed_zeros_included(int kernel, int stride, int padding)
    {
        int seed = 3000;
        foreach (var (n, c, h, w) in PoolShapes())
        {
            if (h + (2 * padding) < kernel || w + (2 * padding) < kernel)
            {
                continue;
            }

            Tensor x = Tensor.Random(seed++, n, c, h, w);
            var random = new Random(seed);
            for (int k = 0; k < x.Length / 7; k++)
            {
                x.Data[random.Next(x.Length)] = (k % 3) switch { 0 => float.NaN, 1 => -0f, _ => 0f };
            }

            Tensor expected = MaxPool2d.Forward(x, PoolOptions.Square(kernel, stride, padding));
            int oh = BlockedPool.Out(h, kernel, stride, padding), ow = BlockedPool.Out(w, kernel, stride, padding);
            float[] y = NaNs(BlockedLayout.Length(n, c, oh, ow));
            BlockedPool.MaxPool(Blocked(x), n, c, h, w, kernel, stride, padding, y, threads: 1);
            string what = $"max pool {kernel}/{stride}/{padding} [{n}, {c}, {h}, {w}]";
            AssertPaddingLanesZero(y, n, c, oh, ow, what);
            AssertBits(Unblocked(y, n, c, oh, ow).Data, expected.Data, what);
        }
    }

    [TestCase(2, 2)]
    [TestCase(3, 2)]
    [TestCase(3, 1)]
    [TestCase(1, 1)]
    public void Average_pool_matches_the_reference_bit_for_bit(int kernel, int stride)
    {
        int seed = 4000;
        foreach (var (n, c, h, w) in PoolShapes())
        {
            if (h < kernel || w < kernel)
            {
                continue;
            }

            Tensor x = Tensor.Random(seed++, n, c, h, w);
            Tensor expected = AvgPool2d.Forward(x, PoolOptions.Square(kernel, stride));
            int oh = BlockedPool.Out(h, kernel, stride, 0), ow = BlockedPool.Out(w, kernel, stride, 0);
            float[] y = NaNs(BlockedLayout.Length(n, c, oh, ow));
            BlockedPool.AvgPool(Blocked(x), n, c, h, w, kernel, stride, y, threads: 1);
            string what = $"avg pool {kernel}/{stride} [{n}, {c}, {h}, {w}]";
            AssertPaddingLanesZero(y, n, c, oh, ow, what);
            AssertBits(Unblocked(y, n, c, oh, ow).Data, expected.Data, what); // both sum in double in one order and round once
        }
    }

    /// <summary>
    /// A window larger than the padded map has no output (floor division, as PyTorch's output size): the pools refuse
    /// it instead of reading past the map, where truncating division gave one output row and column.
    /// </summary>
    [TestCase(1, 2, 2, 0)]
    [TestCase(2, 3, 2, 0)]
    [TestCase(1, 5, 1, 1)]
    public void A_window_that_does_not_fit_the_map_is_refused(int size, int kernel, int stride, int padding)
    {
        Assert.That(BlockedPool.Out(size, kernel, stride, padding), Is.EqualTo(0));
        var x = new float[BlockedLayout.Length(1, 16, size, size)];
        var y = new float[BlockedLayout.Length(1, 16, 1, 1)];
        Assert.Throws<ArgumentException>(() => BlockedPool.MaxPool(x, 1, 16, size, size, kernel, stride, padding, y, 1));
        if (padding == 0)
        {
            Assert.Throws<ArgumentException>(() => BlockedPool.AvgPool(x, 1, 16, size, size, kernel, stride, y, 1));
        }
    }

    [Test]
    public void Every_kernel_gives_the_same_bits_on_1_2_and_3_threads()
    {
        // Large enough that Parallelism.For really splits (over its serial threshold), odd sizes so chunks are uneven.
        const int n = 3, c = 40, h = 65, w = 37;
        Tensor x = Tensor.Random(5, n, c, h, w), x2 = Tensor.Random(6, n, c, h, w), wt = Tensor.Random(7, c, 1, 3, 3), bias = Tensor.Random(8, c);
        float[] g = Tensor.Random(9, n * c).Data, bx = Blocked(x), bx2 = Blocked(x2), packed = BlockedDepthwise.Pack(wt.Data, bias.Data, c);
        int length = BlockedLayout.Length(n, c, h, w), ph = BlockedPool.Out(h, 3, 2, 1), pw = BlockedPool.Out(w, 3, 2, 1);
        var kernels = new (string Name, int Length, Action<float[], int> Run)[]
        {
            ("depthwise", length, (y, t) => BlockedDepthwise.Forward(packed, bx, n, c, h, w, y, relu: true, t)),
            ("gate", length, (y, t) =>
            {
                BlockedGate.Accumulate(bx, g, n, c, h, w, y, first: true, t);
                BlockedGate.Accumulate(bx2, g, n, c, h, w, y, first: false, t);
            }),
            ("means", n * c, (y, t) => BlockedPool.ChannelMeans(bx, n, c, h, w, y, t)),
            ("max pool", BlockedLayout.Length(n, c, ph, pw), (y, t) => BlockedPool.MaxPool(bx, n, c, h, w, 3, 2, 1, y, t)),
            ("avg pool", BlockedLayout.Length(n, c, h / 2, w / 2), (y, t) => BlockedPool.AvgPool(bx, n, c, h, w, 2, 2, y, t)),
        };
        foreach (var (name, len, run) in kernels)
        {
            float[] one = NaNs(len);
            run(one, 1);
            foreach (int threads in new[] { 2, 3 })
            {
                float[] many = NaNs(len);
                run(many, threads);
                AssertBits(many, one, $"{name} on {threads} threads");
            }
        }
    }

    private static void AssertBits(float[] actual, float[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < actual.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
            {
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (bits differ)");
            }
        }
    }
}
