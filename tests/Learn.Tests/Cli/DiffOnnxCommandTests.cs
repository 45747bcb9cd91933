using System.Text.Json;
using Learn.Tests.Models;

namespace Learn.Tests.Cli;

/// <summary>
/// <c>learn diff-onnx</c> as a command on real torch.onnx exports of x0_25 (reference-weights/port-catalogue/export_onnx.py,
/// BatchNorm folded by the exporter): the correct export passes at batch 1 and 2; a bugged export is named at the
/// layer its manifest gives (at the fused boundary where the exporter folded the BatchNorm) in the JSON, the table
/// and the HTML page; an export with the batch size baked into a Reshape passes batch 1 and fails batch 2 naming the
/// Reshape; bad input is one line and exit 1. Every case of the catalogue is run by OnnxPortCatalogueTests.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.All)]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class DiffOnnxCommandTests : CliTestBase
{
    private static string Catalogue => Path.Combine(Path.GetDirectoryName(OSNetFixtures.Root)!, "port-catalogue");

    private static string Onnx(string name) => Path.Combine(Catalogue, "onnx", name + ".onnx");

    private static string Weights => Path.Combine(OSNetFixtures.Root, "osnet_x0_25.pth");

    private static string Input => Path.Combine(Catalogue, "input.npy");

    private static JsonElement Case(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Catalogue, "onnx", "manifest.json"))).RootElement.GetProperty("cases").GetProperty(name);

    private static CliResult DiffOnnx(string onnx, params string[] more) =>
        Run(["diff-onnx", onnx, "--weights", Weights, "--variant", "osnet_x0_25", "--input", Input, .. more]);

    [Test]
    public void The_correct_export_passes_at_batch_1_and_2_with_cosine_1()
    {
        CliResult r = DiffOnnx(Onnx("x0_25_eager_float32"), "--json");
        Assert.That((r.Code, r.Err), Is.EqualTo((0, "")), r.Out);
        JsonElement report = JsonDocument.Parse(r.Out).RootElement;
        Assert.That(report.GetProperty("passed").GetBoolean(), Is.True);
        Assert.That(report.GetProperty("fused_at_boundary").GetArrayLength(), Is.EqualTo(79), "every conv + BatchNorm pair is folded by the exporter");
        JsonElement[] batches = [.. report.GetProperty("batches").EnumerateArray()];
        Assert.That(batches.Select(b => b.GetProperty("batch").GetInt32()), Is.EqualTo(new[] { 1, 2 }));
        foreach (JsonElement b in batches)
        {
            Assert.That(b.GetProperty("first_diverging").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(b.GetProperty("first_introduced").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(b.GetProperty("compared").GetInt32(), Is.GreaterThan(300));
            // float32 rounding only: 1 - cos is a few u (2^-24 = 6e-8) at most.
            Assert.That(b.GetProperty("cosine").EnumerateArray().Select(c => c.GetDouble()), Has.All.GreaterThan(1 - 1e-6));
        }
    }

    [TestCase("x0_25_bn_eps_stem")]
    public void A_bugged_export_is_named_at_its_layer_at_batch_1_and_2(string name)
    {
        string expected = Case(name).GetProperty("expected_layer").GetString()!;
        CliResult r = DiffOnnx(Onnx(name), "--json");
        Assert.That((r.Code, r.Err), Is.EqualTo((1, "")), r.Out);
        JsonElement report = JsonDocument.Parse(r.Out).RootElement;
        Assert.That(report.GetProperty("passed").GetBoolean(), Is.False);
        JsonElement[] batches = [.. report.GetProperty("batches").EnumerateArray()];
        Assert.That(batches, Has.Length.EqualTo(2));
        foreach (JsonElement b in batches)
        {
            Assert.That(b.GetProperty("first_diverging").GetString(), Is.EqualTo(expected), "with error propagation, batch " + b.GetProperty("batch"));
            Assert.That(b.GetProperty("first_introduced").GetString(), Is.EqualTo(expected), "without error propagation, batch " + b.GetProperty("batch"));
        }
    }

    [Test]
    public void The_text_report_names_the_fused_boundary_and_the_first_divergence()
    {
        CliResult r = DiffOnnx(Onnx("x0_25_bn_eps_stem"));
        Assert.That((r.Code, r.Err), Is.EqualTo((1, "")), r.Out);
        Assert.That(r.Out, Does.Contain("\nlayer ").And.Contain(" err/tol "), "the per-layer table, as learn diff's");
        Assert.That(r.Out, Does.Match(@"\nconv1\.bn +\[1, 16, 32, 16\] .* INTRODUCES ERROR\n"), "batch 1's row of the bugged layer");
        Assert.That(r.Out, Does.Match(@"\nconv1\.bn +\[2, 16, 32, 16\] .* INTRODUCES ERROR\n"), "batch 2's row");
        Assert.That(r.Out, Does.Not.Match(@"\nconv1\.conv +\["), "the folded conv is not a row of its own");
        Assert.That(r.Out, Does.Contain("BatchNorms folded into their conv, compared at the fused boundary"));
        Assert.That(r.Out, Does.Contain("conv1.conv + conv1.bn"));
        Assert.That(r.Out, Does.Contain("batch 1: with error propagation: ").And.Contain("the first is conv1.bn: "));
        Assert.That(r.Out, Does.Contain("batch 2: without error propagation: the error is introduced at conv1.bn "));
        Assert.That(r.Out, Does.Contain("batch 2: cosine similarity of the final embeddings: "));
    }

    [Test]
    public void An_export_with_the_batch_baked_into_a_reshape_passes_batch_1_and_fails_batch_2()
    {
        Assert.That(Case("x0_25_baked_batch").GetProperty("batch2_fails").GetBoolean(), Is.True);
        CliResult r = DiffOnnx(Onnx("x0_25_baked_batch"), "--json");
        Assert.That((r.Code, r.Err), Is.EqualTo((1, "")), r.Out);
        JsonElement[] batches = [.. JsonDocument.Parse(r.Out).RootElement.GetProperty("batches").EnumerateArray()];
        Assert.That(batches[0].GetProperty("failure").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(batches[0].GetProperty("first_diverging").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(batches[1].GetProperty("failure").GetString(), Does.Contain("fails at batch 2").And.Contain("batch size is baked in: /Reshape"));
    }

    [Test]
    public void A_file_that_is_not_onnx_is_one_line()
    {
        CliResult r = DiffOnnx(Input);
        AssertOneLineError(r, 1, "learn: ", Input, "not an ONNX model");
    }

    [Test]
    public void An_export_of_another_network_lists_the_unmapped_nodes()
    {
        CliResult r = DiffOnnx(Onnx("not_osnet"));
        AssertOneLineError(r, 1, "learn: ", "not_osnet.onnx", "not an OSNet export of osnet_x0_25: no node's scope names one of its modules (first nodes: /0/Conv, /1/Relu");
    }

    [Test]
    public void A_node_whose_scope_names_no_module_is_listed_not_guessed()
    {
        CliResult r = DiffOnnx(Onnx("renamed_node"));
        AssertOneLineError(r, 1, "learn: ", "renamed_node.onnx", "1 node whose scope names no module of osnet_x0_25, not mapped: /conv2/conv2.0/conv1x/conv/Conv");
    }

    [Test]
    public void A_checkpoint_of_another_variant_is_one_line()
    {
        CliResult r = Run("diff-onnx", Onnx("x0_25_eager_float32"), "--weights", Weights, "--variant", "osnet_x0_5", "--input", Input);
        AssertOneLineError(r, 1, "learn: ", Weights, "not a checkpoint of osnet_x0_5");
    }

    [Test]
    public void The_html_page_charts_each_batch_and_highlights_the_first_divergence()
    {
        string page = P("report.html");
        CliResult r = DiffOnnx(Onnx("x0_25_hard_sigmoid"), "--html", page);
        Assert.That((r.Code, r.Err), Is.EqualTo((1, "")), r.Out);
        string html = File.ReadAllText(page);
        Assert.That(html, Does.Contain("<h1>learn diff-onnx</h1>"));
        Assert.That(html, Does.Contain("<h2>batch 1</h2>").And.Contain("<h2>batch 2</h2>"));
        Assert.That(html, Does.Contain("Plotly.newPlot('chart'").And.Contain("Plotly.newPlot('chart2'"), "one chart per batch");
        Assert.That(html, Does.Contain("plotly.js v").And.Not.Contain("<script src="), "plotly.js is inlined: the page draws offline");
        Assert.That(html, Does.Contain("<tr class=\"first\"><td>conv3.1.gate.gate_activation</td>"));
        Assert.That(html, Does.Contain("compared at the fused boundary"));
    }

    [Test]
    public void A_dropped_op_is_named_as_absent()
    {
        CliResult r = DiffOnnx(Onnx("x0_25_missing_relu"), "--json");
        Assert.That((r.Code, r.Err), Is.EqualTo((1, "")), r.Out);
        JsonElement report = JsonDocument.Parse(r.Out).RootElement;
        Assert.That(report.GetProperty("absent").EnumerateArray().Select(a => a.GetString()), Is.EqualTo(new[] { Case("x0_25_missing_relu").GetProperty("expected_layer").GetString() }));
    }

    [Test]
    public void An_export_without_scope_names_is_one_line()
    {
        CliResult r = DiffOnnx(Onnx("unscoped"));
        AssertOneLineError(r, 1, "learn: ", "unscoped.onnx", "its nodes carry no module scope (names like Conv_0, Relu_1: torch.onnx before 1.13, or renamed)");
    }

    [Test]
    public void Images_of_another_size_than_the_export_is_one_line()
    {
        string other = Save("other.npy", new Learn.Tensors.Tensor([1, 3, 32, 32], new float[3 * 32 * 32]));
        CliResult r = Run("diff-onnx", Onnx("x0_25_eager_float32"), "--weights", Weights, "--variant", "osnet_x0_25", "--input", other);
        AssertOneLineError(r, 1, "learn: ", other, "shape [1, 3, 32, 32], the export ");
        Assert.That(r.Err, Does.Contain("expects images [N, 3, 64, 32]"));
    }
}
