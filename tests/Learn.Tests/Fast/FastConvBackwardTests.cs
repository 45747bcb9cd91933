using System.Numerics;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Fast;

/// <summary>
/// The fast conv backward == the reference within the tolerance rule, each gradient with its own K (as in
/// reference-weights/gradients/README.md): column counts N*P around every tail of the vector width, channel
/// counts around it, depthwise with multipliers, groups, strides, dilations, every padding mode, 1-D and 3-D,
/// then random shapes. Vector&lt;float&gt;.Count is 8, 4 or 4-but-scalar in the three CI legs.
/// </summary>
public class FastConvBackwardTests
{
    private static readonly int V = Vector<float>.Count;

    private static IEnumerable<int> Tails => Enumerable.Range(1, (2 * V) + 1);

    private static ConvOptions Opt(int stride = 1, int padding = 0, int dilation = 1, int groups = 1, PaddingMode mode = PaddingMode.Zeros) =>
        new() { Stride = [stride], Padding = Padding.Of(padding), Dilation = [dilation], Groups = groups, PaddingMode = mode };

    private static TestCaseData Named(ConvCase c) => new TestCaseData(c).SetName("Backward_fast_equals_naive_" + c);

    private static ConvCase Case2d(int batch, int cin, int h, int w, int cout, int kh, int kw, ConvOptions o, int seed, bool bias = true) =>
        new(batch == 0 ? [cin, h, w] : [batch, cin, h, w], [cout, cin / o.Groups, kh, kw], bias, o, seed);

