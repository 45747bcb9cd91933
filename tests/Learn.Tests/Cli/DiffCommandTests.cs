using System.Text.Json;
using Learn.IO;
using Learn.Layers;
using Learn.Tensors;
using Learn.Tests.Models;
using Learn.Verification;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn diff</c> on real dumps of x0_25 (<c>learn osnet --activations</c>: the reference loops as the reference,
/// the fast path as a correct port): a correct port passes; an injected divergence is named where it starts, with
/// and without error propagation; missing layers are stated once; bad input is one line and exit 1.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class DiffCommandTests : CliTestBase
{
    private const string Perturbed = "conv2.1.conv2b.0.conv2";

    private static string Weights => Path.Combine(OSNetFixtures.Root, "osnet_x0_25.pth");

    // The reference dump, and a second dump of the same run (a port identical to it) or of the fast path.
    private (string Port, string Ref) TwoDumps(string impl = "naive")
    {
        string x = Save("x.npy", OSNetFixtureWeights.Input(5, "diff/input", [1, 3, 64, 32]));
        foreach ((string dump, string how) in new[] { ("ref", "naive"), ("port", impl) })
        {
            CliResult r = Run("osnet", "--variant", "osnet_x0_25", "--weights", Weights, "--input", x, "--output", P(dump + ".npy"), "--activations", P(dump), "--impl", how);
            Assert.That((r.Code, r.Err), Is.EqualTo((0, "")));
        }

        return (P("port"), P("ref"));
    }

    private static string[] WithWeights(params string[] args) => [.. args, "--weights", Weights, "--variant", "osnet_x0_25"];

    private static List<string> Order(string dump) => ActivationDirectory.ReadIndex(dump)!.Select(e => e.Key).ToList();

    private static void Perturb(string dump, string key, float delta)
    {
        string file = Path.Combine(dump, key + ".npy");
        Tensor t = Npy.Read(file);
        t.Data[t.Length / 2] += delta;
        Npy.Write(file, t);
    }

    private static string[] Rows(CliResult r) =>
        r.Out.Split('\n').Where(l => l.EndsWith("  ok", StringComparison.Ordinal) || l.EndsWith("DIVERGES", StringComparison.Ordinal) || l.EndsWith("INTRODUCES ERROR", StringComparison.Ordinal)).ToArray();

    [Test]
    public void The_fast_path_is_a_correct_port_with_and_without_error_propagation()
    {
        (string port, string reference) = TwoDumps("fast");
        CliResult r = Run(WithWeights("diff", port, reference));
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")), r.Out);
        // The fast path's plan does not materialise the inner layers of its fused groups (conv1.conv, conv1.bn ...):
        // every layer its dump has is compared, and the rest are stated once.
        int dumped = Directory.GetFiles(port, "*.npy").Length, expected = Directory.GetFiles(reference, "*.npy").Length;
        Assert.That(dumped, Is.LessThan(expected), "the plan leaves fused inner layers out");
        Assert.That(r.Out, Does.Contain($"with error propagation: all {dumped} compared layers are within tolerance"));
        Assert.That(r.Out, Does.Contain("without error propagation: all "));
        Assert.That(Rows(r), Has.Length.EqualTo(dumped), "only the compared layers are listed");
        Assert.That(r.Out, Does.Contain($"not in the port's dump, not compared: {expected - dumped} layers (conv1.conv ... "));
        Assert.That(r.Out, Does.Not.Contain("only in"));
    }

    [Test]
    public void Divergence_injected_at_one_layer_and_carried_to_every_later_one_is_named_at_its_start()
    {
        (string port, string reference) = TwoDumps();
        List<string> order = Order(reference);
        int start = order.IndexOf(Perturbed);
        Assert.That(start, Is.GreaterThan(100), "a layer in the middle");
        foreach (string key in order.Skip(start))
        {
            Perturb(port, key, 1e-3f);
        }

        CliResult r = Run(WithWeights("diff", port, reference));
        Assert.That(r.Code, Is.EqualTo(1), r.Out);
        Assert.That(r.Err, Is.Empty, "a verdict, not an error");
        Assert.That(r.Out, Does.Contain($"with error propagation: {order.Count - start} of 549 layers diverge; the first is {Perturbed}: 1 of "));
        Assert.That(r.Out, Does.Contain($"without error propagation: the error is introduced at {Perturbed} (Conv2d on {Perturbed[..^".conv2".Length]}.conv1 (own rounding)): 1 of "));
        string[] rows = Rows(r);
        Assert.That(rows, Has.Length.EqualTo(549));
        Assert.That(rows.TakeWhile(l => !l.StartsWith(Perturbed + " ", StringComparison.Ordinal)).All(l => l.EndsWith("  ok", StringComparison.Ordinal)), "every layer before it is close");
    }

    [Test]
    public void A_single_value_off_by_1e_3_in_a_deep_layer_is_named()
    {
        (string port, string reference) = TwoDumps();
        Perturb(port, "conv4.0.conv2c.1.bn", 1e-3f);
        CliResult r = Run("diff", port, reference);
        Assert.That(r.Code, Is.EqualTo(1), r.Out);
        Assert.That(r.Out, Does.Contain("the first is conv4.0.conv2c.1.bn: 1 of 256 outside; worst at (0, 16, 0, 0): port = -0.147864476, expected = -0.148864478"));
    }

    [Test]
    public void Layers_run_in_PyTorchs_order_conv3_before_downsample()
    {
        (string port, string reference) = TwoDumps();
        string[] keys = Rows(Run("diff", port, reference)).Select(l => l.Split(' ')[0]).ToArray();
        Assert.That(Array.IndexOf(keys, "conv2.0.conv3"), Is.LessThan(Array.IndexOf(keys, "conv2.0.downsample")));
        Assert.That(Array.IndexOf(keys, "conv2.0.conv3.bn"), Is.LessThan(Array.IndexOf(keys, "conv2.0.downsample.conv")));
        Assert.That(keys[0], Is.EqualTo("input"));
    }

    [Test]
    public void Missing_layers_are_stated_once()
    {
        (string port, string reference) = TwoDumps();
        foreach (string file in Directory.EnumerateFiles(port, "*.npy").Where(f => !Path.GetFileName(f).StartsWith("conv5", StringComparison.Ordinal)))
        {
            File.Delete(file);
        }

        CliResult r = Run("diff", port, reference);
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")), r.Out);
        Assert.That(Rows(r), Has.Length.EqualTo(4), "conv5.conv, .bn, .relu, conv5 and nothing else");
        Assert.That(r.Out, Does.Contain("not in the port's dump, not compared: 545 layers (input ... fc)\n"));
    }

    [Test]
    public void Json_report_for_ci()
    {
        (string port, string reference) = TwoDumps();
        Perturb(port, "conv3.1.gate@2", 0.01f);
        CliResult r = Run(WithWeights("diff", port, reference, "--json"));
        Assert.That(r.Code, Is.EqualTo(1));
        using JsonDocument json = JsonDocument.Parse(r.Out);
        JsonElement root = json.RootElement;
        Assert.That(root.GetProperty("passed").GetBoolean(), Is.False);
        Assert.That(root.GetProperty("first_divergence").GetString(), Is.EqualTo("conv3.1.gate@2"));
        Assert.That(root.GetProperty("first_introduced").GetString(), Is.EqualTo("conv3.1.gate@2"));
        JsonElement layer = root.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("key").GetString() == "conv3.1.gate@2");
        Assert.That(layer.GetProperty("propagated").GetProperty("ratio").GetDouble(), Is.GreaterThan(1));
        Assert.That(layer.GetProperty("isolated").GetProperty("close").GetBoolean(), Is.False);
    }

    [Test]
    public void Html_report_has_the_chart_offline_and_the_first_divergence_highlighted()
    {
        (string port, string reference) = TwoDumps();
        Perturb(port, "conv3.1.gate@2", 0.01f);
        CliResult r = Run(WithWeights("diff", port, reference, "--html", P("report.html")));
        Assert.That(r.Code, Is.EqualTo(1));
        string page = File.ReadAllText(P("report.html"));
        Assert.That(page, Does.Contain("Plotly.newPlot('chart'"));
        Assert.That(page, Does.Contain("plotly.js v"), "plotly.js is inlined: the page draws offline");
        Assert.That(page, Does.Not.Contain("<script src="));
        Assert.That(page, Does.Contain("<tr class=\"first\"><td>conv3.1.gate@2</td>"));
    }

    [Test]
    public void Fixed_tolerances_replace_the_propagated_rule()
    {
        (string port, string reference) = TwoDumps();
        Perturb(port, "conv1.conv", 0.001f);
        Assert.That(Run("diff", port, reference).Code, Is.EqualTo(1));
        CliResult loose = Run("diff", port, reference, "--atol", "0.01");
        Assert.That(loose.Code, Is.Zero, loose.Out);
        Assert.That(loose.Out, Does.Contain("|a - e| <= 1.00e-02 + 0.00e+00*|e| for every layer (--atol/--rtol)"));
    }

    [Test]
    public void Bad_dumps_are_one_line_and_exit_1()
    {
        (string port, string reference) = TwoDumps();
        Npy.Write(Path.Combine(port, "conv1.conv.npy"), Tensor.Zeros(1, 16, 32, 15));
        AssertOneLineError(Run("diff", port, reference), 1, $"learn: {Path.Combine(port, "conv1.conv.npy")}: shape [1, 16, 32, 15], the reference's conv1.conv is [1, 16, 32, 16]");
        File.Delete(Path.Combine(port, "conv1.conv.npy"));

        Tensor t = Npy.Read(Path.Combine(port, "conv2.0.gate.npy"));
        t.Data[7] = float.NaN;
        Npy.Write(Path.Combine(port, "conv2.0.gate.npy"), t);
        AssertOneLineError(Run("diff", port, reference), 1, $"learn: {Path.Combine(port, "conv2.0.gate.npy")}: 1 NaN or infinite values");
        File.Delete(Path.Combine(port, "conv2.0.gate.npy"));

        Npy.Write(Path.Combine(port, "conv2.0.conv4.npy"), Tensor.Zeros(1));
        AssertOneLineError(Run("diff", port, reference), 1, $"learn: {Path.Combine(port, "conv2.0.conv4.npy")}: the reference dump {reference} has no layer 'conv2.0.conv4'");
        File.Delete(Path.Combine(port, "conv2.0.conv4.npy"));

        AssertOneLineError(Run("diff", port, reference, "--weights", Weights, "--variant", "osnet_x1_0"), 1,
            $"learn: {Weights}: not a checkpoint of osnet_x1_0: ");
        AssertOneLineError(Run("diff", port, reference, "--weights", Path.Combine(OSNetFixtures.Root, "osnet_x0_5_fp16.pth"), "--variant", "osnet_x0_5"), 1,
            $"learn: {reference}: layer 'conv1.conv' has 16 channels, the checkpoint's has 32 (a dump of another variant?)");
        Npy.Write(Path.Combine(reference, "conv1.bn.npy"), Tensor.Zeros(1, 16, 32, 15));
        AssertOneLineError(Run("diff", port, reference), 1, $"learn: {Path.Combine(reference, "conv1.bn.npy")}: shape [1, 16, 32, 15], its index activations.json says [1, 16, 32, 16]");
        AssertOneLineError(Run("diff", port, reference, "--weights", Weights), 2, "learn: --weights: --weights and --variant go together");
        foreach (string file in Directory.EnumerateFiles(port))
        {
            File.Delete(file);
        }

        AssertOneLineError(Run("diff", port, reference), 1, $"learn: {port}: no .npy file of a layer the reference dumped");
        Assert.That(File.Exists(P("report.html")), Is.False);
    }

    [Test]
    public void Errors_are_one_line()
    {
        Directory.CreateDirectory(P("x"));
        Directory.CreateDirectory(P("y"));
        Npy.Write(P("x/conv1.npy"), Tensor.Zeros(1));
        AssertOneLineError(Run("diff", P("x"), P("absent")), 1, $"learn: {P("absent")}: no such folder");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, $"learn: {P("y")}: no activations.json");
        File.WriteAllText(P("y/activations.json"), "{\"format\": \"something else\"}");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, $"learn: {Path.Combine(P("y"), "activations.json")}: not an activation index");
        File.WriteAllText(P("y/activations.json"), "{\"format\": \"learn-activations\", \"layers\": [{\"key\": \"../../etc/passwd\", \"shape\": [1]}]}");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, $"learn: {Path.Combine(P("y"), "activations.json")}: layer key '../../etc/passwd' is empty, repeated or a path");
        File.WriteAllText(P("y/activations.json"), "{\"format\": \"learn-activations\", \"layers\": [{\"key\": \"conv1\", \"shape\": [1], \"noise\": -1}]}");
        AssertOneLineError(Run("diff", P("x"), P("y")), 1, $"learn: {Path.Combine(P("y"), "activations.json")}: layer 'conv1' has noise -1");
        AssertOneLineError(Run("diff", P("x")), 2, "learn: REF_DIR: missing argument");
    }
}
