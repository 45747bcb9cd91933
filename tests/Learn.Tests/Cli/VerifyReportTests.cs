using Learn.Cli.CommandLine;
using Learn.Cli.Commands;
using Learn.Ops;
using Learn.Tensors;
using Learn.Verification;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>The table of <c>learn verify</c> on hand-made cases: rows, verdict line, exit code, failures kept going.</summary>
[TestFixture]
public sealed class VerifyReportTests
{
    private static readonly Tensor Expected = new([2, 2], [1, 2, 3, 4]);

    private static VerifyCase Case(string name, Tensor actual, long k = 9) =>
        new(name, "conv2d", k, _ => Comparison.Of(actual, Expected, Tolerance.ForReduction(k)));

    [Test]
    public void All_close_prints_a_row_each_and_exits_0()
    {
        var output = new StringWriter { NewLine = "\n" };
        int code = VerifyReport.Write(output, "reference-weights", "1.13.0", [Case("a_case", Expected), Case("b", new Tensor([2, 2], [1, 2, 3, 4.000001f]), 36)] /* 4.000001f is 4 + 2 ulp = 4 + 9.54e-7 */, Implementation.Naive);
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(code, Is.Zero);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "fixtures: reference-weights (PyTorch 1.13.0, 2 cases, impl naive)",
            "case    op       K  max abs err  atol=rtol  result",
            "a_case  conv2d   9     0.00e+00   2.15e-06  OK",
            "b       conv2d  36     9.54e-07   8.58e-06  OK",
            "all 2 cases within tolerance",
        }));
    }

    [Test]
    public void Failures_are_rows_and_the_rest_still_run()
    {
        var output = new StringWriter { NewLine = "\n" };
        VerifyCase[] cases =
        [
            Case("off", new Tensor([2, 2], [1, 2, 3.5f, 4])),
            Case("reshaped", new Tensor([4], [1, 2, 3, 4])),
            new("refused", "conv2d", 1, _ => throw new ArgumentException("Given groups=2, expected input[1, 4, 5, 5] to have 6 channels")),
            new("broken_file", "conv2d", 1, _ => throw new InvalidDataException("x.npy: truncated header")),
            Case("fine", Expected),
        ];
        int code = VerifyReport.Write(output, "dir", "1.13.0", cases, Implementation.Naive);
        string text = output.ToString();
        Assert.That(code, Is.EqualTo(1));
        Assert.That(text, Does.Contain("FAIL (1 of 4 outside; worst at (1, 0))"));
        Assert.That(text, Does.Contain("FAIL (shape [4], expected [2, 2])"));
        Assert.That(text, Does.Contain("FAIL (Given groups=2, expected input[1, 4, 5, 5] to have 6 channels)"));
        Assert.That(text, Does.Contain("FAIL (x.npy: truncated header)"));
        Assert.That(text, Does.Match(@"\nfine +conv2d .* OK\n"));
        Assert.That(text, Does.EndWith("4 of 5 cases FAIL: off, reshaped, refused, broken_file\n"));
    }

    [Test]
    public void Unavailable_implementation_is_a_usage_error_naming_impl()
    {
        VerifyCase c = new("a", "conv2d", 1, impl => throw new ArgumentOutOfRangeException(nameof(impl), impl, "unknown implementation"));
        var e = Assert.Throws<CliError>(() => VerifyReport.Write(TextWriter.Null, "dir", "1.13.0", [c], Implementation.Fast))!;
        Assert.That((e.Subject, e.ExitCode, e.Problem), Is.EqualTo(("--impl", 2, "'fast' is not available in this build")));
    }

    [Test]
    public void No_cases_is_a_data_failure_naming_the_folder()
    {
        var e = Assert.Throws<CliError>(() => VerifyReport.Write(TextWriter.Null, "dir", "1.13.0", [], Implementation.Naive))!;
        Assert.That((e.Subject, e.ExitCode), Is.EqualTo(("dir", 1)));
    }

    [Test]
    public void The_implementation_is_passed_to_every_case()
    {
        // The report runs cases in parallel, so the record must be thread-safe (a List lost one under CI).
        var seen = new System.Collections.Concurrent.ConcurrentQueue<Implementation>();
        VerifyCase c = new("a", "conv2d", 1, impl => { seen.Enqueue(impl); return Comparison.Of(Expected, Expected, Tolerance.ForReduction(1)); });
        VerifyReport.Write(TextWriter.Null, "dir", "1.13.0", [c, c], Implementation.Fast);
        Assert.That(seen, Is.EqualTo(new[] { Implementation.Fast, Implementation.Fast }));
    }
}
