using Learn.Ops;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;

namespace Learn.Tests.Fast;

/// <summary>
/// The blocked stem conv (NCHW input, NCHW16c output) equals the reference conv, then ReLU, within the tolerance rule
/// (K = C_in*k*k), on every output-channel count around a block, every output width around the 12-position tile,
/// strides 1-3, padding 0-3, batch 1-2; bit-identical for 1, 2 and 3 threads; the padding lanes written as 0.
/// </summary>
[TestFixture]
public class BlockedDirectConvTests
{
    // (C_in, C_out, kernel, stride, padding, H, W)
    public static IEnumerable<TestCaseData> Cases()
    {
        int[][] shapes =
        [
            [3, 64, 7, 2, 3, 40, 22], [3, 16, 7, 2, 3, 20, 30], [3, 48, 7, 2, 3, 11, 9], [1, 1, 1, 1, 0, 3, 5],
            [2, 17, 3, 1, 1, 5, 12], [3, 15, 3, 3, 0, 10, 40], [4, 33, 5, 2, 2, 9, 27], [3, 32, 1, 1, 0, 4, 13],
        ];
        foreach (int[] s in shapes)
        {
            yield return new TestCaseData(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
        }

        // Every output width 1 .. 2*12 + 1 (tails of the 12-position tile, and rows shorter than a tile).
        for (int ow = 1; ow <= 25; ow++)
        {
            yield return new TestCaseData(3, 20, 3, 2, 1, 3, (2 * ow) - 1);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Equals_the_reference_conv_then_relu(int cin, int cout, int kernel, int stride, int padding, int h, int w)
    {
        foreach (int batch in new[] { 1, 2 })
        {
            var c = new ConvCase([batch, cin, h, w], [cout, cin, kernel, kernel], Bias: true,
                new ConvOptions { Stride = [stride], Padding = Ops.Padding.Of(padding) }, Seed: (cout * 31) + w);
            Tensor expected = Ops.Relu.Forward(c.Run(Implementation.Naive));
            var conv = new BlockedDirectConv(c.Weight().Data, c.BiasTensor()!.Data, cout, cin, kernel, stride, padding);
            int oh = conv.Out(h), ow = conv.Out(w);
            Tensor x = c.Input();
            float[]? first = null;
            foreach (int threads in new[] { 1, 2, 3 })
            {
                var y = new float[BlockedLayout.Length(batch, cout, oh, ow)];
                Array.Fill(y, float.NaN);
                conv.Forward(x.Data, batch, h, w, y, relu: true, threads);
                AssertPaddingLanesZero(y, batch, cout, oh, ow);
                first ??= y;
                Assert.That(y, Is.EqualTo(first), $"{c} at {threads} threads gives the bits of 1 thread");
            }

            // A caller's padded buffer (a plan context's) gives the same bits: NaN-filled and longer, so a read of a
            // float the kernel did not write, or past the padded copy's end, would show.
            var given = new float[conv.PaddedLength(batch, h, w) + 17];
            Array.Fill(given, float.NaN);
            var z = new float[first!.Length];
            conv.Forward(x.Data, batch, h, w, z, relu: true, threads: 2, padded: given);
            Assert.That(z, Is.EqualTo(first), $"{c} with a caller's padded buffer");

            var actual = Tensor.Zeros(batch, cout, oh, ow);
            BlockedLayout.ToNchw(first!, batch, cout, oh, ow, actual.Data);
            Close.Assert(actual, expected, c.ReductionLength, c.ToString());
        }
    }

    [Test]
    public void Without_relu_negative_sums_are_kept()
    {
        var c = new ConvCase([1, 3, 9, 14], [20, 3, 3, 3], Bias: false, new ConvOptions { Stride = [2], Padding = Ops.Padding.Of(1) }, Seed: 7);
        var conv = new BlockedDirectConv(c.Weight().Data, [], 20, 3, 3, 2, 1);
        var y = new float[BlockedLayout.Length(1, 20, conv.Out(9), conv.Out(14))];
        conv.Forward(c.Input().Data, 1, 9, 14, y, relu: false, threads: 1);
        var actual = Tensor.Zeros(1, 20, conv.Out(9), conv.Out(14));
        BlockedLayout.ToNchw(y, 1, 20, conv.Out(9), conv.Out(14), actual.Data);
        Tensor expected = c.Run(Implementation.Naive);
        Assert.That(expected.Data.Any(v => v < 0), Is.True, "the case has negative outputs");
        Close.Assert(actual, expected, c.ReductionLength, c.ToString());
    }

    [Test]
    public void A_padded_buffer_too_short_is_refused()
    {
        var conv = new BlockedDirectConv(new float[16 * 3 * 49], [], 16, 3, 7, 2, 3);
        var y = new float[BlockedLayout.Length(1, 16, conv.Out(32), conv.Out(16))];
        var ex = Assert.Throws<ArgumentException>(() => conv.Forward(new float[3 * 32 * 16], 1, 32, 16, y, relu: true, threads: 1,
            padded: new float[conv.PaddedLength(1, 32, 16) - 1]));
        Assert.That(ex!.Message, Does.Contain("padded copy"));
    }

    /// <summary>The lanes past <paramref name="c"/> in the last block of each image are 0 at every position.</summary>
    internal static void AssertPaddingLanesZero(float[] y, int n, int c, int h, int w)
    {
        const int B = BlockedLayout.Block;
        int cb = BlockedLayout.Blocks(c), hw = h * w;
        for (int img = 0; img < n; img++)
        {
            int origin = ((img * cb) + cb - 1) * hw * B;
            for (int p = 0; p < hw; p++)
            {
                for (int lane = c - ((cb - 1) * B); lane < B; lane++)
                {
                    Assert.That(y[origin + (p * B) + lane], Is.EqualTo(0f), $"padding lane {lane} of image {img} at position {p}");
                }
            }
        }
    }
}
