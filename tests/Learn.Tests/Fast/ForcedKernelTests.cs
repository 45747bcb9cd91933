using System.Numerics;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Tests.Fast;

/// <summary>
/// Every fast kernel, forced by name, on every case of the equality suites it accepts (not only the shapes the
/// router sends it), and on exact impulse sweeps: a single 1 moved over every input position of small inputs at
/// every tail width, where each output is one weight or zero, so the kernel must equal the reference bit for bit.
/// </summary>
public class ForcedKernelTests
{
    private static readonly int V = Vector<float>.Count;

    private static readonly ConvKernel[] Kernels = [ConvKernel.Depthwise, ConvKernel.Pointwise, ConvKernel.Indirect, ConvKernel.Im2col];

    public static IEnumerable<TestCaseData> KernelNames() => Kernels.Select(k => new TestCaseData(k).SetArgDisplayNames(k.Name()));

    private static Tensor Forced(ConvCase c, ConvKernel kernel)
    {
        Tensor x = c.Input(), w = c.Weight();
        Tensor? b = c.BiasTensor();
        ConvGeometry g = ConvGeometry.Resolve(c.SpatialDims, x, w, b, c.Options);
        return FastConv.Forward(g, x.Data, w.Data, b?.Data, c.Options.PaddingMode, kernel: kernel);
    }

    [TestCaseSource(nameof(KernelNames))]
    public void Kernel_equals_the_reference_on_every_case_it_accepts(ConvKernel kernel)
    {
        IEnumerable<ConvCase> cases = FastConvEqualityTests.PointwiseCases()
            .Concat(FastConvEqualityTests.DepthwiseCases())
            .Concat(FastConvEqualityTests.Im2colCases())
            .Select(d => (ConvCase)d.Arguments[0]!);
        int ran = 0, refused = 0;
        foreach (ConvCase c in cases)
        {
            ConvGeometry g = ConvGeometry.Resolve(c.SpatialDims, c.Input(), c.Weight(), c.BiasTensor(), c.Options);
            if (!FastConv.Accepts(kernel, g))
            {
                Assert.Throws<NotSupportedException>(() => Forced(c, kernel), $"{c}: a kernel that does not accept the case refuses it");
                refused++;
                continue;
            }

            Close.Assert(Forced(c, kernel), c.Run(Implementation.Naive), c.ReductionLength, $"{kernel.Name()} forced on {c}");
            ran++;
        }

        TestContext.Out.WriteLine($"{kernel.Name()}: {ran} cases run, {refused} refused");
        Assert.That(ran, Is.GreaterThan(40), "the kernel ran on many cases");
    }

    /// <summary>
    /// The indirect kernel with a caller's buffers (a plan context's, so a steady-state forward allocates nothing)
    /// gives the bits of the pooled ones: the padded copy NaN-filled and longer, the offsets filled with garbage, so
    /// a float or offset read before the kernel writes it would show; buffers too short are refused.
    /// </summary>
    [Test]
    public void Indirect_with_a_callers_buffers_gives_the_bits_of_the_pooled_ones()
    {
        int ran = 0;
        foreach (ConvCase c in FastConvEqualityTests.Im2colCases().Select(d => (ConvCase)d.Arguments[0]!))
        {
            Tensor x = c.Input(), w = c.Weight();
            Tensor? b = c.BiasTensor();
            ConvGeometry g = ConvGeometry.Resolve(c.SpatialDims, x, w, b, c.Options);
            if (!FastConv.Accepts(ConvKernel.Indirect, g) || c.Options.PaddingMode != PaddingMode.Zeros)
            {
                continue;
            }

            using var packed = PackedWeights.Pack(g.Groups, g.OutPerGroup, g.ReductionLength, w.Data, b?.Data);
            var pooled = new float[g.OutputShape().Aggregate(1, (a, d) => a * d)];
            IndirectConv.Forward(g, x.Data, packed, pooled, PaddingMode.Zeros, relu: false, residual: null, threads: 2);
            var buffer = new float[IndirectConv.BufferLength(g) + 17];
            var offsets = new int[g.ReductionLength + 3];
            Array.Fill(buffer, float.NaN);
            Array.Fill(offsets, int.MinValue);
            var given = new float[pooled.Length];
            IndirectConv.Forward(g, x.Data, packed, given, PaddingMode.Zeros, relu: false, residual: null, threads: 2, buffer, offsets);
            Assert.That(given, Is.EqualTo(pooled), $"{c} with a caller's buffers");
            Assert.Throws<ArgumentException>(() => IndirectConv.Forward(g, x.Data, packed, given, PaddingMode.Zeros, false, null, 1,
                new float[IndirectConv.BufferLength(g) - 1], offsets), $"{c}: a padded buffer one short");
            Assert.Throws<ArgumentException>(() => IndirectConv.Forward(g, x.Data, packed, given, PaddingMode.Zeros, false, null, 1,
                buffer, new int[g.ReductionLength - 1]), $"{c}: offsets one short");
            ran++;
        }

        Assert.That(ran, Is.GreaterThan(5), "the indirect kernel ran on several cases");
    }

