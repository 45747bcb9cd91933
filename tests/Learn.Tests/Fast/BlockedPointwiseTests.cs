using Learn.Ops;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;

namespace Learn.Tests.Fast;

/// <summary>
/// The blocked (NCHW16c) 1x1 convolution <see cref="BlockedPointwise"/> against the reference NCHW convolution
/// (<see cref="Conv.Conv2d"/>, naive) through <see cref="BlockedLayout"/>, with the residual add and ReLU done by
/// plain loops here: channel counts around the block of 16 on both sides, position counts around the micro-kernel's
/// tile (every count 1..2*6+1), bands and output-block groups with tails, batch 1-3, the padding lanes written as 0
/// over a NaN-filled output, and bit-identical results for 1, 2 and 3 threads.
/// </summary>
[TestFixture]
public class BlockedPointwiseTests
{
    private static readonly int[] Channels = [1, 15, 16, 17, 24, 33, 48, 64, 80];

    private static IEnumerable<object[]> ChannelPairs() =>
        Channels.SelectMany(cin => Channels.Select(cout => new object[] { cin, cout }));

    /// <summary>Weights scaled by 1/sqrt(fan-in), as the tolerance rule assumes; a bias in [-1, 1).</summary>
    private static (Tensor W, Tensor B) Weights(int cout, int cin, int seed)
    {
        Tensor w = Tensor.Random(seed, cout, cin, 1, 1);
        float scale = 1 / MathF.Sqrt(cin);
        for (int i = 0; i < w.Data.Length; i++)
        {
            w.Data[i] *= scale;
        }

        return (w, Tensor.Random(seed + 1, cout));
    }

    /// <summary>The reference: conv1x1 + b, then + residual, then ReLU, in NCHW, by plain loops after the reference conv.</summary>
    private static Tensor Expected(Tensor x, Tensor w, Tensor b, Tensor? residual, bool relu)
    {
        Tensor y = Conv.Conv2d(x, w, b);
        for (int i = 0; i < y.Data.Length; i++)
        {
            float s = y.Data[i];
            if (residual is not null)
            {
                s += residual.Data[i];
            }

            y.Data[i] = relu && s < 0 ? 0 : s;
        }

        return y;
    }

    /// <summary>Runs the blocked kernel on NCHW tensors: converts in, runs on a NaN-filled output, checks the padding lanes are 0, converts out.</summary>
    private static Tensor Blocked(Tensor x, Tensor w, Tensor b, Tensor? residual, bool relu, int threads, out float[] raw)
    {
        int n = x.Shape[0], cin = x.Shape[1], h = x.Shape[2], wd = x.Shape[3], cout = w.Shape[0];
        var packed = BlockedPointwiseWeights.Pack(w.Data, b.Data, cout, cin);
        var bx = new float[BlockedLayout.Length(n, cin, h, wd)];
        BlockedLayout.FromNchw(x.Data, n, cin, h, wd, bx);
        float[]? br = null;
        if (residual is not null)
        {
            br = new float[BlockedLayout.Length(n, cout, h, wd)];
            BlockedLayout.FromNchw(residual.Data, n, cout, h, wd, br);
        }

        raw = new float[BlockedLayout.Length(n, cout, h, wd)];
        Array.Fill(raw, float.NaN);
        BlockedPointwise.Forward(packed, bx, n, h * wd, raw, relu, br, threads);
        AssertPaddingZero(raw, n, cout, h * wd);
        var y = new Tensor([n, cout, h, wd], new float[n * cout * h * wd]);
        BlockedLayout.ToNchw(raw, n, cout, h, wd, y.Data);
        return y;
    }

    /// <summary>Every lane written (no NaN left), and the lanes past <paramref name="channels"/> in each image's last block exactly 0.</summary>
    private static void AssertPaddingZero(float[] blocked, int batch, int channels, int positions)
    {
        const int B = BlockedLayout.Block;
        Assert.That(blocked, Has.None.NaN, "every lane written");
        int cb = BlockedLayout.Blocks(channels);
        for (int img = 0; img < batch; img++)
        {
            int plane = ((img * cb) + cb - 1) * positions * B;
            for (int p = 0; p < positions; p++)
            {
                for (int c = channels; c < cb * B; c++)
                {
                    Assert.That(blocked[plane + (p * B) + (c % B)], Is.Zero, $"padding channel {c} of image {img} at position {p}");
                }
            }
        }
    }

