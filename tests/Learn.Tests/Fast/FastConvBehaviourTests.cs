using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Fast;

/// <summary>The fast path's contract beyond equality: determinism over thread counts, the fused ReLU, writing into a given output.</summary>
[NonParallelizable] // changes the process-wide thread count
public class FastConvBehaviourTests
{
    private static readonly ConvCase[] BigEnoughToSplit =
    [
        new([1, 32, 16, 24], [48, 32, 1, 1], true, ConvOptions.Default, 1),
        new([2, 16, 20, 20], [32, 1, 3, 3], true, new ConvOptions { Padding = Padding.Of(1), Groups = 16 }, 2),
        new([1, 16, 18, 20], [24, 8, 3, 3], true, new ConvOptions { Padding = Padding.Of(2), Dilation = [2], Groups = 2 }, 3),
    ];

    [Test]
    public void Results_are_bit_identical_for_any_thread_count()
    {
        int saved = Parallelism.Threads;
        try
        {
            foreach (ConvCase c in BigEnoughToSplit)
            {
                Parallelism.Threads = 1;
                float[] one = c.Run(Implementation.Fast).Data;
                foreach (int t in new[] { 2, 3, 7 })
                {
                    Parallelism.Threads = t;
                    Assert.That(c.Run(Implementation.Fast).Data, Is.EqualTo(one), $"{c} with {t} threads");
                }

                Close.Assert(new Tensor(c.Run(Implementation.Fast).Shape, one), c.Run(Implementation.Naive), c.ReductionLength, c.ToString());
            }
        }
        finally
        {
            Parallelism.Threads = saved;
        }
    }

    [Test]
    public void Reports_the_vector_width_of_this_leg()
    {
        // Makes each CI leg's log say what it ran: 8 floats (AVX2), 4 (SSE) or 4 emulated (no intrinsics).
        TestContext.Out.WriteLine($"Vector<float>.Count = {System.Numerics.Vector<float>.Count}, accelerated = {System.Numerics.Vector.IsHardwareAccelerated}");
        TestContext.Out.WriteLine($"GEMM micro-kernel: {PackedGemm.MR} x {PackedGemm.NR}, 512-bit = {PackedGemm.Wide}");
        Assert.That(PackedGemm.NR, Is.EqualTo(PackedGemm.Wide ? 32 : 2 * System.Numerics.Vector<float>.Count));
    }

    [Test]
    public void Thread_count_below_one_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Parallelism.Threads = 0);

    [Test]
    public void Relu_epilogue_equals_relu_of_the_reference()
    {
        foreach (ConvCase c in BigEnoughToSplit)
        {
            Tensor fused = FastConv.Conv2d(c.Input(), c.Weight(), c.BiasTensor(), c.Options, Epilogue.Relu);
            Tensor reference = c.Run(Implementation.Naive);
            int zeros = 0;
            for (int i = 0; i < reference.Length; i++)
            {
                if (reference.Data[i] < 0)
                {
                    reference.Data[i] = 0;
                    zeros++;
                }
            }

            Assert.That(zeros, Is.GreaterThan(0), "the case must have negative outputs for ReLU to matter");
            Assert.That(fused.Data.Count(v => v < 0), Is.Zero, c.ToString());
            Close.Assert(fused, reference, c.ReductionLength, c + " relu");
        }
    }

    [Test]
    public void Writes_into_a_given_output_and_overwrites_it()
    {
        ConvCase c = BigEnoughToSplit[2];
        Tensor expected = c.Run(Implementation.Naive);
        Tensor output = Tensor.Zeros(expected.Shape);
        Array.Fill(output.Data, float.NaN);
        Tensor result = FastConv.Conv2d(c.Input(), c.Weight(), c.BiasTensor(), c.Options, output: output);
        Assert.That(result, Is.SameAs(output));
        Close.Assert(output, expected, c.ReductionLength, c.ToString());
    }

    [Test]
    public void A_wrong_output_shape_is_refused()
    {
        ConvCase c = BigEnoughToSplit[0];
        var e = Assert.Throws<ArgumentException>(() =>
            FastConv.Conv2d(c.Input(), c.Weight(), c.BiasTensor(), c.Options, output: Tensor.Zeros(1, 48, 16, 23)));
        Assert.That(e!.Message, Does.Contain("[1, 48, 16, 24]").Or.Contain("1x48x16x24").Or.Contain("(1, 48, 16, 24)"));
    }

    [Test]
    public void Naive_stays_the_reference_when_fast_exists()
    {
        // The two paths must not be the same code: the reference sums in double, the fast path in float,
        // so on a long reduction they differ in the last bits somewhere while staying within the rule.
        var c = new ConvCase([1, 64, 6, 20], [8, 64, 3, 3], true, new ConvOptions { Padding = Padding.Of(1) }, 9);
        Tensor fast = c.Run(Implementation.Fast), naive = c.Run(Implementation.Naive);
        Assert.That(fast.Data, Is.Not.EqualTo(naive.Data));
        Close.Assert(fast, naive, c.ReductionLength, c.ToString());
    }
}
