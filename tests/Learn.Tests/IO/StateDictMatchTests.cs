using Learn.IO;
using Learn.Tensors;
using static Learn.Tests.IO.CheckpointFixtures;

namespace Learn.Tests.IO;

public class StateDictMatchTests
{
    private static readonly TensorSpec[] Model =
    [
        new("conv.weight", [4, 3, 3, 3]),
        new("bn.weight", [4]),
        new("bn.running_var", [4]),
        new("fc.weight", [5, 4]),
    ];

    private static StateDict Checkpoint(params (string Name, int[] Shape)[] tensors)
    {
        var sd = new StateDict();
        foreach ((string name, int[] shape) in tensors)
        {
            sd.Add(name, Tensor.Zeros(shape));
        }

        return sd;
    }

    [Test]
    public void An_exact_match_reports_all_tensors_present()
    {
        StateDictMatch match = StateDictMatch.Check(Model, Checkpoint(Model.Select(m => (m.Name, m.Shape.ToArray())).Reverse().ToArray()), source: "w.pth");
        Assert.That(match.IsExact);
        Assert.That(match.Matched, Is.EqualTo(Model.Select(m => m.Name)));
        Assert.That(match.Report, Is.EqualTo("w.pth matches the model: all 4 tensors present with their shapes"));
    }

    [Test]
    public void Missing_unexpected_and_misshaped_names_are_each_listed()
    {
        StateDict sd = Checkpoint(("conv.weight", [4, 3, 3, 3]), ("bn.weight", [8]), ("fc.weight", [5, 4]), ("classifier.weight", [751, 512]));
        StateDictMatch match = StateDictMatch.Check(Model, sd, strict: false, source: "w.pth");
        Assert.That(match.IsExact, Is.False);
        Assert.That(match.Matched, Is.EqualTo(new[] { "conv.weight", "fc.weight" }));
        Assert.That(match.Report, Is.EqualTo(
            "w.pth does not match the model: 1 missing, 1 unexpected, 1 with the wrong shape; 2 of 4 expected tensors match\n" +
            "  missing      bn.running_var [4]\n" +
            "  unexpected   classifier.weight [751, 512]\n" +
            "  wrong shape  bn.weight: model [4], checkpoint [8]"));
    }

    [Test]
    public void Strict_mode_throws_the_report()
    {
        StateDict sd = Checkpoint(("conv.weight", [4, 3, 3, 3]));
        var e = Assert.Throws<StateDictMismatchException>(() => StateDictMatch.Check(Model, sd));
        Assert.That(e!.Match!.Missing.Select(m => m.Name), Is.EqualTo(new[] { "bn.weight", "bn.running_var", "fc.weight" }));
        Assert.That(e.Message, Does.StartWith("the checkpoint does not match the model: 3 missing, 0 unexpected, 0 with the wrong shape; 1 of 4"));
    }

    [Test]
    public void Long_lists_are_cut_with_a_count()
    {
        var sd = Checkpoint(Enumerable.Range(0, 30).Select(i => ($"extra.{i}", new[] { 1 })).ToArray());
        string report = StateDictMatch.Compare([], sd).Report;
        Assert.That(report.Split('\n'), Has.Length.EqualTo(1 + StateDictMatch.ListedPerCategory + 1));
        Assert.That(report, Does.EndWith("  unexpected   ... and 5 more"));
    }

    [Test]
    public void A_model_listing_a_name_twice_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => StateDictMatch.Compare([new("a", [1]), new("a", [1])], new StateDict()));
    }

    [Test]
    public void The_pytorch_tiny_checkpoint_matches_its_own_spec()
    {
        // The names and shapes PyTorch gave (expected.json) against what the loader read.
        var spec = Expected("tiny").Select(e => new TensorSpec(e.Name, e.Tensor.Shape)).ToList();
        Assert.That(StateDictMatch.Check(spec, TorchCheckpoint.Load(PathOf("tiny_nested_module_zip.pth"))).IsExact);
    }
}
