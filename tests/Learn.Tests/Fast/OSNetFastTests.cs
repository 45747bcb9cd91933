using Learn.Layers;
using Learn.Models;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Fast;

/// <summary>
/// OSNet end to end on the fast path against the reference: BatchNorm folding, the fast pools and elementwise
/// steps on random shapes with tails, and every variant at batch 2 on the fixture weights and input, stage by
/// stage, under the tolerance rule with K from the model's cost table.
/// </summary>
[TestFixture]
public class OSNetFastTests
{
    private static readonly int V = System.Numerics.Vector<float>.Count;

    private static Tensor Copy(Tensor t) => new(t.Shape, (float[])t.Data.Clone());

    /// <summary>Random BN statistics: gamma and beta around 1 and 0, var in [0.5, 1.5).</summary>
    private static BatchNorm2d RandomBn(int channels, int seed)
    {
        var bn = new BatchNorm2d(channels);
        var r = new Random(seed);
        for (int c = 0; c < channels; c++)
        {
            bn.Weight.Data[c] = (float)(0.5 + r.NextDouble());
            bn.Bias.Data[c] = (float)(r.NextDouble() - 0.5);
            bn.RunningMean.Data[c] = (float)(r.NextDouble() - 0.5);
            bn.RunningVar.Data[c] = (float)(0.5 + r.NextDouble());
        }

        return bn;
    }

    // (C_in, C_out, k, stride, groups, bias, H, W)
    private static readonly object[] FoldCases =
    [
        new object[] { 3, 16, 7, 2, 1, false, 20, 13 },
        new object[] { 16, 24, 1, 1, 1, false, 9, 2 * 8 + 1 },
        new object[] { 12, 12, 3, 1, 12, false, 7, 2 * 8 + 1 },
        new object[] { 8, 6, 3, 2, 2, true, 11, 5 },
        new object[] { 5, 7, 1, 1, 1, true, 1, 1 },
    ];

    [TestCaseSource(nameof(FoldCases))]
    public void Folded_conv_equals_conv_then_batchnorm(int cin, int cout, int k, int stride, int groups, bool bias, int h, int w)
    {
        var conv = new Conv2d(cin, cout, k, stride, padding: k / 2, groups: groups, bias: bias);
        Tensor.Random(1, conv.Weight.Shape).Data.CopyTo(conv.Weight.Data, 0);
        if (conv.Bias is not null)
        {
            Tensor.Random(2, cout).Data.CopyTo(conv.Bias.Data, 0);
        }

        BatchNorm2d bn = RandomBn(cout, 3);
        Tensor x = Tensor.Random(4, 2, cin, h, w);
        Tensor expected = bn.Forward(conv.Forward(x)); // the reference: conv, then BN
        long kk = conv.ReductionLength + 1;            // the BN adds one step, as the cost table counts it

        var (fw, fb) = BatchNormFolding.Fold(conv.Weight.Data, conv.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data, bn.Weight.Data, bn.Bias.Data, bn.Eps);
        Tensor naiveFolded = Conv.Conv2d(x, new Tensor(conv.Weight.Shape, fw), new Tensor([cout], fb), conv.Options);
        Close.Assert(naiveFolded, expected, kk, "reference conv with folded weights");

        conv.Implementation = Implementation.Fast;
        var fused = new FusedConv(conv, bn, relu: false);
        Close.Assert(fused.Forward(x), expected, kk, "fast folded conv");

        var fusedRelu = new FusedConv(conv, bn, relu: true);
        Close.Assert(fusedRelu.Forward(x), Ops.Relu.Forward(expected), kk + 1, "fast folded conv + relu");
    }

    [Test]
    public void Folding_follows_a_new_state_dict()
    {
        var layer = new Conv1x1Linear(4, 5);
        Tensor x = Tensor.Random(9, 1, 4, 3, 3);
        foreach (Conv2d c in new[] { layer.Conv })
        {
            c.Implementation = Implementation.Fast;
        }

        Tensor first = Copy(layer.Forward(x));
        var sd = layer.StateDict().ToDictionary(p => p.Key, p => Tensor.Random(11, p.Value.Shape));
        sd["bn.running_var"] = new Tensor([5], [1, 2, 3, 4, 5]);
        layer.LoadStateDict(sd);
        Tensor second = layer.Forward(x);
        Assert.That(second.Data, Is.Not.EqualTo(first.Data), "new weights change the output");
        layer.Conv.Implementation = Implementation.Naive;
        Close.Assert(second, layer.Forward(x), 5, "the fast output after a reload");
    }