    public static IEnumerable<TestCaseData> Cases()
    {
        int seed = 500;
        foreach (int w in Tails)
        {
            yield return Named(Case2d(w % 2 == 0 ? 2 : 0, 3, 2, w, 4, 1, 1, Opt(), seed++));                       // pointwise, N*P tails
            yield return Named(Case2d(1, 4, 3, w + 2, 8, 3, 3, Opt(padding: 1, groups: 4), seed++));               // depthwise x2
            yield return Named(Case2d(2, 6, 4, w + 3, 4, 2, 3, Opt(stride: 2, padding: 1, groups: 2), seed++));    // grouped, strided
        }

        foreach (int c in Tails)
        {
            yield return Named(Case2d(1, c, 5, 6, c + 1, 3, 3, Opt(padding: 1), seed++, bias: c % 2 == 1));
        }

        foreach (PaddingMode mode in Enum.GetValues<PaddingMode>())
        {
            yield return Named(Case2d(2, 3, 7, 9, 5, 3, 4, Opt(stride: 2, padding: 2, dilation: 1, mode: mode), seed++));
            yield return Named(Case2d(1, 4, 6, 7, 4, 3, 3, Opt(padding: 2, dilation: 2, groups: 4, mode: mode), seed++));
        }

        yield return Named(Case2d(1, 2, 10, 11, 3, 2, 2, new ConvOptions { Stride = [3, 4] }, seed++, bias: false)); // unread rows
        yield return Named(Case2d(2, 3, 5, 4, 4, 5, 4, Opt(), seed++));                                            // kernel == input
        yield return Named(Case2d(1, 2, 9, 10, 3, 4, 6, new ConvOptions { Padding = Padding.Same, PaddingMode = PaddingMode.Reflect }, seed++));
        yield return Named(new ConvCase([2, 5, 17], [4, 5, 3], true, Opt(stride: 2, padding: 1, dilation: 3), seed++));
        yield return Named(new ConvCase([3, 4, 11], [8, 1, 4], false, Opt(stride: 3, padding: 2, groups: 4, mode: PaddingMode.Circular), seed++));
        yield return Named(new ConvCase([2, 3, 5, 6, 7], [4, 3, 2, 3, 4], true,
            new ConvOptions { Stride = [2, 1, 3], Padding = Padding.Of(1, 2, 0), Dilation = [1, 2, 1] }, seed++));
        yield return Named(new ConvCase([1, 3, 4, 4, 5], [6, 1, 2, 3, 3], true,
            new ConvOptions { Stride = [1, 2, 2], Padding = Padding.Of(1, 1, 0), Groups = 3, PaddingMode = PaddingMode.Replicate }, seed++));

        // Random 2-D shapes, keeping only what the forward accepts.
        var rng = new Random(20261128);
        int drawn = 0;
        while (drawn < 24)
        {
            int groups = rng.Next(1, 4), cin = groups * rng.Next(1, 4), cout = groups * rng.Next(1, 4);
            int h = rng.Next(1, 13), w = rng.Next(1, 2 * V + 6), kh = rng.Next(1, 5), kw = rng.Next(1, 5);
            var o = new ConvOptions
            {
                Stride = [rng.Next(1, 4), rng.Next(1, 4)],
                Padding = Padding.Of(rng.Next(0, 3), rng.Next(0, 3)),
                Dilation = [rng.Next(1, 3), rng.Next(1, 3)],
                Groups = groups,
                PaddingMode = (PaddingMode)rng.Next(0, 4),
            };
            var c = Case2d(rng.Next(0, 4), cin, h, w, cout, kh, kw, o, seed++, rng.Next(2) == 0);
            try
            {
                _ = ConvGeometry.Resolve(2, c.Input(), c.Weight(), null, o);
            }
            catch (ArgumentException)
            {
                continue;
            }

            drawn++;
            yield return Named(c);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Fast_backward_equals_the_reference(ConvCase c)
    {
        Tensor x = c.Input(), w = c.Weight();
        ConvGeometry g = ConvGeometry.Resolve(c.SpatialDims, x, w, null, c.Options);
        int positions = g.Batch * g.Axes[0].Output * g.Axes[1].Output * g.Axes[2].Output;
        // dL/dy scaled by 1/sqrt(N*P), as the golden gradients are, so that dL/dw is O(1).
        Tensor dy = Tensor.Random(c.Seed + 3, g.OutputShape());
        for (int i = 0; i < dy.Length; i++)
        {
            dy.Data[i] /= MathF.Sqrt(positions);
        }

        ConvGradients naive = Run(c, x, w, dy, Implementation.Naive), fast = Run(c, x, w, dy, Implementation.Fast);
        Close.Assert(fast.Input, naive.Input, InputReductionLength(g, c.Options.PaddingMode), "dL/dx");
        Close.Assert(fast.Weight, naive.Weight, positions, "dL/dw");
        Assert.That(fast.Bias is null, Is.EqualTo(!c.Bias));
        if (c.Bias)
        {
            Close.Assert(fast.Bias!, naive.Bias!, positions, "dL/db");
        }

        // Cells no output reads: the fast path's col2im must leave them exact zeros too.
        for (int i = 0; i < naive.Input.Length; i++)
        {
            if (naive.Input.Data[i] == 0f)
            {
                Assert.That(fast.Input.Data[i], Is.Zero, $"dL/dx[{i}] is read by no output");
            }
        }
    }

    [NonParallelizable] // changes the process-wide thread count
    [TestCase(2, 24, TestName = "Fast_backward_does_not_depend_on_the_thread_count_grouped")]
    [TestCase(16, 32, TestName = "Fast_backward_does_not_depend_on_the_thread_count_depthwise_one_group_per_worker")]
    public void Fast_backward_does_not_depend_on_the_thread_count(int groups, int cout)
    {
        var c = Case2d(4, 16, 20, 21, cout, 3, 3, Opt(stride: 2, padding: 1, groups: groups, mode: PaddingMode.Reflect), 77);
        Tensor x = c.Input(), w = c.Weight();
        Tensor dy = Tensor.Random(78, Conv.Conv2d(x, w, null, c.Options).Shape);
        int saved = Parallelism.Threads;
        try
        {
            Parallelism.Threads = 1;
            ConvGradients one = Run(c, x, w, dy, Implementation.Fast);
            Parallelism.Threads = 3;
            ConvGradients three = Run(c, x, w, dy, Implementation.Fast);
            Assert.That(three.Input.Data, Is.EqualTo(one.Input.Data));
            Assert.That(three.Weight.Data, Is.EqualTo(one.Weight.Data));
            Assert.That(three.Bias!.Data, Is.EqualTo(one.Bias!.Data));
        }
        finally
        {
            Parallelism.Threads = saved;
        }
    }

    private static ConvGradients Run(ConvCase c, Tensor x, Tensor w, Tensor dy, Implementation impl) => c.SpatialDims switch
    {
        1 => ConvBackward.Conv1d(x, w, dy, c.Bias, c.Options, impl),
        2 => ConvBackward.Conv2d(x, w, dy, c.Bias, c.Options, impl),
        _ => ConvBackward.Conv3d(x, w, dy, c.Bias, c.Options, impl),
    };

    /// <summary>K of dL/dx: (C_out/G) times, per axis, the most (o, t) pairs whose padded coordinate maps to one input cell.</summary>
    internal static long InputReductionLength(ConvGeometry g, PaddingMode mode)
    {
        long k = g.OutPerGroup;
        foreach (ConvAxis a in g.Axes)
        {
            var hits = new int[a.Input];
            for (int o = 0; o < a.Output; o++)
            {
                for (int t = 0; t < a.Kernel; t++)
                {
                    int src = PaddingModes.SourceIndex(a.InputIndex(o, t), a.Input, mode);
                    if (src >= 0)
                    {
                        hits[src]++;
                    }
                }
            }

            k *= Math.Max(1, hits.Max());
        }

        return k;
    }
}
