using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;

// Not "Learn.Tests.Conv": that namespace would hide Learn.Ops.Conv from every test written as Conv.Conv2d(...).
namespace Learn.Tests.Convolution;

/// <summary>
/// Identities of the convolution family on seeded random shapes (odd sizes, tails, batch &gt; 1): each side is
/// computed a different way, and the two must agree under the one tolerance rule.
/// </summary>
public class ConvIdentityTests
{
    private const int Trials = 40;

    [Test]
    public void Depthwise_with_multiplier_equals_per_channel_convolutions()
    {
        var rng = new Random(1);
        for (int trial = 0; trial < Trials; trial++)
        {
            // groups = C, C_out = M*C: output channels c*M .. c*M+M-1 see input channel c alone.
            int c = rng.Next(1, 6), m = rng.Next(1, 4);
            var (x, geometry) = RandomInput(rng, c);
            Tensor w = Random(rng, c * m, 1, geometry.Kh, geometry.Kw);
            Tensor b = Random(rng, c * m);
            ConvOptions options = geometry.Options with { Groups = c };
            Tensor actual = Conv.Conv2d(x, w, b, options);

            var parts = new List<Tensor>();
            for (int ch = 0; ch < c; ch++)
            {
                parts.Add(Conv.Conv2d(
                    SliceChannels(x, ch, 1), SliceChannels(w, ch * m, m, dim: 0), SliceChannels(b, ch * m, m, dim: 0),
                    geometry.Options with { Groups = 1 }));
            }

            AssertClose(actual, CatChannels(parts), geometry.Kh * geometry.Kw, $"trial {trial}: x{x.ShapeString} M={m} {options}");
        }
    }

    [Test]
    public void Grouped_equals_concatenation_of_per_group_convolutions()
    {
        var rng = new Random(2);
        for (int trial = 0; trial < Trials; trial++)
        {
            int groups = rng.Next(1, 5), cinG = rng.Next(1, 4), coutG = rng.Next(1, 4);
            var (x, geometry) = RandomInput(rng, groups * cinG);
            Tensor w = Random(rng, groups * coutG, cinG, geometry.Kh, geometry.Kw);
            Tensor? b = rng.Next(2) == 0 ? null : Random(rng, groups * coutG);
            ConvOptions options = geometry.Options with { Groups = groups };
            Tensor actual = Conv.Conv2d(x, w, b, options);

            var parts = new List<Tensor>();
            for (int g = 0; g < groups; g++)
            {
                parts.Add(Conv.Conv2d(
                    SliceChannels(x, g * cinG, cinG), SliceChannels(w, g * coutG, coutG, dim: 0),
                    b is null ? null : SliceChannels(b, g * coutG, coutG, dim: 0), geometry.Options with { Groups = 1 }));
            }

            AssertClose(actual, CatChannels(parts), cinG * geometry.Kh * geometry.Kw, $"trial {trial}: x{x.ShapeString} w{w.ShapeString} {options}");
        }
    }

    [Test]
    public void Grouped_conv1d_and_conv3d_equal_concatenation_of_per_group_convolutions()
    {
        var rng = new Random(3);
        for (int trial = 0; trial < Trials / 2; trial++)
        {
            int groups = rng.Next(2, 4), cinG = rng.Next(1, 3), coutG = rng.Next(1, 3), n = rng.Next(1, 3);
            Tensor x1 = Random(rng, n, groups * cinG, rng.Next(3, 12));
            Tensor w1 = Random(rng, groups * coutG, cinG, rng.Next(1, 4));
            Tensor x3 = Random(rng, n, groups * cinG, rng.Next(2, 5), rng.Next(2, 5), rng.Next(2, 5));
            Tensor w3 = Random(rng, groups * coutG, cinG, rng.Next(1, 3), rng.Next(1, 3), rng.Next(1, 3));
            var options = new ConvOptions { Padding = Padding.Of(1), Stride = [rng.Next(1, 3)] };
            var parts1 = new List<Tensor>();
            var parts3 = new List<Tensor>();
            for (int g = 0; g < groups; g++)
            {
                parts1.Add(Conv.Conv1d(SliceChannels(x1, g * cinG, cinG), SliceChannels(w1, g * coutG, coutG, dim: 0), options: options));
                parts3.Add(Conv.Conv3d(SliceChannels(x3, g * cinG, cinG), SliceChannels(w3, g * coutG, coutG, dim: 0), options: options));
            }

            AssertClose(Conv.Conv1d(x1, w1, options: options with { Groups = groups }), CatChannels(parts1), cinG * w1.Size(2), $"conv1d trial {trial}");
            AssertClose(Conv.Conv3d(x3, w3, options: options with { Groups = groups }), CatChannels(parts3),
                cinG * w3.Size(2) * w3.Size(3) * w3.Size(4), $"conv3d trial {trial}");
        }
    }

