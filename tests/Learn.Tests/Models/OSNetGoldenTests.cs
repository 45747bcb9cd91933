using System.Text.Json;
using Learn.Tensors;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Models;

/// <summary>
/// Every variant against PyTorch (float64, stored float32) at batch 2: stage by stage, the 512-d feature and the
/// logits. Tolerance: the project rule with K = the sum of reduction lengths along the longest path to the value,
/// taken from the model's own trace (<see cref="Learn.Analysis.Signal.Reduction"/>).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
public class OSNetGoldenTests
{
    public static IEnumerable<string> AllVariants => Variants;

    [TestCaseSource(nameof(AllVariants))]
    public void Stages_match_pytorch(string variant)
    {
        Run run = RunOf(variant);
        JsonElement stages = Variant(variant).GetProperty("stages");
        Assert.That(stages.EnumerateObject().Count(), Is.GreaterThanOrEqualTo(5), "the fixture should hold most stages");
        foreach (JsonProperty stage in stages.EnumerateObject())
        {
            Tensor expected = Read(stage.Value.GetProperty("file").GetString()!);
            long k = run.Table.RowsOf(stage.Name).Single().Reduction;
            AssertClose($"{variant} {stage.Name}", run.Activations[stage.Name], expected, k);
        }
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Every_stage_has_pytorchs_shape(string variant)
    {
        Run run = RunOf(variant);
        foreach (JsonProperty stage in Variant(variant).GetProperty("stage_shapes").EnumerateObject())
        {
            Assert.That(run.Activations[stage.Name].Shape, Is.EqualTo(Shape(stage.Value)), stage.Name);
        }
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Feature_and_logits_match_pytorch(string variant)
    {
        Run run = RunOf(variant);
        JsonElement v = Variant(variant);
        Tensor expected = Read(v.GetProperty("output").GetProperty("file").GetString()!);
        Assert.That(run.Output.Shape, Is.EqualTo(new[] { 2, 512 }));
        AssertClose($"{variant} feature", run.Output, expected, run.Table.Output.Reduction);

        Tensor logits = run.Model.Classifier.Forward(run.Output);
        AssertClose($"{variant} logits", logits, Read(v.GetProperty("logits").GetProperty("file").GetString()!), run.Table.Output.Reduction + 512);
    }

    [TestCaseSource(nameof(AllVariants))]
    public void Each_sample_alone_gives_the_batch_result_exactly(string variant)
    {
        // Eval mode has no batch coupling (BatchNorm uses running statistics, InstanceNorm is per sample),
        // and the reference computes each sample with the same loops: equality is exact.
        Run run = RunOf(variant);
        for (int n = 0; n < run.Alone.Length; n++)
        {
            Assert.That(run.Alone[n].Shape, Is.EqualTo(new[] { 1, 512 }));
            Assert.That(run.Alone[n].Data, Is.EqualTo(run.Output.Data.AsSpan(n * 512, 512).ToArray()), $"sample {n}");
        }
    }

    [Test]
    public void Pytorch_itself_was_batch_invariant_on_these_fixtures()
    {
        foreach (string variant in Variants)
        {
            Assert.That(Variant(variant).GetProperty("pytorch_batch_invariance_max_abs").GetDouble(), Is.LessThan(1e-12), variant);
        }
    }
}
