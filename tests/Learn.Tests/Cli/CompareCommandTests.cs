using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary><c>learn compare</c>: verdict, exit code, the worst elements named by index, shape mismatches.</summary>
[TestFixture]
public sealed class CompareCommandTests : CliTestBase
{
    [Test]
    public void Identical_tensors_are_close()
    {
        Tensor a = Tensor.Random(1, 2, 3, 4);
        CliResult r = Run("compare", Save("a.npy", a), Save("b.npy", a));
        Assert.That(r.Code, Is.Zero, r.Out + r.Err);
        Assert.That(r.Err, Is.Empty);
        Assert.That(r.Out, Does.StartWith($"close: {P("a.npy")} vs {P("b.npy")}, shape [2, 3, 4], 24 elements"));
        Assert.That(r.Out, Does.Contain("max abs error 0: identical"));
        Assert.That(r.Out, Does.Contain("tolerance |a - b| <= 1e-05 + 0.0001*|b|: 0 of 24 outside"));
    }

    [Test]
    public void Difference_within_default_tolerance_is_close_and_reports_where()
    {
        // Exact binary values: |a - b| = 0.0625 <= 1e-5 + 1e-4*1000.
        var b = new Tensor([2, 3], [1, 2, 3, 4, 1000, 6]);
        var a = new Tensor([2, 3], [1, 2, 3, 4, 1000.0625f, 6]);
        CliResult r = Run("compare", Save("a.npy", a), Save("b.npy", b));
        Assert.That(r.Code, Is.Zero, r.Out);
        Assert.That(r.Out, Does.Contain("max abs error 0.0625 at (1, 1): a = 1000.0625, b = 1000"));
        Assert.That(r.Out, Does.Contain("max rel error 6.25e-05 at (1, 1)"));
    }

    [Test]
    public void Not_close_exits_1_and_names_the_worst_and_the_failing_elements()
    {
        var b = new Tensor([2, 2, 2], [1, 1, 1, 1, 1, 0.001f, 1, 1]);
        var a = new Tensor([2, 2, 2], [1, 1, 1.01f, 1, 1, 0.002f, 1, 1.5f]);
        CliResult r = Run("compare", Save("a.npy", a), Save("b.npy", b));
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Err, Is.Empty, "a verdict, not an error");
        Assert.That(r.Out, Does.StartWith("NOT close:"));
        Assert.That(r.Out, Does.Contain("max abs error 0.5 at (1, 1, 1): a = 1.5, b = 1"));
        Assert.That(r.Out, Does.Contain("max rel error 1 at (1, 0, 1): a = 0.00200000009, b = 0.00100000005"), "the relative worst is another element");
        Assert.That(r.Out, Does.Contain(": 3 of 8 outside"));
        Assert.That(r.Out, Does.Contain("  at (0, 1, 0): a = 1.00999999, b = 1"));
    }

    [Test]
    public void Tolerances_are_options()
    {
        string a = Save("a.npy", new Tensor([2], [1, 2])), b = Save("b.npy", new Tensor([2], [1, 2.1f]));
        Assert.That(Run("compare", a, b).Code, Is.EqualTo(1));
        Assert.That(Run("compare", a, b, "--atol", "0.2").Code, Is.Zero);
        Assert.That(Run("compare", a, b, "--rtol=0.05").Code, Is.Zero);
        Assert.That(Run("compare", a, b, "--atol", "0", "--rtol", "0.01").Code, Is.EqualTo(1));
    }

    [Test]
    public void Shape_mismatch_is_not_close_and_shows_both_shapes()
    {
        CliResult r = Run("compare", Save("a.npy", Tensor.Random(1, 2, 3)), Save("b.npy", Tensor.Random(1, 3, 2)));
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Out.Trim(), Is.EqualTo($"NOT close: shape mismatch: {P("a.npy")} is [2, 3], {P("b.npy")} is [3, 2]"));
    }

    [Test]
    public void NaN_is_never_close()
    {
        CliResult r = Run("compare", Save("a.npy", new Tensor([2], [1, float.NaN])), Save("b.npy", new Tensor([2], [1, 2])));
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Out, Does.Contain("at (1): a = NaN, b = 2"));
    }

    [Test]
    public void Empty_tensors_of_equal_shape_are_close()
    {
        CliResult r = Run("compare", Save("a.npy", Tensor.Zeros(0, 3)), Save("b.npy", Tensor.Zeros(0, 3)));
        Assert.That(r.Code, Is.Zero);
        Assert.That(r.Out, Does.Contain("0 of 0 outside"));
    }

    [TestCase("--atol", "-1", "learn: --atol: must be a finite number >= 0, got '-1'")]
    [TestCase("--rtol", "nan", "learn: --rtol: must be a finite number >= 0, got 'nan'")]
    [TestCase("--rtol", "1e-4x", "learn: --rtol: must be a finite number >= 0")]
    [TestCase("--tol", "1", "learn: --tol: unknown option (learn compare --help lists the options)")]
    public void Bad_tolerance_is_a_usage_error(string option, string value, string message)
    {
        Tensor t = Tensor.Random(1, 3);
        AssertOneLineError(Run("compare", Save("a.npy", t), Save("b.npy", t), option, value), 2, message);
    }

    [Test]
    public void Missing_and_extra_arguments_are_usage_errors()
    {
        string a = Save("a.npy", Tensor.Random(1, 3));
        AssertOneLineError(Run("compare", a), 2, "learn: B.npy: missing argument");
        AssertOneLineError(Run("compare"), 2, "learn: A.npy: missing argument");
        AssertOneLineError(Run("compare", a, a, "c.npy"), 2, "learn: c.npy: unexpected argument");
    }

    [Test]
    public void Unreadable_files_are_data_failures_naming_the_file()
    {
        string a = Save("a.npy", Tensor.Random(1, 3));
        File.WriteAllText(P("text.npy"), "1 2 3");
        AssertOneLineError(Run("compare", a, P("absent.npy")), 1, $"learn: {P("absent.npy")}: no such file");
        AssertOneLineError(Run("compare", P("text.npy"), a), 1, $"learn: {P("text.npy")}: not an .npy file");
    }

    [Test]
    public void Reads_float64_files_as_the_expected_side()
    {
        // NumPy-made float64 of 0.1 etc. against its float32 rounding: identical after conversion.
        string f8 = Path.Combine(Learn.Tests.IO.NpyTests.DataFolder, "f8_2x2.npy");
        string f4 = Save("f4.npy", new Tensor([2, 2], [(float)0.1, -2.5f, (float)1e-3, (float)Math.PI]));
        CliResult r = Run("compare", f4, f8, "--atol", "0", "--rtol", "0");
        Assert.That(r.Code, Is.Zero, r.Out);
    }
}