    [Test]
    public void Pointwise_equals_matrix_product_over_channels()
    {
        var rng = new Random(4);
        for (int trial = 0; trial < Trials; trial++)
        {
            int n = rng.Next(1, 3), cin = rng.Next(1, 20), cout = rng.Next(1, 20), h = rng.Next(1, 8), wd = rng.Next(1, 8), s = rng.Next(1, 3);
            Tensor x = Random(rng, n, cin, h, wd);
            Tensor w = Random(rng, cout, cin, 1, 1);
            Tensor b = Random(rng, cout);
            Tensor actual = Conv.Conv2d(x, w, b, new ConvOptions { Stride = [s] });

            // Y[:, pixel] = W [C_out x C_in] * X[:, pixel] + b, over the pixels the stride keeps.
            int oh = ((h - 1) / s) + 1, ow = ((wd - 1) / s) + 1;
            var expected = Tensor.Zeros(n, cout, oh, ow);
            for (int i = 0; i < n; i++)
            {
                for (int r = 0; r < cout; r++)
                {
                    for (int p = 0; p < oh * ow; p++)
                    {
                        double dot = b.Data[r];
                        for (int k = 0; k < cin; k++)
                        {
                            dot += (double)w.Data[(r * cin) + k] * x[i, k, p / ow * s, p % ow * s];
                        }

                        expected[i, r, p / ow, p % ow] = (float)dot;
                    }
                }
            }

            AssertClose(actual, expected, cin, $"trial {trial}: x{x.ShapeString} w{w.ShapeString} stride {s}");
        }
    }