    /// <summary>Widths around the vector width and the GEMM panel (NR columns), as the output rows see them.</summary>
    private static IEnumerable<int> SweepWidths =>
        new[] { 1, 2, V - 1, V, V + 1, (2 * V) + 1, PackedGemm.NR - 1, PackedGemm.NR + 1 }.Where(w => w >= 1).Distinct().Order();

    public static IEnumerable<TestCaseData> ImpulseCases()
    {
        foreach (int w in SweepWidths)
        {
            // (input [C, H, W] with batch 1, weight shape, stride, padding, dilation, groups)
            yield return Impulse([1, 3, 3, w], [3, 1, 3, 3], 1, 1, 1, 3);
            yield return Impulse([1, 2, 4, w], [4, 1, 3, 3], 2, 2, 2, 2);
            yield return Impulse([1, 5, 2, w], [3, 5, 1, 1], 1, 0, 1, 1);
            yield return Impulse([1, 4, 3, w], [4, 2, 3, 3], 1, 1, 1, 2);
            yield return Impulse([1, 3, 4, w], [5, 3, 3, 3], 2, 2, 2, 1);
        }
    }

    private static TestCaseData Impulse(int[] x, int[] weight, int stride, int padding, int dilation, int groups)
    {
        var options = new ConvOptions { Stride = [stride], Padding = Padding.Of(padding), Dilation = [dilation], Groups = groups };
        var c = new ConvCase(x, weight, false, options, x[3] * 7 + weight[0]);
        return new TestCaseData(c).SetArgDisplayNames(c.ToString());
    }

    [TestCaseSource(nameof(ImpulseCases))]
    public void Every_accepting_kernel_is_exact_on_an_impulse_at_every_position(ConvCase c)
    {
        Tensor w = c.Weight();
        var x = Tensor.Zeros(c.InputShape);
        ConvGeometry g = ConvGeometry.Resolve(2, x, w, null, c.Options);
        ConvKernel[] accepting = Kernels.Where(k => FastConv.Accepts(k, g)).ToArray();
        Assert.That(accepting, Is.Not.Empty);
        for (int p = 0; p < x.Length; p++)
        {
            x.Data[p] = 1f;
            Tensor expected = Conv.Conv2d(x, w, null, c.Options); // each output: one weight, or zero
            foreach (ConvKernel kernel in accepting)
            {
                Tensor y = FastConv.Forward(g, x.Data, w.Data, null, c.Options.PaddingMode, kernel: kernel);
                if (!y.Data.AsSpan().SequenceEqual(expected.Data))
                {
                    int at = Enumerable.Range(0, y.Length).First(i => y.Data[i] != expected.Data[i]);
                    Assert.Fail($"{kernel.Name()} on {c}, impulse at input {p}: output {at} is {y.Data[at]}, the reference {expected.Data[at]}");
                }
            }

            x.Data[p] = 0f;
        }
    }

    [Test]
    public void The_router_picks_a_kernel_that_accepts_the_case()
    {
        foreach (ConvCase c in FastConvEqualityTests.Im2colCases().Concat(FastConvEqualityTests.DepthwiseCases()).Select(d => (ConvCase)d.Arguments[0]!))
        {
            ConvGeometry g = ConvGeometry.Resolve(c.SpatialDims, c.Input(), c.Weight(), c.BiasTensor(), c.Options);
            Assert.That(FastConv.Accepts(FastConv.Choose(g), g), Is.True, c.ToString());
            Assert.That(FastConv.KernelFor(g), Is.EqualTo(FastConv.Choose(g).Name()));
        }
    }
}
