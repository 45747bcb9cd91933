using System.Globalization;
using Learn.Cli.CommandLine;
using Learn.IO;
using Learn.Layers;
using Learn.Tensors;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn diff</c>: two activation dumps compared layer by layer in execution order; the first layer outside
/// the tolerance is where a port goes wrong.
/// </summary>
internal static class DiffCommand
{
    private const double FallbackAtol = 1e-4;
    private const double FallbackRtol = 1e-3;

    public static Verb Verb { get; } = new()
    {
        Name = "diff",
        Summary = "compare two activation dumps layer by layer and name the first layer that diverges; exit 1 if any does",
        Description =
            "Each folder holds one <layer>.npy per module call, named as learn osnet --activations names them\n" +
            "(conv1.conv, conv2.0.conv2b.1.conv2, conv2.0.gate, conv2.0.gate@2 ...). DIR_A is the dump under test\n" +
            "(e.g. your port's), DIR_B the expected one; a layer is close when every element satisfies\n" +
            "|a - b| <= atol + rtol*|b|. The layers are taken in the order they ran, from the activations.json index\n" +
            "that learn osnet writes: DIR_A's if it has one, else DIR_B's (one of them must). Layers only in one\n" +
            "folder are listed and not compared. Tolerance: with --atol/--rtol, those for every layer (the other\n" +
            "defaults to 1e-4 or 1e-3); otherwise the project rule atol = rtol = 4*2^-24*K with each layer's\n" +
            "reduction length K from the index, or atol 1e-4, rtol 1e-3 for a layer whose K is not recorded.",
        Arguments =
        [
            new("DIR_A", "the dump under test"),
            new("DIR_B", "the expected dump"),
        ],
        Options =
        [
            new("--atol", "X", "absolute tolerance for every layer", Default: "the rule per layer"),
            new("--rtol", "X", "tolerance relative to |b| for every layer", Default: "the rule per layer"),
        ],
        Run = Run,
    };

