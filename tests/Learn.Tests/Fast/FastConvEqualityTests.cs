using System.Numerics;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Fast;

/// <summary>
/// fast == naive within the tolerance rule, for each fast kernel, at every tail length around the vector
/// width (1 .. 2*Vector&lt;float&gt;.Count + 1 in channels and widths) and around the GEMM tile (MR = 6 rows,
/// NR = 2 vectors of columns), with strides, dilations, groups, padding modes, batch &gt; 1 and unbatched
/// inputs; then on random shapes. Vector&lt;float&gt;.Count is 8, 4 or 4-but-scalar in the three CI legs.
/// </summary>
public class FastConvEqualityTests
{
    private static readonly int V = Vector<float>.Count;

    // Tails around the vector width and around the GEMM panel width NR (32 with the AVX-512 kernel).
    private static IEnumerable<int> Tails => Enumerable.Range(1, (2 * V) + 1);

    private static IEnumerable<int> WideTails => Enumerable.Range(1, Math.Max(2 * V, PackedGemm.NR) + 1);

    private static ConvOptions Opt(int stride = 1, int padding = 0, int dilation = 1, int groups = 1, PaddingMode mode = PaddingMode.Zeros) =>
        new() { Stride = [stride], Padding = Padding.Of(padding), Dilation = [dilation], Groups = groups, PaddingMode = mode };

    private static ConvCase Case2d(int batch, int cin, int h, int w, int cout, int kh, int kw, ConvOptions o, int seed, bool bias = true)
    {
        int[] x = batch == 0 ? [cin, h, w] : [batch, cin, h, w];
        return new ConvCase(x, [cout, cin / o.Groups, kh, kw], bias, o, seed);
    }

    public static IEnumerable<TestCaseData> PointwiseCases()
    {
        int seed = 100;
        foreach (int w in WideTails)
        {
            yield return Named(Case2d(w % 2 == 0 ? 2 : 0, 5, 3, w, 7, 1, 1, Opt(), seed++));
        }

        foreach (int cin in Tails)
        {
            foreach (int cout in new[] { 1, 6, 13 })
            {
                yield return Named(Case2d(1, cin, 2, 5, cout, 1, 1, Opt(), seed++));
            }
        }

        foreach (int cout in Tails.Concat([2 * PackedGemm.MR, (2 * PackedGemm.MR) + 1, 3 * PackedGemm.MR]).Distinct())
        {
            yield return Named(Case2d(1, 3, 1, PackedGemm.NR + 1, cout, 1, 1, Opt(), seed++, bias: cout % 2 == 0));
        }

        yield return Named(Case2d(3, 8, 4, 6, 12, 1, 1, Opt(groups: 4), seed++));
        yield return Named(Case2d(2, 6, 3, 7, 9, 1, 1, Opt(groups: 3), seed++));
        yield return Named(Case2d(1, 64, 5, 9, 40, 1, 1, Opt(), seed++));
    }

    public static IEnumerable<TestCaseData> DepthwiseCases()
    {
        int seed = 200;
        foreach (int w in WideTails)
        {
            foreach (int stride in new[] { 1, 2 })
            {
                foreach (int dilation in new[] { 1, 2 })
                {
                    yield return Named(Case2d(w % 3 == 0 ? 0 : 1, 3, 5, w, 3, 3, 3, Opt(stride, dilation, dilation, groups: 3), seed++));
                }
            }
        }

        foreach (int c in Tails)
        {
            foreach (int mult in new[] { 1, 3 })
            {
                yield return Named(Case2d(2, c, 4, V + 1, c * mult, 3, 3, Opt(1, 1, groups: c), seed++));
            }
        }

        foreach (PaddingMode mode in Enum.GetValues<PaddingMode>())
        {
            foreach (int w in new[] { 3, V, (2 * V) + 1 })
            {
                yield return Named(Case2d(1, 4, 6, w, 8, 3, 3, Opt(1, 2, groups: 4, mode: mode), seed++));
                yield return Named(Case2d(2, 2, 7, w, 2, 3, 3, Opt(2, 1, 2, groups: 2, mode: mode), seed++));
            }
        }

        yield return Named(Case2d(1, 5, 4, 9, 5, 1, 1, Opt(groups: 5), seed++));
        yield return Named(Case2d(1, 3, 9, 10, 6, 5, 5, Opt(1, 2, groups: 3), seed++));
        yield return Named(Case2d(2, 3, 9, 10, 3, 3, 5, Opt(2, 2, groups: 3), seed++));
        yield return Named(Case2d(1, 2, 15, 17, 4, 7, 7, Opt(2, 3, groups: 2), seed++));
        yield return Named(Case2d(1, 1, 6, 7, 4, 3, 3, Opt(1, 1), seed++)); // C_in = 1, groups = 1: also one channel per group
        yield return Named(Case2d(0, 3, 6, 7, 3, 3, 3, Opt(3, 0, 2, groups: 3), seed++, bias: false));
        yield return Named(new ConvCase([2, 4, 5, 6], [4, 1, 3, 3], true,
            new ConvOptions { Padding = Padding.Same, Dilation = [2, 1], Groups = 4 }, seed++));
        yield return Named(new ConvCase([1, 3, 9, 14], [6, 1, 4, 5], true,
            new ConvOptions { Stride = [3, 2], Padding = Padding.Of(2, 1), Dilation = [2, 3], Groups = 3 }, seed++));
    }

