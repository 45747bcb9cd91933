using Learn.Ops;
using Learn.Tensors;

namespace Learn.Tests.Convolution;

/// <summary>
/// The conv backward checked without PyTorch: central finite differences of L = sum(y * dy) through the
/// forward reference, exact zeros on input cells no output reads, and the refusals.
/// </summary>
public class ConvBackwardTests
{
    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string name, int[] x, int[] w, ConvOptions o) => new TestCaseData(x, w, o).SetName("Finite_differences_" + name);
        yield return Case("dense_pad1", [2, 3, 5, 6], [4, 3, 3, 3], new ConvOptions { Padding = Padding.Of(1) });
        yield return Case("grouped_strided_dilated", [1, 4, 7, 8], [6, 2, 3, 2], new ConvOptions { Groups = 2, Stride = [2, 3], Dilation = [2, 1], Padding = Padding.Of(2, 1) });
        yield return Case("depthwise_x2_reflect", [2, 3, 5, 6], [6, 1, 3, 3], new ConvOptions { Groups = 3, Padding = Padding.Of(2, 1), PaddingMode = PaddingMode.Reflect });
        yield return Case("replicate_pad_beyond_size", [1, 2, 3, 4], [2, 2, 2, 3], new ConvOptions { Padding = Padding.Of(3, 5), PaddingMode = PaddingMode.Replicate });
        yield return Case("circular_same_even", [1, 2, 5, 6], [3, 2, 4, 2], new ConvOptions { Padding = Padding.Same, PaddingMode = PaddingMode.Circular });
        yield return Case("conv1d_strided", [2, 3, 11], [4, 3, 3], new ConvOptions { Stride = [3], Padding = Padding.Of(2) });
        yield return Case("conv3d_grouped", [1, 2, 3, 4, 5], [4, 1, 2, 3, 2], new ConvOptions { Groups = 2, Padding = Padding.Of(1, 0, 1), PaddingMode = PaddingMode.Reflect });
    }

    // L = sum_j dy_j * y_j is linear in x (and in w), so the central difference (L(x + h e_i) - L(x - h e_i)) / (h+ + h-)
    // equals dL/dx_i up to rounding alone. Each y_j is the forward reference's double sum rounded once, within
    // u|y_j| of exact; y_j the perturbation does not touch is computed identically in both runs and cancels. So
    // |fd - exact| <= u * sum_j |dy_j| (|y+_j| + |y-_j|) / (h+ + h-), and the analytic gradient is within u|g| of exact.
    [TestCaseSource(nameof(Cases))]
    public void Gradients_match_central_differences(int[] xShape, int[] wShape, ConvOptions options)
    {
        int dims = wShape.Length - 2;
        Tensor x = Tensor.Random(11, xShape), w = Tensor.Random(12, wShape), b = Tensor.Random(13, wShape[0]);
        Tensor Forward(Tensor xx, Tensor ww) => dims switch
        {
            1 => Learn.Ops.Conv.Conv1d(xx, ww, b, options),
            2 => Learn.Ops.Conv.Conv2d(xx, ww, b, options),
            _ => Learn.Ops.Conv.Conv3d(xx, ww, b, options),
        };
        Tensor dy = Tensor.Random(14, Forward(x, w).Shape);
        ConvGradients grads = dims switch
        {
            1 => ConvBackward.Conv1d(x, w, dy, true, options),
            2 => ConvBackward.Conv2d(x, w, dy, true, options),
            _ => ConvBackward.Conv3d(x, w, dy, true, options),
        };

        CheckAgainstDifferences(x, grads.Input, t => Forward(t, w), dy, "dL/dx");
        CheckAgainstDifferences(w, grads.Weight, t => Forward(x, t), dy, "dL/dw");
        var db = new double[wShape[0]];
        int perChannel = dy.Length / (dy.Rank == dims + 2 ? dy.Size(0) : 1) / wShape[0];
        for (int i = 0; i < dy.Length; i++)
        {
            db[i / perChannel % wShape[0]] += dy.Data[i]; // y is affine in b with slope 1 per output of the channel
        }

        Assert.That(grads.Bias!.Data, Is.EqualTo(db.Select(v => (float)v).ToArray()));
    }

    private static void CheckAgainstDifferences(Tensor point, Tensor gradient, Func<Tensor, Tensor> forward, Tensor dy, string what)
    {
        const double u = 1.0 / (1 << 24);
        const float h = 0.5f;
        int checkedCount = 0;
        for (int i = 0; i < point.Length; i++)
        {
            Tensor plus = point.Clone(), minus = point.Clone();
            plus.Data[i] += h;
            minus.Data[i] -= h;
            double step = (double)plus.Data[i] - minus.Data[i]; // the steps as float32 really took them
            Tensor yPlus = forward(plus), yMinus = forward(minus);
            double lPlus = 0, lMinus = 0, bound = 0;
            for (int j = 0; j < dy.Length; j++)
            {
                lPlus += (double)dy.Data[j] * yPlus.Data[j];
                lMinus += (double)dy.Data[j] * yMinus.Data[j];
                bound += Math.Abs(dy.Data[j]) * (Math.Abs(yPlus.Data[j]) + Math.Abs(yMinus.Data[j]));
            }

            double fd = (lPlus - lMinus) / step;
            double g = gradient.Data[i];
            double tolerance = u * bound / step + u * Math.Abs(g) + 1e-12;
            Assert.That(Math.Abs(fd - g), Is.LessThanOrEqualTo(tolerance), $"{what}[{i}]: finite difference {fd}, backward {g}");
            checkedCount++;
        }

        Assert.That(checkedCount, Is.EqualTo(point.Length));
    }

    // Stride 4 with a 2-wide kernel reads columns 0,1, 4,5, 8,9 of 11: columns 2,3,6,7,10 and the rows the stride
    // skips get no term at all, hence an exact 0, not a rounding residue.
    [Test]
    public void Input_cells_no_output_reads_get_exact_zeros()
    {
        Tensor x = Tensor.Random(1, 1, 2, 10, 11), w = Tensor.Random(2, 3, 2, 2, 2);
        var options = new ConvOptions { Stride = [3, 4] };
        Tensor dy = Tensor.Random(3, Learn.Ops.Conv.Conv2d(x, w, null, options).Shape);
        Tensor dx = ConvBackward.Conv2d(x, w, dy, false, options).Input;
        for (int c = 0; c < 2; c++)
        {
            for (int i = 0; i < 10; i++)
            {
                for (int j = 0; j < 11; j++)
                {
                    bool read = i % 3 < 2 && i < 3 * 2 + 2 && j % 4 < 2 && j < 4 * 2 + 2;
                    Assert.That(dx[0, c, i, j] == 0f, Is.EqualTo(!read), $"dx[0, {c}, {i}, {j}]");
                }
            }
        }
    }

    [Test]
    public void Grad_output_of_the_wrong_shape_is_refused_with_both_shapes()
    {
        Tensor x = Tensor.Random(1, 1, 2, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => ConvBackward.Conv2d(x, w, Tensor.Zeros(1, 3, 6, 6)));
        Assert.That(e!.Message, Does.Contain("[1, 3, 6, 6]").And.Contain("[1, 3, 4, 4]"));
    }

    [Test]
    public void Groups_that_do_not_divide_the_channels_are_refused_as_the_forward_does()
    {
        Tensor x = Tensor.Random(1, 1, 4, 6, 6), w = Tensor.Random(2, 3, 2, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => ConvBackward.Conv2d(x, w, Tensor.Zeros(1, 3, 4, 4), options: new ConvOptions { Groups = 3 }));
        Assert.That(e!.Message, Does.Contain("groups=3"));
    }
}
