using Learn.IO;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Tests.Golden;

/// <summary>Reading the manifest: malformed manifests and cases fail with one line naming the file.</summary>
public class FixtureSuiteTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "learn-fixtures-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(_dir, "fixtures", "c"));
    }

    [TearDown]
    public void DeleteDirectory() => Directory.Delete(_dir, recursive: true);

    private string ManifestPath => Path.Combine(_dir, "manifest.json");

    private static string Manifest(string cases, int format = 1) =>
        $$"""
        {"format": {{format}}, "torch_version": "1.13.0a0", "numpy_version": "1.24.2", "seed": 7, "threads": 1,
         "compute_dtype": "float64", "cases": [{{cases}}]}
        """;

    private static string Case(string op = "relu", string args = "{}", string inputs = """{"input": "fixtures/c/input.npy"}""",
        string expected = "fixtures/c/expected.npy", string shape = "[2, 3]", int k = 1, string name = "c") =>
        $$"""
        {"name": "{{name}}", "op": "{{op}}", "args": {{args}}, "inputs": {{inputs}}, "expected": "{{expected}}",
         "expected_shape": {{shape}}, "reduction_length": {{k}}}
        """;

    private void WriteTensors(float[]? expected = null)
    {
        Npy.Write(Path.Combine(_dir, "fixtures", "c", "input.npy"), new Tensor([2, 3], [-1, 2, -3, 4, -5, 6]));
        Npy.Write(Path.Combine(_dir, "fixtures", "c", "expected.npy"), new Tensor([2, 3], expected ?? [0, 2, 0, 4, 0, 6]));
    }

    private string LoadError(string manifest)
    {
        File.WriteAllText(ManifestPath, manifest);
        var e = Assert.Throws<InvalidDataException>(() => FixtureSuite.Load(_dir))!;
        Assert.That(e.Message, Does.StartWith(ManifestPath).And.Not.Contain('\n'));
        return e.Message;
    }

    private string RunError(string manifest)
    {
        File.WriteAllText(ManifestPath, manifest);
        FixtureSuite suite = FixtureSuite.Load(_dir);
        var e = Assert.Throws<InvalidDataException>(() => suite.Cases[0].Run())!;
        Assert.That(e.Message, Does.Not.Contain('\n'));
        return e.Message;
    }

    [Test]
    public void A_good_case_loads_runs_and_can_fail()
    {
        WriteTensors();
        File.WriteAllText(ManifestPath, Manifest(Case()));
        FixtureSuite suite = FixtureSuite.Load(_dir);
        Assert.That(suite.TorchVersion, Is.EqualTo("1.13.0a0"));
        Assert.That(suite.Cases.Single().Name, Is.EqualTo("c"));
        Assert.That(suite.Cases[0].Run().Close, Is.True);

        WriteTensors(expected: [0, 2, 0, 4, 0, 6.001f]); // one value off by 1e-3 >> 4*2^-24
        Comparison wrong = suite.Cases[0].Run();
        Assert.That(wrong.Close, Is.False);
        Assert.That(wrong.Describe(), Does.Contain("NOT close").And.Contain("(1, 2)"));
    }

    [Test]
    public void Missing_manifest() =>
        Assert.That(Assert.Throws<InvalidDataException>(() => FixtureSuite.Load(_dir))!.Message,
            Does.StartWith(ManifestPath).And.Contain("cannot read"));

    [Test]
    public void Invalid_json() => Assert.That(LoadError("{\"format\": 1, "), Does.Contain("not valid JSON"));

    [Test]
    public void Top_level_not_an_object() => Assert.That(LoadError("[1, 2]"), Does.Contain("JSON object"));

    [Test]
    public void Unknown_format() => Assert.That(LoadError(Manifest(Case(), format: 2)), Does.Contain("format 2").And.Contain("re-run"));

    [Test]
    public void Missing_cases() => Assert.That(LoadError("""{"format": 1}"""), Does.Contain("'cases'"));

    [Test]
    public void Duplicate_case() => Assert.That(LoadError(Manifest(Case() + "," + Case())), Does.Contain("'c' appears twice"));

    [Test]
    public void Case_without_op() =>
        Assert.That(LoadError(Manifest("""{"name": "c", "args": {}}""")), Does.Contain("case 'c'").And.Contain("'op'"));

    [Test]
    public void Reduction_length_below_one() =>
        Assert.That(LoadError(Manifest(Case(k: 0))), Does.Contain("reduction_length"));

    [Test]
    public void File_outside_the_directory() =>
        Assert.That(LoadError(Manifest(Case(expected: "../../etc/passwd"))), Does.Contain("not inside"));

    [Test]
    public void Unknown_op()
    {
        WriteTensors();
        Assert.That(RunError(Manifest(Case(op: "gelu"))), Does.Contain("case 'c'").And.Contain("unknown op 'gelu'"));
    }

    [Test]
    public void Missing_tensor_file()
    {
        Assert.That(RunError(Manifest(Case())), Does.Contain("input.npy"));
    }

    [Test]
    public void Expected_shape_disagreeing_with_the_file()
    {
        WriteTensors();
        Assert.That(RunError(Manifest(Case(shape: "[3, 2]"))), Does.Contain("expected.npy").And.Contain("[3, 2]"));
    }

    [Test]
    public void Missing_argument()
    {
        WriteTensors();
        Assert.That(RunError(Manifest(Case(op: "cat", inputs: """{"input0": "fixtures/c/input.npy"}"""))),
            Does.Contain("case 'c'").And.Contain("'dim'"));
    }

    [Test]
    public void Bias_flag_disagreeing_with_the_files()
    {
        WriteTensors();
        string args = """{"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "padding_mode": "zeros", "bias": true}""";
        string inputs = """{"input": "fixtures/c/input.npy", "weight": "fixtures/c/input.npy"}""";
        Assert.That(RunError(Manifest(Case(op: "conv1d", args: args, inputs: inputs))), Does.Contain("bias=true").And.Contain("missing"));
    }

    [Test]
    public void Bad_padding_mode()
    {
        WriteTensors();
        string args = """{"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "padding_mode": "mirror", "bias": false}""";
        string inputs = """{"input": "fixtures/c/input.npy", "weight": "fixtures/c/input.npy"}""";
        Assert.That(RunError(Manifest(Case(op: "conv1d", args: args, inputs: inputs))), Does.Contain("case 'c'").And.Contain("'mirror'"));
    }

    [Test]
    public void Default_directory_is_the_repository_fixtures()
    {
        string? dir = FixtureSuite.FindDefaultDirectory();
        Assert.That(dir, Is.Not.Null);
        Assert.That(Path.GetFileName(dir), Is.EqualTo("reference-weights"));
        Assert.That(File.Exists(Path.Combine(dir!, "export_fixtures.py")), Is.True);
    }
}