    public static IEnumerable<TestCaseData> Im2colCases()
    {
        int seed = 300;
        foreach (int w in WideTails)
        {
            foreach (int stride in new[] { 1, 2 })
            {
                foreach (int dilation in new[] { 1, 2 })
                {
                    yield return Named(Case2d(w % 2 == 0 ? 2 : 0, 3, 4, w, 7, 3, 3, Opt(stride, dilation, dilation), seed++));
                }
            }
        }

        // Output widths around whole GEMM panels, where rows are computed in place (the indirect kernel).
        int nr = PackedGemm.NR;
        foreach (int ow in new[] { nr - 1, nr, nr + 1, (2 * nr) - 1, 2 * nr, (2 * nr) + 1 })
        {
            foreach (int stride in new[] { 1, 2 })
            {
                foreach (int dilation in new[] { 1, 2 })
                {
                    int w = ((ow - 1) * stride) + 1; // with padding = dilation and a 3-tap kernel: output width ow
                    yield return Named(Case2d(ow % 2 == 0 ? 2 : 0, 4, 3, w, 10, 3, 3, Opt(stride, dilation, dilation, groups: 2), seed++));
                }
            }
        }

        foreach (PaddingMode mode in Enum.GetValues<PaddingMode>())
        {
            yield return Named(Case2d(2, 4, 5, nr, 6, 3, 3, Opt(1, 2, 1, groups: 2, mode: mode), seed++));
            yield return Named(Case2d(1, 3, 6, (2 * nr) - 1, 5, 3, 2, Opt(2, 1, 2, mode: mode), seed++));
            yield return Named(new ConvCase([1, 2, 4, 3, nr + 2], [4, 2, 2, 3, 3], true, Opt(1, 1, 1, mode: mode), seed++));
        }

        foreach (int cinPerGroup in Tails)
        {
            yield return Named(Case2d(1, 2 * cinPerGroup, 5, 6, 4, 3, 3, Opt(1, 1, groups: 2), seed++));
            yield return Named(Case2d(1, 2 * cinPerGroup, 3, PackedGemm.NR, 14, 3, 3, Opt(1, 1, groups: 2), seed++));
        }

        foreach (PaddingMode mode in Enum.GetValues<PaddingMode>())
        {
            foreach (int w in new[] { 3, V, (2 * V) + 1 })
            {
                yield return Named(Case2d(2, 4, 5, w, 6, 3, 3, Opt(1, 2, 1, groups: 2, mode: mode), seed++));
                yield return Named(Case2d(1, 3, 6, w, 5, 3, 2, Opt(2, 1, 2, mode: mode), seed++));
            }
        }

        yield return Named(Case2d(1, 4, 7, 9, 8, 1, 1, Opt(2), seed++));          // 1x1 strided
        yield return Named(Case2d(1, 4, 7, 9, 8, 1, 1, Opt(1, 1), seed++));       // 1x1 padded
        yield return Named(Case2d(1, 3, 23, 21, 16, 7, 7, Opt(2, 3), seed++));    // a stem
        yield return Named(Case2d(2, 16, 8, 9, 16, 3, 3, Opt(1, 1, groups: 4), seed++));
        yield return Named(Case2d(1, 16, 9, 11, 16, 3, 3, Opt(1, 2, 2), seed++));
        yield return Named(new ConvCase([1, 4, 9, 14], [2, 4, 4, 5], true,
            new ConvOptions { Stride = [3, 2], Padding = Padding.Of(2, 1), Dilation = [2, 3] }, seed++));
        yield return Named(new ConvCase([2, 4, 9, 10], [6, 2, 3, 2], false,
            new ConvOptions { Padding = Padding.Same, Dilation = [1, 3], Groups = 2, PaddingMode = PaddingMode.Reflect }, seed++));
        yield return Named(new ConvCase([2, 4, 11], [6, 2, 3], true, Opt(2, 1, 2, groups: 2, mode: PaddingMode.Circular), seed++));
        yield return Named(new ConvCase([3, 13], [5, 3, 4], true, Opt(1, 2, 1, mode: PaddingMode.Replicate), seed++));
        yield return Named(new ConvCase([2, 4, 5, 6, 7], [6, 2, 2, 3, 3], true, Opt(1, 1, 1, groups: 2), seed++));
        yield return Named(new ConvCase([1, 2, 6, 5, 9], [3, 2, 3, 1, 2], false,
            new ConvOptions { Stride = [2, 1, 3], Padding = Padding.Of(1, 0, 2), Dilation = [1, 1, 2], PaddingMode = PaddingMode.Reflect }, seed++));
    }