    private static int Run(ParsedArgs args, CliContext context)
    {
        double? atol = args.Has("--atol") ? args.Value("--atol", ParsedArgs.Convert.NonNegative, FallbackAtol) : null;
        double? rtol = args.Has("--rtol") ? args.Value("--rtol", ParsedArgs.Convert.NonNegative, FallbackRtol) : null;
        Tolerance? fixedTolerance = atol is null && rtol is null ? null : new Tolerance(atol ?? FallbackAtol, rtol ?? FallbackRtol);
        string a = args.Argument("DIR_A")!, b = args.Argument("DIR_B")!;
        foreach (string folder in new[] { a, b })
        {
            if (!Directory.Exists(folder))
            {
                throw CliError.Failure(folder, File.Exists(folder) ? "is a file, expected an activation folder" : "no such folder");
            }
        }

        IReadOnlyList<ActivationEntry>? indexA = ActivationDirectory.ReadIndex(a), indexB = ActivationDirectory.ReadIndex(b);
        (IReadOnlyList<ActivationEntry> order, string orderSource) =
            indexA is not null ? (indexA, a) :
            indexB is not null ? (indexB, b) :
            throw CliError.Failure(null, $"neither {a} nor {b} has {ActivationDirectory.IndexFileName}, so the order the layers ran is unknown (learn osnet --activations writes it)");
        Dictionary<string, long?> otherK = (ReferenceEquals(order, indexA) ? indexB : indexA)?.ToDictionary(e => e.Key, e => e.Reduction, StringComparer.Ordinal) ?? [];

        TextWriter o = context.Out;
        o.WriteLine($"A: {a} (under test)");
        o.WriteLine($"B: {b} (expected)");
        o.WriteLine($"order: {Path.Combine(orderSource, ActivationDirectory.IndexFileName)} ({order.Count} layers)");
        o.WriteLine(fixedTolerance is Tolerance t
            ? $"tolerance: |a - b| <= {Number(t.Atol)} + {Number(t.Rtol)}*|b| for every layer"
            : $"tolerance: |a - b| <= atol + rtol*|b|, atol = rtol = 4*2^-24*K per layer (atol {Number(FallbackAtol)}, rtol {Number(FallbackRtol)} where K is unknown)");

        var rows = new List<string[]>();
        var onlyA = new List<string>();
        var onlyB = new List<string>();
        var inNeither = new List<string>();
        string? first = null;
        string? firstDetail = null;
        int diverging = 0, compared = 0;
        foreach (ActivationEntry entry in order)
        {
            string fileA = Path.Combine(a, entry.Key + ".npy"), fileB = Path.Combine(b, entry.Key + ".npy");
            bool inA = File.Exists(fileA), inB = File.Exists(fileB);
            if (!inA || !inB)
            {
                if (inA || inB)
                {
                    (inA ? onlyA : onlyB).Add(entry.Key);
                }
                else
                {
                    inNeither.Add(entry.Key);
                }

                continue;
            }

            Tensor ta = Npy.Read(fileA), tb = Npy.Read(fileB); // InvalidDataException naming the file: exit 1
            long? k = entry.Reduction ?? otherK.GetValueOrDefault(entry.Key);
            Tolerance tolerance = fixedTolerance
                ?? (k is long kk ? Tolerance.ForReduction(Math.Max(1, kk)) : new Tolerance(FallbackAtol, FallbackRtol));
            compared++;
            string result, error;
            if (!ta.SameShape(tb))
            {
                error = "-";
                result = $"DIVERGES (shape {ta.ShapeString}, expected {tb.ShapeString})";
            }
            else
            {
                var c = Comparison.Of(ta, tb, tolerance);
                error = tb.Length == 0 ? "-" : Number(c.MaxAbsError);
                result = c.Close ? "ok" : $"DIVERGES ({c.Mismatches} of {tb.Length} outside; worst at {c.IndexOf(c.WorstIndex)}: a = {Value(ta.Data[c.WorstIndex])}, b = {Value(tb.Data[c.WorstIndex])})";
            }

            if (result != "ok")
            {
                diverging++;
                if (first is null)
                {
                    first = entry.Key;
                    firstDetail = result["DIVERGES ".Length..].Trim('(', ')');
                }
            }

            rows.Add([Printable.Escape(entry.Key), tb.ShapeString, k?.ToString(CultureInfo.InvariantCulture) ?? "-", error, Number(tolerance.Atol), Number(tolerance.Rtol), result]);
        }

        // Files the order does not list (a port's extra dumps, or the other side's layers when only one has an index).
        var listed = order.Select(e => e.Key).ToHashSet(StringComparer.Ordinal);
        onlyA.AddRange(Unlisted(a, listed).Select(k => k + " (not in the order)"));
        onlyB.AddRange(Unlisted(b, listed).Select(k => k + " (not in the order)"));

        WriteTable(o, ["layer", "shape", "K", "max abs err", "atol", "rtol", "result"], rows);
        WriteList(o, $"only in A ({a})", onlyA);
        WriteList(o, $"only in B ({b})", onlyB);
        WriteList(o, "in the order but in neither folder", inNeither);
        if (compared == 0)
        {
            o.WriteLine("no layer is in both folders: nothing compared");
            return ExitCode.DataFailure;
        }

        if (first is null)
        {
            o.WriteLine($"all {compared} layers in both folders are close");
            return ExitCode.Ok;
        }

        o.WriteLine($"{diverging} of {compared} layers diverge; the first is {Printable.Escape(first)}: {firstDetail}");
        return ExitCode.DataFailure;
    }

    private static IEnumerable<string> Unlisted(string folder, HashSet<string> listed) =>
        Directory.EnumerateFiles(folder, "*.npy")
            .Select(f => Path.GetFileName(f)[..^".npy".Length])
            .Where(k => !listed.Contains(k))
            .Order(StringComparer.Ordinal);

    private static void WriteList(TextWriter o, string title, List<string> keys)
    {
        if (keys.Count > 0)
        {
            o.WriteLine($"{title}, not compared: {keys.Count}");
            foreach (string key in keys)
            {
                o.WriteLine($"  {Printable.Escape(key)}"); // layer names come from the folders' files
            }
        }
    }

    private static void WriteTable(TextWriter o, string[] header, List<string[]> rows)
    {
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
                bool numeric = i is 2 or 3 or 4 or 5;
                cells[i] = i == row.Length - 1 ? row[i] : numeric ? row[i].PadLeft(width[i]) : row[i].PadRight(width[i]);
            }

            o.WriteLine(string.Join("  ", cells).TrimEnd());
        }
    }

    private static string Number(double value) => value.ToString("0.00e+00", CultureInfo.InvariantCulture);

    // G9 round-trips float32, so the printed values are the stored ones.
    private static string Value(float value) => value.ToString("G9", CultureInfo.InvariantCulture);
}