    public static IEnumerable<int> Widths => Enumerable.Range(1, 2 * V + 1);

    [TestCaseSource(nameof(Widths))]
    public void Pools_and_elementwise_equal_the_reference(int width)
    {
        foreach (int height in new[] { 1, 2, 5, 8 })
        {
            Tensor x = Tensor.Random(width * 10 + height, 2, 3, height, width);
            string what = $"[2,3,{height},{width}]";
            var maxOptions = new PoolOptions { Kernel = [3], Stride = [2], Padding = [1] };
            Tensor expected = Ops.MaxPool2d.Forward(x, maxOptions);
            var y = Tensor.Zeros(FastPool.OutputShape(x.Shape, 3, 2, 1));
            FastPool.MaxPool2d(x, 3, 2, 1, y);
            Assert.That(y.Shape, Is.EqualTo(expected.Shape));
            Assert.That(y.Data, Is.EqualTo(expected.Data), "max pool " + what); // a max is exact

            if (height >= 2 && width >= 2)
            {
                var avgOptions = new PoolOptions { Kernel = [2], Stride = [2] };
                Tensor avg = Ops.AvgPool2d.Forward(x, avgOptions);
                var ya = Tensor.Zeros(FastPool.OutputShape(x.Shape, 2, 2, 0));
                FastPool.AvgPool2d(x, 2, 2, ya);
                Close.Assert(ya, avg, 4, "avg pool " + what);
            }

            Tensor gap = Ops.AdaptiveAvgPool2d.Forward(x, 1, 1);
            var yg = Tensor.Zeros(2, 3, 1, 1);
            FastPool.GlobalAvgPool(x, yg);
            Close.Assert(yg, gap, height * width, "global avg pool " + what);

            Tensor b = Tensor.Random(7, x.Shape);
            var sum = Tensor.Zeros(x.Shape);
            FastElementwise.AddRelu(x.Data, b.Data, sum.Data);
            Assert.That(sum.Data, Is.EqualTo(Ops.Relu.Forward(Ops.Add.Forward(x, b)).Data), "add + relu " + what);

            Tensor g = Tensor.Random(8, 2, 3, 1, 1);
            var acc = Copy(b);
            FastElementwise.GateAccumulate(x, g.Data, acc, first: false);
            Assert.That(acc.Data, Is.EqualTo(Ops.Add.Forward(b, Ops.Multiply.Forward(x, g)).Data), "gate accumulate " + what);
            FastElementwise.GateAccumulate(x, g.Data, acc, first: true);
            Assert.That(acc.Data, Is.EqualTo(Ops.Multiply.Forward(x, g).Data), "gate " + what);
        }
    }

    public static IEnumerable<string> AllVariants => Variants;

    [TestCaseSource(nameof(AllVariants))]
    public void Fast_osnet_equals_naive_at_batch_2(string variant)
    {
        Run naive = RunOf(variant); // the reference forward of the golden tests (batch 2, fixture input)
        OSNet model = Build(variant);
        model.UseImplementation(Implementation.Fast);
        Tensor x = Read(Manifest.GetProperty("input").GetProperty("file").GetString()!);
        var recorder = new ActivationRecorder(name => Stages.Contains(name));
        Tensor y = model.Forward(x, recorder);
        var stages = recorder.Items.ToDictionary(p => p.Key, p => Copy(p.Value));
        foreach (var (name, expected) in naive.Activations)
        {
            long k = naive.Table.RowsOf(name).Single().Reduction;
            AssertClose($"{variant} fast {name}", stages[name], expected, k);
        }

        long kOut = naive.Table.Output.Reduction;
        AssertClose($"{variant} fast output", y, naive.Output, kOut);

        // Steady state: the second forward reuses every buffer and gives the same bits; the first output is not overwritten.
        Tensor yCopy = Copy(y);
        Tensor y2 = model.Forward(x);
        Assert.That(y2.Data, Is.EqualTo(yCopy.Data), "a second fast forward gives the same result");
        Assert.That(y.Data, Is.EqualTo(yCopy.Data), "the returned feature is not a reused buffer");
    }
}