    private static TestCaseData Named(ConvCase c) => new TestCaseData(c).SetArgDisplayNames(c.ToString());

    [TestCaseSource(nameof(PointwiseCases))]
    public void Pointwise_equals_reference(ConvCase c) => CheckKernel(c, "pointwise");

    [TestCaseSource(nameof(DepthwiseCases))]
    public void Depthwise_equals_reference(ConvCase c) => CheckKernel(c, "depthwise");

    [TestCaseSource(nameof(Im2colCases))]
    public void Im2col_equals_reference(ConvCase c) => CheckKernel(c, "im2col");

    [Test]
    public void The_general_cases_reach_both_gemm_kernels()
    {
        var chosen = Im2colCases().Select(d => (ConvCase)d.Arguments[0]!)
            .Select(c => FastConv.KernelFor(ConvGeometry.Resolve(c.SpatialDims, c.Input(), c.Weight(), c.BiasTensor(), c.Options)))
            .GroupBy(k => k).ToDictionary(k => k.Key, k => k.Count());
        Assert.That(chosen.GetValueOrDefault("im2col"), Is.GreaterThan(10), string.Join(", ", chosen));
        Assert.That(chosen.GetValueOrDefault("indirect"), Is.GreaterThan(10), string.Join(", ", chosen));
    }

    [Test]
    public void Random_shapes_equal_reference()
    {
        var random = new Random(4242);
        int checkedCases = 0;
        while (checkedCases < 150)
        {
            ConvCase? c = RandomCase(random, 1000 + checkedCases);
            if (c is null)
            {
                continue;
            }

            Close.Assert(c.Run(Implementation.Fast), c.Run(Implementation.Naive), c.ReductionLength, c.ToString());
            checkedCases++;
        }
    }

    private static void CheckKernel(ConvCase c, string kernel)
    {
        var g = ConvGeometry.Resolve(c.SpatialDims, c.Input(), c.Weight(), c.BiasTensor(), c.Options);
        // One input channel per group makes any 2-D conv a depthwise one, and that kernel takes it.
        // The general family goes to one of two GEMM kernels by the output width (both are swept below).
        string expected = g.InPerGroup == 1 && c.SpatialDims <= 2 ? "depthwise" : kernel;
        string chosen = FastConv.KernelFor(g);
        Assert.That(chosen, expected == "im2col" ? Is.AnyOf("im2col", "indirect") : Is.EqualTo(expected), $"{c}: kernel chosen");
        Close.Assert(c.Run(Implementation.Fast), c.Run(Implementation.Naive), c.ReductionLength, c.ToString());
    }

    /// <summary>A random valid conv2d (null when the draw is one PyTorch refuses): all kernels, all options.</summary>
    private static ConvCase? RandomCase(Random r, int seed)
    {
        int kind = r.Next(3); // 0: general groups, 1: depthwise, 2: 1x1
        int groups = 1 + r.Next(3);
        int cinG = 1 + r.Next((2 * V) + 1);
        int coutG = 1 + r.Next(8);
        if (kind == 1)
        {
            cinG = 1;
            groups = 1 + r.Next((2 * V) + 1);
            coutG = 1 + r.Next(3);
        }

        int kh = kind == 2 ? 1 : 1 + r.Next(5), kw = kind == 2 ? 1 : 1 + r.Next(5);
        int sh = 1 + r.Next(3), sw = 1 + r.Next(3), dh = 1 + r.Next(3), dw = 1 + r.Next(3);
        int ph = r.Next(4), pw = r.Next(4);
        if (kind == 2 && r.Next(2) == 0)
        {
            sh = sw = 1;
            ph = pw = 0;
        }

        int h = 1 + r.Next(12), w = 1 + r.Next((3 * V) + 2);
        var mode = (PaddingMode)r.Next(4);
        int batch = r.Next(4);
        var options = new ConvOptions
        {
            Stride = [sh, sw], Padding = Padding.Of(ph, pw), Dilation = [dh, dw], Groups = groups, PaddingMode = mode,
        };
        int[] x = batch == 0 ? [groups * cinG, h, w] : [batch, groups * cinG, h, w];
        var c = new ConvCase(x, [groups * coutG, cinG, kh, kw], r.Next(2) == 0, options, seed);
        try
        {
            ConvGeometry.Resolve(2, c.Input(), c.Weight(), c.BiasTensor(), options);
            return c;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
