using Learn.Analysis;
using Learn.Ops;
using Learn.Ops.Family;
using Learn.Tensors;

namespace Learn.Tests.Family;

/// <summary>The family's closed-form costs against costs counted from the convolutions that actually run.</summary>
public class FamilyCostTests
{
    /// <summary>MACs counted from a real call's resolved geometry: one reduction of length K per output value.</summary>
    private static long CountedMacs(Tensor x, Tensor w, ConvOptions options)
    {
        ConvGeometry g = ConvGeometry.Resolve(2, x, w, null, options);
        return (long)g.OutChannels * g.Axes[1].Output * g.Axes[2].Output * g.ReductionLength;
    }

    [TestCase(8, 16, 3, 9, 10)]
    [TestCase(3, 5, 5, 7, 7)]
    [TestCase(12, 24, 7, 4, 6)]
    public void Separable_cost_is_depthwise_plus_pointwise_and_ratio_is_one_over_N_plus_one_over_K_squared(int m, int n, int k, int h, int w)
    {
        var x = Tensor.Random(1, 1, m, h, w);
        var same = new ConvOptions { Padding = Padding.Same };
        long standard = CountedMacs(x, Tensor.Random(2, n, m, k, k), same);
        long depthwise = CountedMacs(x, Tensor.Random(3, m, 1, k, k), same with { Groups = m });
        long pointwise = CountedMacs(x, Tensor.Random(4, n, m, 1, 1), ConvOptions.Default);

        Cost separable = DepthwiseSeparable.Cost(m, n, k, h, w);
        Assert.That(separable.MultiplyAccumulates, Is.EqualTo(depthwise + pointwise));
        Assert.That(ConvCost.Conv2d(m, n, k, k, 1, h, w).MultiplyAccumulates, Is.EqualTo(standard));
        Assert.That((double)separable.MultiplyAccumulates / standard,
            Is.EqualTo(DepthwiseSeparable.CostRatio(n, k)).Within(1e-12));
    }

    [Test]
    public void Grouped_conv_has_one_over_g_of_the_parameters_12_in_6_out_groups_3()
    {
        long full = Grouped.Cost(12, 6, 3, 3, 1, 8, 8).Parameters;
        long grouped = Grouped.Cost(12, 6, 3, 3, 3, 8, 8).Parameters;
        Assert.That(full, Is.EqualTo(6 * 12 * 3 * 3));
        Assert.That(grouped * 3, Is.EqualTo(full));
    }

    [Test]
    public void Dilation_changes_the_span_not_the_cost()
    {
        Assert.That(Dilated.EffectiveKernelSize(3, 2), Is.EqualTo(5));
        Assert.That(Dilated.EffectiveKernelSize(3, 4), Is.EqualTo(9));
        Assert.That(Dilated.Cost(4, 4, 3, 3, 1, 5, 5), Is.EqualTo(ConvCost.Conv2d(4, 4, 3, 3, 1, 5, 5)));
    }

    [Test]
    public void Depthwise_with_multiplier_maps_channel_c_to_outputs_cK_to_cK_plus_K_minus_1()
    {
        // Zero every channel but one: only that channel's K outputs may be non-zero.
        const int channels = 3, multiplier = 2;
        var x = Tensor.Random(5, 1, channels, 6, 5);
        for (int i = 0; i < x.Length; i++)
        {
            if (i / 30 != 1)
            {
                x.Data[i] = 0;
            }
        }

        Tensor y = Depthwise.Conv2d(x, Tensor.Random(6, channels * multiplier, 1, 3, 3));
        for (int co = 0; co < channels * multiplier; co++)
        {
            bool any = Enumerable.Range(0, 4 * 3).Any(i => y.Data[co * 12 + i] != 0);
            Assert.That(any, Is.EqualTo(co / multiplier == 1), $"output channel {co}");
        }
    }

    [Test]
    public void Lite_order_is_pointwise_then_depthwise_and_differs_from_MobileNet_order()
    {
        var x = Tensor.Random(7, 2, 4, 6, 6);
        var pw = Tensor.Random(8, 4, 4, 1, 1);
        var dw = Tensor.Random(9, 4, 1, 3, 3);
        Tensor lite = LiteSeparable.Conv2d(x, pw, dw);
        Tensor explicitOrder = Depthwise.Conv2d(Pointwise.Conv2d(x, pw), dw);
        Tensor mobile = DepthwiseSeparable.Conv2d(x, dw, pw);
        Assert.That(lite.Data, Is.EqualTo(explicitOrder.Data));
        Assert.That(lite.Data.Zip(mobile.Data).Max(p => Math.Abs(p.First - p.Second)), Is.GreaterThan(1e-3));
    }
}
