using Learn.IO;
using Learn.Layers;
using Learn.Tensors;
using Learn.Tests.Models;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn diff</c> on real dumps of x0_25 (two independent <c>learn osnet --activations</c> runs): identical dumps
/// pass; an injected divergence is named at the layer where it starts; missing and extra files are listed.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class DiffCommandTests : CliTestBase
{
    private const string Perturbed = "conv2.1.conv2b.0.conv2";

    // Two dumps of the same run, made by two processes' worth of work (small images keep it quick).
    private (string A, string B) TwoDumps()
    {
        string x = Save("x.npy", FixtureWeights.Input(5, "diff/input", [1, 3, 64, 32]));
        string weights = Path.Combine(OSNetFixtures.Root, "osnet_x0_25.pth");
        foreach (string dump in new[] { "a", "b" })
        {
            CliResult r = Run("osnet", "--variant", "osnet_x0_25", "--weights", weights, "--input", x, "--output", P(dump + ".npy"), "--activations", P(dump));
            Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        }

        return (P("a"), P("b"));
    }

    private static List<string> Order(string dump) => ActivationDirectory.ReadIndex(dump)!.Select(e => e.Key).ToList();

    private static void Perturb(string dump, string key, float delta)
    {
        string file = Path.Combine(dump, key + ".npy");
        Tensor t = Npy.Read(file);
        t.Data[t.Length / 2] += delta;
        Npy.Write(file, t);
    }

    [Test]
    public void Identical_dumps_are_close_layer_by_layer()
    {
        (string a, string b) = TwoDumps();
        CliResult r = Run("diff", a, b);
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")), r.Out);
        Assert.That(r.Out, Does.Contain($"order: {Path.Combine(a, "activations.json")} (548 layers)"));
        Assert.That(r.Out, Does.Contain("atol = rtol = 4*2^-24*K per layer"));
        Assert.That(r.Out, Does.EndWith("all 548 layers in both folders are close\n"));
        Assert.That(r.Out.Split('\n').Count(l => l.EndsWith("  ok", StringComparison.Ordinal)), Is.EqualTo(548));
    }

    [Test]
    public void Divergence_injected_at_one_layer_and_carried_to_every_later_one_is_named_at_its_start()
    {
        (string a, string b) = TwoDumps();
        List<string> order = Order(a);
        int start = order.IndexOf(Perturbed);
        Assert.That(start, Is.GreaterThan(100), "a layer in the middle");
        foreach (string key in order.Skip(start))
        {
            Perturb(a, key, 0.1f);
        }

        CliResult r = Run("diff", a, b);
        Assert.That(r.Code, Is.EqualTo(1), r.Out);
        Assert.That(r.Err, Is.Empty, "a verdict, not an error");
        string[] lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[^1], Does.StartWith($"{order.Count - start} of 548 layers diverge; the first is {Perturbed}: 1 of "));
        string[] rows = lines.Where(l => order.Any(k => l.StartsWith(k + " ", StringComparison.Ordinal))).ToArray();
        Assert.That(rows, Has.Length.EqualTo(548));
        Assert.That(rows.Take(start).All(l => l.EndsWith("  ok", StringComparison.Ordinal)), "every layer before it is close");
        Assert.That(rows.Skip(start).All(l => l.Contains("DIVERGES", StringComparison.Ordinal)), "and every one from it on diverges");
        Assert.That(rows[start], Does.StartWith(Perturbed + " ").And.Contain("1.00e-01"), "its max abs error is the perturbation");
    }

    [Test]
    public void A_port_dump_without_an_index_takes_the_expected_dumps_order()
    {
        (string a, string b) = TwoDumps();
        File.Delete(Path.Combine(a, ActivationDirectory.IndexFileName));
        List<string> order = Order(b);
        Perturb(a, "conv3.0.conv2d.2.bn", 0.5f);
        Perturb(a, "conv4.1.gate@3", 0.5f);
        CliResult r = Run("diff", a, b);
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Out, Does.Contain($"order: {Path.Combine(b, "activations.json")}"));
        Assert.That(r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], Does.StartWith("2 of 548 layers diverge; the first is conv3.0.conv2d.2.bn: 1 of "));
        Assert.That(order.IndexOf("conv3.0.conv2d.2.bn"), Is.LessThan(order.IndexOf("conv4.1.gate@3")));
    }

    [Test]
    public void Missing_and_extra_files_are_listed_and_not_compared()
    {
        (string a, string b) = TwoDumps();
        File.Delete(Path.Combine(a, "conv5.bn.npy"));
        Npy.Write(Path.Combine(b, "my_extra.npy"), Tensor.Zeros(2));
        CliResult r = Run("diff", a, b);
        Assert.That(r.Code, Is.Zero, r.Out);
        Assert.That(r.Out, Does.Contain($"only in B ({b}), not compared: 2\n  conv5.bn\n  my_extra (not in the order)\n"));
        Assert.That(r.Out, Does.EndWith("all 547 layers in both folders are close\n"));
    }

    [Test]
    public void Shape_mismatch_diverges()
    {
        (string a, string b) = TwoDumps();
        Npy.Write(Path.Combine(a, "conv1.conv.npy"), Tensor.Zeros(1, 16, 32, 15));
        CliResult r = Run("diff", a, b);
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Out, Does.Contain("DIVERGES (shape [1, 16, 32, 15], expected [1, 16, 32, 16])"));
        Assert.That(r.Out, Does.Contain("the first is conv1.conv: shape [1, 16, 32, 15], expected [1, 16, 32, 16]"));
    }

    [Test]
    public void Fixed_tolerances_replace_the_rule_for_every_layer()
    {
        (string a, string b) = TwoDumps();
        Perturb(a, "conv1.conv", 0.001f);
        Assert.That(Run("diff", a, b).Code, Is.EqualTo(1), "the rule at conv1.conv's K = 147 is about 3.5e-5");
        CliResult loose = Run("diff", a, b, "--atol", "0.01");
        Assert.That(loose.Code, Is.Zero, loose.Out);
        Assert.That(loose.Out, Does.Contain("tolerance: |a - b| <= 1.00e-02 + 1.00e-03*|b| for every layer"));
    }

    [Test]
    public void Errors_are_one_line()
    {
        Directory.CreateDirectory(P("x"));
        Directory.CreateDirectory(P("y"));
        Npy.Write(P("x/conv1.npy"), Tensor.Zeros(1));
        AssertOneLineError(Run("diff", P("x"), P("absent")), 1, $"learn: {P("absent")}: no such folder");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, "learn diff: neither ", "has activations.json, so the order the layers ran is unknown");
        File.WriteAllText(P("y/activations.json"), "{\"format\": \"something else\"}");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, $"learn: {Path.Combine(P("y"), "activations.json")}: not an activation index");
        File.WriteAllText(P("y/activations.json"), "{\"format\": \"learn-activations\", \"layers\": [{\"key\": \"../../etc/passwd\", \"shape\": [1]}]}");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, $"learn: {Path.Combine(P("y"), "activations.json")}: layer key '../../etc/passwd' is empty, repeated or a path");
        AssertOneLineError(Run("diff", P("x")), 2, "learn: DIR_B: missing argument");
    }
}