    [TestCaseSource(nameof(ChannelPairs))]
    public void Equals_reference_for_every_position_count_around_the_tile(int cin, int cout)
    {
        var (w, b) = Weights(cout, cin, 10 + cin + (100 * cout));
        for (int positions = 1; positions <= (2 * BlockedPointwise.TilePositions) + 1; positions++)
        {
            int batch = 1 + (positions % 3);
            Tensor x = Tensor.Random(positions, batch, cin, 1, positions);
            Tensor residual = Tensor.Random(positions + 1000, batch, cout, 1, positions);
            foreach (bool withResidual in new[] { false, true })
            {
                foreach (bool relu in new[] { false, true })
                {
                    Tensor? r = withResidual ? residual : null;
                    Tensor actual = Blocked(x, w, b, r, relu, 1, out _);
                    Close.Assert(actual, Expected(x, w, b, r, relu), cin + 1, $"{cin}->{cout}, {batch}x{positions} positions, residual {withResidual}, relu {relu}");
                }
            }
        }
    }

    // (C_in, C_out, batch, h, w): OSNet's shapes (x1_0 and x0_25) and odd ones with band, tile and group tails.
    private static readonly object[] MapCases =
    [
        new object[] { 64, 256, 1, 64, 32 },
        new object[] { 384, 512, 2, 16, 8 },
        new object[] { 512, 128, 1, 16, 8 },
        new object[] { 96, 384, 1, 32, 16 },
        new object[] { 24, 96, 3, 16, 8 },
        new object[] { 33, 100, 2, 13, 11 },
        new object[] { 130, 17, 3, 7, 5 },
        new object[] { 64, 64, 1, 16, 8 },
        new object[] { 24, 32, 3, 16, 8 },
    ];

    [TestCaseSource(nameof(MapCases))]
    public void Equals_reference_on_whole_maps_and_is_bit_identical_for_1_2_3_threads(int cin, int cout, int batch, int h, int w)
    {
        var (weights, b) = Weights(cout, cin, cin + cout);
        Tensor x = Tensor.Random(1, batch, cin, h, w);
        Tensor residual = Tensor.Random(2, batch, cout, h, w);
        Tensor actual = Blocked(x, weights, b, residual, relu: true, threads: 1, out float[] one);
        Close.Assert(actual, Expected(x, weights, b, residual, relu: true), cin + 1, $"{cin}->{cout}, {batch}x{h}x{w}");
        foreach (int threads in new[] { 2, 3 })
        {
            Blocked(x, weights, b, residual, relu: true, threads, out float[] many);
            Assert.That(many, Is.EqualTo(one), $"{threads} threads against 1");
        }
    }

    [Test]
    public void Without_a_bias_equals_the_reference_conv_without_one()
    {
        var (w, _) = Weights(40, 33, 7);
        Tensor x = Tensor.Random(8, 2, 33, 3, 5);
        var packed = BlockedPointwiseWeights.Pack(w.Data, [], 40, 33);
        var bx = new float[BlockedLayout.Length(2, 33, 3, 5)];
        BlockedLayout.FromNchw(x.Data, 2, 33, 3, 5, bx);
        var by = new float[BlockedLayout.Length(2, 40, 3, 5)];
        Array.Fill(by, float.NaN);
        BlockedPointwise.Forward(packed, bx, 2, 15, by, false, null, 1);
        AssertPaddingZero(by, 2, 40, 15);
        var actual = new Tensor([2, 40, 3, 5], new float[2 * 40 * 15]);
        BlockedLayout.ToNchw(by, 2, 40, 3, 5, actual.Data);
        Close.Assert(actual, Conv.Conv2d(x, w), 33, "33->40 without a bias");
    }

    [Test]
    public void Packing_rejects_weights_or_bias_of_the_wrong_size()
    {
        Assert.Throws<ArgumentException>(() => BlockedPointwiseWeights.Pack(new float[15], [], 4, 4));
        Assert.Throws<ArgumentException>(() => BlockedPointwiseWeights.Pack(new float[16], new float[3], 4, 4));
    }

    [Test]
    public void Forward_rejects_maps_shorter_than_the_shape()
    {
        var packed = BlockedPointwiseWeights.Pack(new float[17 * 3], [], 17, 3);
        Assert.Throws<ArgumentException>(() => BlockedPointwise.Forward(packed, new float[16 * 5], 1, 5, new float[(32 * 5) - 1], false, null, 1));
        Assert.Throws<ArgumentException>(() => BlockedPointwise.Forward(packed, new float[16 * 5], 1, 5, new float[32 * 5], false, new float[16], 1));
    }
}
