using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.ExceptionServices;
using Learn.Cli.CommandLine;
using Learn.Ops;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary>One golden case for <c>learn verify</c>: its name, operator, reduction length and how to run it.</summary>
/// <param name="Name">The case name, e.g. <c>conv2d_x1x4x9x10_w6x2x4x5_s1_psame_d2x1_g2_reflect</c>.</param>
/// <param name="Op">The operator, e.g. <c>conv2d</c>.</param>
/// <param name="ReductionLength">K of the tolerance rule.</param>
/// <param name="Run">Runs the library on the case's inputs and compares with PyTorch's output.</param>
/// <param name="Group">Cases of one group share work (an OSNet variant's forward pass) and run in order on one
/// thread; different groups may run at the same time. Null: a group of its own.</param>
internal sealed record VerifyCase(string Name, string Op, long ReductionLength, Func<Implementation, Comparison> Run, string? Group = null);

/// <summary>
/// The table <c>learn verify</c> prints: one row per case with its max abs error, its tolerance and OK/FAIL,
/// then a verdict line. A case that throws is a FAIL row with the message, and the others still run. Groups of
/// cases run side by side, one per core (the reference loops are single-threaded); the table keeps the cases' order.
/// </summary>
internal static class VerifyReport
{
    /// <summary>
    /// Runs every case with <paramref name="impl"/>, writes the table, returns 0 when all are within tolerance, else 1;
    /// <paramref name="progress"/> (optional; a progress bar on a terminal) is told each case's name as it is done;
    /// <paramref name="coverage"/> (optional) says which fixtures the cases are, on the line after the header.
    /// </summary>
    /// <exception cref="CliError">The implementation is not available in this build (usage error naming --impl).</exception>
    public static int Write(TextWriter output, string source, string torchVersion, IReadOnlyList<VerifyCase> cases, Implementation impl,
        IProgress<string>? progress = null, string? coverage = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count == 0)
        {
            throw CliError.Failure(source, "holds no fixture cases");
        }

        var rows = new string[cases.Count][];
        var groups = Enumerable.Range(0, cases.Count).GroupBy(i => cases[i].Group ?? $"\0{i}").Select(g => g.ToArray()).ToList();
        try
        {
            // NoBuffering: each worker takes the next group when it is free, so a long group does not hold others back.
            Parallel.ForEach(Partitioner.Create(groups, EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
                group =>
                {
                    foreach (int i in group)
                    {
                        rows[i] = RowOf(cases[i], impl);
                        progress?.Report(cases[i].Name);
                    }
                });
        }
        catch (AggregateException e)
        {
            // As if the cases had run one after another: a usage error first, else the first problem.
            ExceptionDispatchInfo.Capture(e.InnerExceptions.FirstOrDefault(x => x is CliError) ?? e.InnerExceptions[0]).Throw();
        }

        var failed = cases.Where((_, i) => !rows[i][^1].Equals("OK", StringComparison.Ordinal)).Select(c => c.Name).ToList();

        output.WriteLine($"fixtures: {source} (PyTorch {torchVersion}, {cases.Count} cases, impl {impl.ToString().ToLowerInvariant()})");
        if (coverage is not null)
        {
            output.WriteLine($"covers: {coverage}");
        }

        WriteTable(output, ["case", "op", "K", "max abs err", "atol=rtol", "result"], [.. rows]);
        output.WriteLine(failed.Count == 0
            ? $"all {cases.Count} cases within tolerance"
            : $"{failed.Count} of {cases.Count} cases FAIL: {string.Join(", ", failed)}");
        return failed.Count == 0 ? ExitCode.Ok : ExitCode.DataFailure;
    }

    private static string[] RowOf(VerifyCase c, Implementation impl)
    {
        try
        {
            Comparison r = c.Run(impl);
            string[] row = [c.Name, c.Op, Count(c.ReductionLength), Number(r.MaxAbsError), Number(r.Tolerance.Atol), r.Close ? "OK" : "FAIL"];
            if (!r.Close)
            {
                row[^1] = r.Actual.SameShape(r.Expected)
                    ? $"FAIL ({r.Mismatches} of {r.Expected.Length} outside; worst at {r.IndexOf(r.WorstIndex)})"
                    : $"FAIL (shape {r.Actual.ShapeString}, expected {r.Expected.ShapeString})";
            }

            return row;
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "impl")
        {
            throw CliError.Usage("--impl", $"'{impl.ToString().ToLowerInvariant()}' is not available in this build");
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or NotSupportedException)
        {
            // The library refused the case or its files are broken: report it as this case's failure.
            return [c.Name, c.Op, Count(c.ReductionLength), "-", "-", $"FAIL ({Cli.OneLine(e)})"];
        }
    }

    private static void WriteTable(TextWriter output, string[] header, List<string[]> rows)
    {
        // Every column but the last is padded to its widest cell; numbers are right-aligned.
        var width = new int[header.Length];
        foreach (string[] row in rows.Prepend(header))
        {
            for (int i = 0; i < row.Length; i++)
            {
                width[i] = Math.Max(width[i], row[i].Length);
            }
        }

        foreach (string[] row in rows.Prepend(header))
        {
            var cells = new string[row.Length];
            for (int i = 0; i < row.Length; i++)
            {
                bool numeric = i is 2 or 3 or 4;
                cells[i] = i == row.Length - 1 ? row[i] : numeric ? row[i].PadLeft(width[i]) : row[i].PadRight(width[i]);
            }

            output.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(double value) =>
        value.ToString("0.00e+00", CultureInfo.InvariantCulture);
}
