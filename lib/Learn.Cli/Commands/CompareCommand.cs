using System.Globalization;
using Learn.Cli.CommandLine;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary><c>learn compare</c>: are two .npy tensors equal within |a - b| &lt;= atol + rtol*|b| (numpy.allclose's rule)?</summary>
internal static class CompareCommand
{
    private const double DefaultAtol = 1e-5;
    private const double DefaultRtol = 1e-4;

    public static Verb Verb { get; } = new()
    {
        Name = "compare",
        Summary = "compare two .npy tensors: max abs/rel error and where; exit 1 if not close",
        Description =
            "A is the result under test, B the expected one: A is close to B when every element satisfies\n" +
            "|a - b| <= atol + rtol*|b| (numpy.allclose's rule; NaN is never close). Prints the shape, the largest\n" +
            "absolute and relative errors with their indices, and the first elements outside the tolerance.\n" +
            "The library's own tests use a tolerance that grows with the reduction length K: atol = rtol = 4*2^-24*K.",
        Arguments =
        [
            new("A.npy", "the tensor under test"),
            new("B.npy", "the expected tensor"),
        ],
        Options =
        [
            new("--atol", "X", "absolute tolerance", Default: "1e-5"),
            new("--rtol", "X", "tolerance relative to |b|", Default: "1e-4"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        double atol = args.Value("--atol", ParsedArgs.Convert.NonNegative, DefaultAtol);
        double rtol = args.Value("--rtol", ParsedArgs.Convert.NonNegative, DefaultRtol);
        string pathA = args.Argument("A.npy")!, pathB = args.Argument("B.npy")!;
        Tensor a = TensorFiles.Read(pathA);
        Tensor b = TensorFiles.Read(pathB);
        TextWriter o = context.Out;
        if (!a.SameShape(b))
        {
            o.WriteLine($"NOT close: shape mismatch: {pathA} is {a.ShapeString}, {pathB} is {b.ShapeString}");
            return ExitCode.DataFailure;
        }

        var c = Comparison.Of(a, b, new Tolerance(atol, rtol));
        o.WriteLine($"{(c.Close ? "close" : "NOT close")}: {pathA} vs {pathB}, shape {b.ShapeString}, {b.Length} elements");
        if (b.Length > 0 && c.MaxAbsError == 0)
        {
            o.WriteLine("max abs error 0: identical");
        }
        else if (b.Length > 0)
        {
            o.WriteLine($"max abs error {Number(c.MaxAbsError)} at {c.IndexOf(c.WorstIndex)}: a = {Number(a.Data[c.WorstIndex])}, b = {Number(b.Data[c.WorstIndex])}");
            int worstRel = WorstRelative(a, b);
            o.WriteLine(worstRel < 0
                ? "max rel error - (every b is 0)"
                : $"max rel error {Number(c.MaxRelError)} at {c.IndexOf(worstRel)}: a = {Number(a.Data[worstRel])}, b = {Number(b.Data[worstRel])}");
        }

        o.WriteLine($"tolerance |a - b| <= {Number(atol)} + {Number(rtol)}*|b|: {c.Mismatches} of {b.Length} outside");
        foreach (int i in c.FirstMismatches)
        {
            o.WriteLine($"  at {c.IndexOf(i)}: a = {Number(a.Data[i])}, b = {Number(b.Data[i])}");
        }

        if (c.Mismatches > c.FirstMismatches.Count)
        {
            o.WriteLine($"  ... and {c.Mismatches - c.FirstMismatches.Count} more");
        }

        return c.Close ? ExitCode.Ok : ExitCode.DataFailure;
    }

    // The flat index of max |a - b| / |b| over b != 0 (the element Comparison.MaxRelError comes from), or -1.
    private static int WorstRelative(Tensor a, Tensor b)
    {
        int worst = -1;
        double largest = -1;
        for (int i = 0; i < b.Length; i++)
        {
            double e = b.Data[i];
            if (e == 0)
            {
                continue;
            }

            double rel = Math.Abs(a.Data[i] - e) / Math.Abs(e);
            if (double.IsNaN(rel))
            {
                rel = double.PositiveInfinity;
            }

            if (rel > largest)
            {
                largest = rel;
                worst = i;
            }
        }

        return worst;
    }

    // G9 round-trips float32, so the printed values are the stored ones.
    private static string Number(double value) => value.ToString("G9", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
}
