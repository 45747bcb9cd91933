using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Tests.Golden;

/// <summary>
/// The backwards of the other layers OSNet uses (training-mode batch norm, ReLU, sigmoid, max/avg/adaptive
/// pooling), and a whole OSBlock in training mode composed from them, against PyTorch autograd
/// (reference-weights/gradients), each gradient under the one tolerance rule with the K the exporter wrote.
/// </summary>
public class LayerGradientGoldenTests
{
    private static readonly Lazy<IReadOnlyList<GradientCase>> Suite = new(() => GradientCase.LoadAll(out _));

    public static IEnumerable<TestCaseData> LayerCases() =>
        Suite.Value.Where(c => !c.Op.StartsWith("conv", StringComparison.Ordinal)).Select(c => new TestCaseData(c).SetName(c.Name));

    [TestCaseSource(nameof(LayerCases))]
    public void Layer_gradients_match_autograd(GradientCase fixture)
    {
        Dictionary<string, Tensor> actual = Compute(fixture);
        Assert.That(actual.Keys, Is.EquivalentTo(fixture.Expected.Keys));
        var report = new List<string>();
        Assert.Multiple(() =>
        {
            foreach ((string gradient, Tensor a) in actual.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                long k = fixture.ReductionLength[gradient];
                Comparison result = Comparison.Of(a, fixture.LoadExpected(gradient), Tolerance.ForReduction(k));
                report.Add($"{gradient}: max abs {result.MaxAbsError:G3} (K={k})");
                Assert.That(result.Close, Is.True, $"{gradient} (K={k}): {result.Describe()}");
            }
        });
        TestContext.Out.WriteLine(string.Join("\n", report));
    }

    private static Dictionary<string, Tensor> Compute(GradientCase c)
    {
        Tensor x = c.Load("input"), dy = c.Load("grad_output");
        PoolOptions Pool() => PoolOptions.Square(
            c.Args.GetProperty("kernel_size").GetInt32(), c.Args.GetProperty("stride").GetInt32(), c.Args.GetProperty("padding").GetInt32());
        switch (c.Op)
        {
            case "batch_norm_train":
                BatchNormGradients bn = BatchNormTraining.Backward(x, c.Load("weight"), c.Load("bias"), dy, c.Args.GetProperty("eps").GetDouble());
                return new() { ["grad_input"] = bn.Input, ["grad_weight"] = bn.Weight, ["grad_bias"] = bn.Bias };
            case "relu":
                return new() { ["grad_input"] = ReluBackward.Backward(x, dy) };
            case "sigmoid":
                return new() { ["grad_input"] = SigmoidBackward.Backward(x, dy) };
            case "max_pool2d":
                return new() { ["grad_input"] = MaxPool2dBackward.Backward(x, dy, Pool()) };
            case "avg_pool2d":
                return new() { ["grad_input"] = AvgPool2dBackward.Backward(x, dy, Pool()) };
            case "adaptive_avg_pool2d":
                return new() { ["grad_input"] = AdaptiveAvgPool2dBackward.Backward(x, dy) };
            case "osblock":
                var (dx, parameters) = OSBlockGradients.Run(x, dy, c.Args.GetProperty("cin").GetInt32(), c.Args.GetProperty("cout").GetInt32(),
                    key => c.Load("param." + key));
                var result = parameters.ToDictionary(p => "grad." + p.Key, p => p.Value);
                result["grad_input"] = dx;
                return result;
            default:
                throw new NotSupportedException(c.Op);
        }
    }

    [Test]
    public void Suite_has_every_layer_osnet_trains_through()
    {
        var ops = Suite.Value.Select(c => c.Op).Distinct().ToList();
        Assert.That(ops, Is.SupersetOf(new[] { "batch_norm_train", "relu", "sigmoid", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "osblock" }));
        Assert.That(Suite.Value.Where(c => c.Op == "osblock").SelectMany(c => c.Expected.Keys), Has.Some.EqualTo("grad.gate.fc1.weight"));
    }
}
