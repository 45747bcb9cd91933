using Learn.Ops;
using Learn.Tensors;

// Not "Learn.Tests.Conv": that namespace would hide Learn.Ops.Conv from every test written as Conv.Conv2d(...).
namespace Learn.Tests.Convolution;

/// <summary>
/// Impulse tests: an input of zeros with a single 1 and a kernel whose taps are distinct powers of two, so
/// each output value is the exact binary code of the taps that read the 1. An off-by-one in padding,
/// stride or dilation, or a swapped axis, shows up as a wrong code; no tolerance is needed.
/// </summary>
public class ImpulseTests
{
    // --- Hand-worked literals (each also checked once against PyTorch 1.13 when written). ---

    [Test]
    public void Cross_correlation_does_not_flip_the_kernel()
    {
        // x: 3x3 with the 1 in the centre; w = [[1, 2], [4, 8]]; padding 1. Output (oh, ow) reads input
        // (oh - 1 + a, ow - 1 + b), so the 1 is seen by tap (a, b) = (2 - oh, 2 - ow): the kernel appears
        // mirrored around the impulse (which is why convolution's "flip" shows up here).
        var x = Tensor.Zeros(1, 1, 3, 3);
        x[0, 0, 1, 1] = 1;
        var w = new Tensor([1, 1, 2, 2], [1, 2, 4, 8]);
        Tensor y = Conv.Conv2d(x, w, options: new ConvOptions { Padding = Padding.Of(1) });
        float[] expected =
        [
            0, 0, 0, 0,
            0, 8, 4, 0,
            0, 2, 1, 0,
            0, 0, 0, 0,
        ];
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 4, 4 }));
        Assert.That(y.Data, Is.EqualTo(expected));
    }

    // x: length 7; w = [1, 2, 4]; stride 2, padding 2, dilation 2. Output o reads x[2o - 2 + 2t], t = 0..2;
    // the padded length is 11, the dilated kernel spans 5, so there are (11 - 5)/2 + 1 = 4 outputs.
    [TestCase(2, new float[] { 4, 2, 1, 0 })] // 2o + 2t = 4: (o, t) = (0, 2), (1, 1), (2, 0)
    [TestCase(3, new float[] { 0, 0, 0, 0 })] // 2o + 2t = 5 has no solution: odd positions are never read
    [TestCase(6, new float[] { 0, 0, 4, 2 })] // 2o + 2t = 8: (2, 2), (3, 1); (4, 0) is past the end
    public void Stride_padding_and_dilation_in_one_dimension(int position, float[] expected)
    {
        var x = Tensor.Zeros(1, 1, 7);
        x[0, 0, position] = 1;
        var w = new Tensor([1, 1, 3], [1, 2, 4]);
        Tensor y = Conv.Conv1d(x, w, options: new ConvOptions { Stride = [2], Padding = Padding.Of(2), Dilation = [2] });
        Assert.That(y.Data, Is.EqualTo(expected));
    }

    // x: length 4; w = [1, 2, 4]; padding 2 on both sides; 6 outputs. The padded rows for an impulse at 0:
    //   reflect   x2 x1 | x0 x1 x2 x3 | x2 x1  ->  0 0 1 0 0 0 0 0
    //   replicate x0 x0 | x0 x1 x2 x3 | x3 x3  ->  1 1 1 0 0 0 0 0
    //   circular  x2 x3 | x0 x1 x2 x3 | x0 x1  ->  0 0 1 0 0 0 1 0
    // and for an impulse at 1: reflect 0 1 0 1 0 0 0 1, circular 0 0 0 1 0 0 0 1.
    [TestCase(PaddingMode.Reflect, 0, new float[] { 4, 2, 1, 0, 0, 0 })]
    [TestCase(PaddingMode.Reflect, 1, new float[] { 2, 5, 2, 1, 0, 4 })]
    [TestCase(PaddingMode.Replicate, 0, new float[] { 7, 3, 1, 0, 0, 0 })]
    [TestCase(PaddingMode.Replicate, 1, new float[] { 0, 4, 2, 1, 0, 0 })]
    [TestCase(PaddingMode.Circular, 0, new float[] { 4, 2, 1, 0, 4, 2 })]
    [TestCase(PaddingMode.Circular, 1, new float[] { 0, 4, 2, 1, 0, 4 })]
    [TestCase(PaddingMode.Zeros, 0, new float[] { 4, 2, 1, 0, 0, 0 })]
    public void Padding_modes_in_one_dimension(PaddingMode mode, int position, float[] expected)
    {
        var x = Tensor.Zeros(1, 1, 4);
        x[0, 0, position] = 1;
        var w = new Tensor([1, 1, 3], [1, 2, 4]);
        Tensor y = Conv.Conv1d(x, w, options: new ConvOptions { Padding = Padding.Of(2), PaddingMode = mode });
        Assert.That(y.Data, Is.EqualTo(expected));
    }

    // --- Sweeps: every impulse position, expected codes derived by scattering. ---
    //
    // The library gathers: output o reads padded position o*s + t*d. Here the expectation is computed the
    // other way round: the 1 at input i sits at padded position i + p_before; tap t sees it from the window
    // that starts at q = i + p_before - t*d, which is an output exactly when q >= 0, q is a multiple of s and
    // q/s < out. The output count is found by counting the windows that fit.

    public static IEnumerable<TestCaseData> Geometries()
    {
        // input, kernel, stride, pad before, pad after, dilation (per axis, depth/height/width as given).
        yield return Case("2d odd sizes, asymmetric everything", [9, 10], [4, 5], [3, 2], [2, 1], [2, 1], [2, 1]);
        yield return Case("2d dilation on width only", [7, 6], [3, 2], [1, 3], [0, 2], [0, 2], [3, 1]);
        yield return Case("2d stride larger than kernel", [8, 11], [2, 3], [3, 4], [1, 0], [1, 0], [1, 2]);
        yield return Case("2d 1x1 image, 3x3 kernel", [1, 1], [3, 3], [1, 1], [1, 1], [1, 1], [1, 1]);
        yield return Case("2d same, even kernel, dilation 2x3", [9, 10], [4, 2], [1, 1], [3, 1], [3, 2], [2, 3]);
        yield return Case("2d same, even kernel 4x6", [6, 7], [4, 6], [1, 1], [1, 2], [2, 3], [1, 1]);
        yield return Case("1d", [17], [3], [2], [1], [1], [3]);
        yield return Case("3d", [4, 5, 6], [2, 3, 2], [2, 1, 3], [1, 2, 0], [1, 2, 0], [1, 2, 2]);
    }

    private static TestCaseData Case(string name, int[] input, int[] kernel, int[] stride, int[] before, int[] after, int[] dilation) =>
        new TestCaseData(input, kernel, stride, before, after, dilation).SetName("Impulse sweep: " + name);

    [TestCaseSource(nameof(Geometries))]
    public void Every_impulse_position_lights_exactly_the_expected_taps(
        int[] input, int[] kernel, int[] stride, int[] before, int[] after, int[] dilation)
    {
        int dims = input.Length;
        bool same = !before.SequenceEqual(after);
        if (same)
        {
            // Asymmetric padding is only reachable through 'same': check that it splits as PyTorch does.
            for (int a = 0; a < dims; a++)
            {
                Assert.That(before[a] + after[a], Is.EqualTo(dilation[a] * (kernel[a] - 1)), "same pads d*(k-1) in total");
                Assert.That(stride[a], Is.EqualTo(1));
            }
        }

        var options = new ConvOptions
        {
            Stride = stride,
            Dilation = dilation,
            Padding = same ? Padding.Same : Padding.Of(before),
        };
        Tensor w = PowersOfTwoKernel(kernel);
        int[] outSize = new int[dims];
        for (int a = 0; a < dims; a++)
        {
            // Count windows o*s + d*(k-1) <= padded - 1 rather than using the closed formula.
            int padded = input[a] + before[a] + after[a];
            while (outSize[a] * stride[a] + dilation[a] * (kernel[a] - 1) <= padded - 1)
            {
                outSize[a]++;
            }
        }

        int positions = input.Aggregate(1, (p, s) => p * s);
        for (int flat = 0; flat < positions; flat++)
        {
            int[] i = Unflatten(flat, input);
            var x = Tensor.Zeros([1, 1, .. input]);
            x.Data[flat] = 1;
            Tensor y = dims switch
            {
                1 => Conv.Conv1d(x, w, options: options),
                2 => Conv.Conv2d(x, w, options: options),
                _ => Conv.Conv3d(x, w, options: options),
            };

            // Scatter: tap t sees the impulse from output q/s where q = i + p_before - t*d.
            var expected = new float[outSize.Aggregate(1, (p, s) => p * s)];
            int taps = kernel.Aggregate(1, (p, s) => p * s);
            for (int tap = 0; tap < taps; tap++)
            {
                int[] t = Unflatten(tap, kernel);
                var o = new int[dims];
                bool hit = true;
                for (int a = 0; a < dims && hit; a++)
                {
                    int q = i[a] + before[a] - t[a] * dilation[a];
                    hit = q >= 0 && q % stride[a] == 0 && q / stride[a] < outSize[a];
                    o[a] = hit ? q / stride[a] : 0;
                }

                if (hit)
                {
                    expected[Flatten(o, outSize)] += MathF.Pow(2, tap);
                }
            }

            Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1 }.Concat(outSize).ToArray()));
            Assert.That(y.Data, Is.EqualTo(expected), $"impulse at ({string.Join(", ", i)})");
        }
    }

    // With a padding mode the 1 also appears in the padding. Here its copies are listed forwards, from the
    // mode's picture (the library maps each padded position back to its source instead):
    //   reflect   mirrors about the edge cells:  -i and 2(n-1) - i
    //   replicate the edge cell fills its side:  every padded position left of 0 when i = 0, right of n-1 when i = n-1
    //   circular  the input repeats:             i - n and i + n
    [TestCase(PaddingMode.Reflect, new[] { 5, 6 }, new[] { 3, 2 }, new[] { 2, 1 }, new[] { 2, 3 }, new[] { 1, 2 })]
    [TestCase(PaddingMode.Replicate, new[] { 5, 6 }, new[] { 3, 2 }, new[] { 2, 1 }, new[] { 2, 3 }, new[] { 1, 2 })]
    [TestCase(PaddingMode.Circular, new[] { 5, 6 }, new[] { 3, 2 }, new[] { 2, 1 }, new[] { 2, 3 }, new[] { 1, 2 })]
    [TestCase(PaddingMode.Reflect, new[] { 4, 7 }, new[] { 2, 4 }, new[] { 1, 2 }, new[] { 3, 2 }, new[] { 2, 1 })]
    [TestCase(PaddingMode.Replicate, new[] { 2, 3 }, new[] { 3, 3 }, new[] { 1, 1 }, new[] { 4, 5 }, new[] { 1, 1 })]
    [TestCase(PaddingMode.Circular, new[] { 3, 4 }, new[] { 2, 3 }, new[] { 2, 1 }, new[] { 3, 4 }, new[] { 2, 1 })]
    public void Every_impulse_position_with_a_padding_mode(PaddingMode mode, int[] input, int[] kernel, int[] stride, int[] pad, int[] dilation)
    {
        var options = new ConvOptions { Stride = stride, Dilation = dilation, Padding = Padding.Of(pad), PaddingMode = mode };
        Tensor w = PowersOfTwoKernel(kernel);
        int[] outSize = new int[2];
        for (int a = 0; a < 2; a++)
        {
            while (outSize[a] * stride[a] + dilation[a] * (kernel[a] - 1) <= input[a] + 2 * pad[a] - 1)
            {
                outSize[a]++;
            }
        }

        for (int ih = 0; ih < input[0]; ih++)
        {
            for (int iw = 0; iw < input[1]; iw++)
            {
                var x = Tensor.Zeros(1, 1, input[0], input[1]);
                x[0, 0, ih, iw] = 1;
                Tensor y = Conv.Conv2d(x, w, options: options);

                var expected = new float[outSize[0] * outSize[1]];
                foreach (int qh in Copies(ih, input[0], pad[0], mode))
                {
                    foreach (int qw in Copies(iw, input[1], pad[1], mode))
                    {
                        // The copy at padded position (qh, qw) is seen by tap (a, b) from output q/s when exact.
                        for (int a = 0; a < kernel[0]; a++)
                        {
                            for (int b = 0; b < kernel[1]; b++)
                            {
                                int rh = qh + pad[0] - (a * dilation[0]), rw = qw + pad[1] - (b * dilation[1]);
                                if (rh >= 0 && rw >= 0 && rh % stride[0] == 0 && rw % stride[1] == 0
                                    && rh / stride[0] < outSize[0] && rw / stride[1] < outSize[1])
                                {
                                    expected[(rh / stride[0] * outSize[1]) + (rw / stride[1])] += MathF.Pow(2, (a * kernel[1]) + b);
                                }
                            }
                        }
                    }
                }

                Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, outSize[0], outSize[1] }));
                Assert.That(y.Data, Is.EqualTo(expected), $"{mode}: impulse at ({ih}, {iw})");
            }
        }
    }

    /// <summary>Where input cell i shows up along an axis of size n padded by p on both sides (coordinates -p .. n+p-1).</summary>
    private static IEnumerable<int> Copies(int i, int n, int p, PaddingMode mode)
    {
        var copies = new List<int> { i };
        switch (mode)
        {
            case PaddingMode.Reflect:
                copies.Add(-i);
                copies.Add((2 * (n - 1)) - i);
                break;
            case PaddingMode.Replicate:
                if (i == 0)
                {
                    copies.AddRange(Enumerable.Range(-p, p));
                }

                if (i == n - 1)
                {
                    copies.AddRange(Enumerable.Range(n, p));
                }

                break;
            case PaddingMode.Circular:
                copies.Add(i - n);
                copies.Add(i + n);
                break;
        }

        // Keep the copies inside the padded range; -0 and 2(n-1)-(n-1) coincide with i itself.
        return copies.Where(q => q >= -p && q < n + p).Distinct();
    }

    [Test]
    public void Channels_and_groups_route_the_impulse()
    {
        // 4 input channels, groups 2, 3 output channels per group. Output channel co sees input channel c
        // through weight w[co, c - g*2] only when c is in co's group g = co / 3.
        const int cin = 4, cout = 6, groups = 2;
        var w = new Tensor([cout, cin / groups, 1, 1], Enumerable.Range(0, cout * cin / groups).Select(k => MathF.Pow(2, k)).ToArray());
        for (int c = 0; c < cin; c++)
        {
            var x = Tensor.Zeros(1, cin, 2, 3);
            x[0, c, 1, 2] = 1;
            Tensor y = Conv.Conv2d(x, w, options: new ConvOptions { Groups = groups });
            for (int co = 0; co < cout; co++)
            {
                bool sameGroup = co / (cout / groups) == c / (cin / groups);
                float code = sameGroup ? MathF.Pow(2, (co * (cin / groups)) + (c % (cin / groups))) : 0;
                Assert.That(y[0, co, 1, 2], Is.EqualTo(code), $"input channel {c}, output channel {co}");
                Assert.That(y.Data.Where((_, k) => k / 6 == co).Sum(), Is.EqualTo(code), "only the impulse's pixel is lit");
            }
        }
    }

    private static Tensor PowersOfTwoKernel(int[] kernel)
    {
        int taps = kernel.Aggregate(1, (p, s) => p * s);
        Assert.That(taps, Is.LessThanOrEqualTo(24), "codes must stay exact in float32");
        return new Tensor([1, 1, .. kernel], Enumerable.Range(0, taps).Select(k => MathF.Pow(2, k)).ToArray());
    }

    private static int[] Unflatten(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (int a = shape.Length - 1; a >= 0; a--)
        {
            index[a] = flat % shape[a];
            flat /= shape[a];
        }

        return index;
    }

    private static int Flatten(int[] index, int[] shape)
    {
        int flat = 0;
        for (int a = 0; a < shape.Length; a++)
        {
            flat = flat * shape[a] + index[a];
        }

        return flat;
    }
}