    [Test]
    public void Dilated_equals_convolution_with_the_zero_stuffed_kernel()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < Trials; trial++)
        {
            int c = rng.Next(1, 4), cout = rng.Next(1, 4);
            var (x, geometry) = RandomInput(rng, c, allowDilation: true);
            Tensor w = Random(rng, cout, c, geometry.Kh, geometry.Kw);
            Tensor actual = Conv.Conv2d(x, w, options: geometry.Options);

            // Stuff d-1 zeros between taps: a kernel of size d*(k-1)+1 with the taps at multiples of d.
            int dh = geometry.Options.Dilation[0], dw = geometry.Options.Dilation[^1];
            int sh = (dh * (geometry.Kh - 1)) + 1, sw = (dw * (geometry.Kw - 1)) + 1;
            var stuffed = Tensor.Zeros(cout, c, sh, sw);
            for (int o = 0; o < cout; o++)
            {
                for (int i = 0; i < c; i++)
                {
                    for (int a = 0; a < geometry.Kh; a++)
                    {
                        for (int bb = 0; bb < geometry.Kw; bb++)
                        {
                            stuffed[o, i, a * dh, bb * dw] = w[o, i, a, bb];
                        }
                    }
                }
            }

            Tensor expected = Conv.Conv2d(x, stuffed, options: geometry.Options with { Dilation = [1] });
            AssertClose(actual, expected, c * geometry.Kh * geometry.Kw, $"trial {trial}: x{x.ShapeString} w{w.ShapeString} {geometry.Options}");
        }
    }

    [TestCase(PaddingMode.Zeros)]
    [TestCase(PaddingMode.Reflect)]
    [TestCase(PaddingMode.Replicate)]
    [TestCase(PaddingMode.Circular)]
    public void Padding_mode_equals_explicitly_padded_input_then_valid_convolution(PaddingMode mode)
    {
        var rng = new Random(6 + (int)mode);
        for (int trial = 0; trial < Trials; trial++)
        {
            int c = rng.Next(1, 4), cout = rng.Next(1, 4);
            var (x, geometry) = RandomInput(rng, c, allowDilation: true, mode: mode);
            Tensor w = Random(rng, cout, c, geometry.Kh, geometry.Kw);
            Tensor b = Random(rng, cout);
            Tensor actual = Conv.Conv2d(x, w, b, geometry.Options);

            Tensor padded = PadAxis(PadAxis(x, 2, geometry.Before[0], geometry.After[0], mode), 3, geometry.Before[1], geometry.After[1], mode);
            Tensor expected = Conv.Conv2d(padded, w, b, geometry.Options with { Padding = Padding.Valid, PaddingMode = PaddingMode.Zeros });
            AssertClose(actual, expected, c * geometry.Kh * geometry.Kw, $"trial {trial}: x{x.ShapeString} w{w.ShapeString} {geometry.Options}");
        }
    }

    // ---------------------------------------------------------------------------------------------------

    private sealed record Geometry(int Kh, int Kw, ConvOptions Options, int[] Before, int[] After);

    /// <summary>
    /// A random valid 2-D geometry for <paramref name="channels"/> input channels: batch 1-2, sizes 1-9, kernel
    /// 1-4 per axis, stride 1-3, padding 0-3 per axis or 'same' (stride 1), dilation 1-3 when allowed.
    /// </summary>
    private static (Tensor X, Geometry Geometry) RandomInput(Random rng, int channels, bool allowDilation = false, PaddingMode mode = PaddingMode.Zeros)
    {
        while (true)
        {
            int n = rng.Next(1, 3), h = rng.Next(1, 10), w = rng.Next(1, 10);
            int kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            int[] d = allowDilation ? [rng.Next(1, 4), rng.Next(1, 4)] : [1, 1];
            bool same = rng.Next(4) == 0;
            int[] s = same ? [1, 1] : [rng.Next(1, 4), rng.Next(1, 4)];
            int[] before, after;
            if (same)
            {
                // PyTorch's split: d*(k-1) in total, the smaller half first.
                before = [d[0] * (kh - 1) / 2, d[1] * (kw - 1) / 2];
                after = [(d[0] * (kh - 1)) - before[0], (d[1] * (kw - 1)) - before[1]];
            }
            else
            {
                before = [rng.Next(0, 4), rng.Next(0, 4)];
                after = (int[])before.Clone();
            }

            int[] size = [h, w], k = [kh, kw];
            bool fits = Enumerable.Range(0, 2).All(a =>
                size[a] + before[a] + after[a] >= (d[a] * (k[a] - 1)) + 1
                && (mode != PaddingMode.Reflect || Math.Max(before[a], after[a]) < size[a])
                && (mode != PaddingMode.Circular || Math.Max(before[a], after[a]) <= size[a]));
            if (!fits)
            {
                continue;
            }

            var options = new ConvOptions
            {
                Stride = s,
                Dilation = d,
                Padding = same ? Padding.Same : Padding.Of(before),
                PaddingMode = mode,
            };
            return (Random(rng, n, channels, h, w), new Geometry(kh, kw, options, before, after));
        }
    }

    private static Tensor Random(Random rng, params int[] shape)
    {
        var data = new float[Tensor.CountOf(shape)];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return new Tensor(shape, data);
    }

    /// <summary>Channels [start, start + count) of dimension <paramref name="dim"/> (1 for activations, 0 for weights).</summary>
    private static Tensor SliceChannels(Tensor t, int start, int count, int dim = 1)
    {
        int[] shape = t.Shape;
        int outer = shape[..dim].Aggregate(1, (p, s) => p * s);
        int inner = shape[(dim + 1)..].Aggregate(1, (p, s) => p * s);
        shape[dim] = count;
        var result = Tensor.Zeros(shape);
        for (int o = 0; o < outer; o++)
        {
            Array.Copy(t.Data, ((o * t.Size(dim)) + start) * inner, result.Data, o * count * inner, count * inner);
        }

        return result;
    }

    private static Tensor CatChannels(List<Tensor> parts)
    {
        int[] shape = parts[0].Shape;
        shape[1] = parts.Sum(p => p.Size(1));
        var result = Tensor.Zeros(shape);
        int inner = shape[2..].Aggregate(1, (p, s) => p * s);
        int offset = 0;
        for (int n = 0; n < shape[0]; n++)
        {
            foreach (Tensor p in parts)
            {
                int block = p.Size(1) * inner;
                Array.Copy(p.Data, n * block, result.Data, offset, block);
                offset += block;
            }
        }

        return result;
    }

    /// <summary>
    /// Pads dimension <paramref name="dim"/> by building each side from slices of the input, as the modes are
    /// usually drawn: zeros = a slab of zeros; reflect = the cells next to the edge, mirrored, edge excluded;
    /// replicate = the edge cell repeated; circular = the cells from the other end.
    /// </summary>
    private static Tensor PadAxis(Tensor x, int dim, int before, int after, PaddingMode mode)
    {
        int n = x.Size(dim);
        IEnumerable<int> left = mode switch
        {
            PaddingMode.Zeros => Enumerable.Repeat(-1, before),
            PaddingMode.Reflect => Enumerable.Range(1, before).Reverse(),
            PaddingMode.Replicate => Enumerable.Repeat(0, before),
            _ => Enumerable.Range(n - before, before),
        };
        IEnumerable<int> right = mode switch
        {
            PaddingMode.Zeros => Enumerable.Repeat(-1, after),
            PaddingMode.Reflect => Enumerable.Range(n - 1 - after, after).Reverse(),
            PaddingMode.Replicate => Enumerable.Repeat(n - 1, after),
            _ => Enumerable.Range(0, after),
        };
        int[] source = [.. left, .. Enumerable.Range(0, n), .. right];

        int[] shape = x.Shape;
        int outer = shape[..dim].Aggregate(1, (p, s) => p * s);
        int inner = shape[(dim + 1)..].Aggregate(1, (p, s) => p * s);
        shape[dim] = source.Length;
        var result = Tensor.Zeros(shape);
        for (int o = 0; o < outer; o++)
        {
            for (int j = 0; j < source.Length; j++)
            {
                if (source[j] >= 0)
                {
                    Array.Copy(x.Data, ((o * n) + source[j]) * inner, result.Data, ((o * source.Length) + j) * inner, inner);
                }
            }
        }

        return result;
    }

    private static void AssertClose(Tensor actual, Tensor expected, long k, string what)
    {
        Comparison result = Comparison.Of(actual, expected, Tolerance.ForReduction(k));
        Assert.That(result.Close, Is.True, $"{what}: {result.Describe()}");
    }
}
