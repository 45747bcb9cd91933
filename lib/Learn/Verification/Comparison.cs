using System.Globalization;
using Learn.Tensors;

namespace Learn.Verification;

/// <summary>
/// The result of comparing two tensors element by element: the largest absolute and relative error, where
/// it occurs, how many elements fail the tolerance and the first few failing pairs.
/// </summary>
public sealed class Comparison
{
    private Comparison(Tensor actual, Tensor expected, Tolerance tolerance)
    {
        Actual = actual;
        Expected = expected;
        Tolerance = tolerance;
    }

    /// <summary>The tensor under test.</summary>
    public Tensor Actual { get; }

    /// <summary>The expected tensor.</summary>
    public Tensor Expected { get; }

    /// <summary>The rule applied.</summary>
    public Tolerance Tolerance { get; }

    /// <summary>max |a - e|.</summary>
    public double MaxAbsError { get; private set; }

    /// <summary>max |a - e| / |e| over elements with e != 0.</summary>
    public double MaxRelError { get; private set; }

    /// <summary>Flat index of the largest absolute error (-1 for empty tensors).</summary>
    public int WorstIndex { get; private set; } = -1;

    /// <summary>Number of elements outside the tolerance (NaN anywhere counts as a mismatch).</summary>
    public int Mismatches { get; private set; }

    /// <summary>Flat indices of the first mismatches (at most 5).</summary>
    public IReadOnlyList<int> FirstMismatches { get; private set; } = [];

    /// <summary>True when the shapes agree and every element is within tolerance.</summary>
    public bool Close => Actual.SameShape(Expected) && Mismatches == 0;

    /// <summary>Compares <paramref name="actual"/> with <paramref name="expected"/> under <paramref name="tolerance"/>.</summary>
    public static Comparison Of(Tensor actual, Tensor expected, Tolerance tolerance)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        var result = new Comparison(actual, expected, tolerance);
        if (!actual.SameShape(expected))
        {
            return result;
        }

        var first = new List<int>();
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual.Data[i], e = expected.Data[i];
            double abs = Math.Abs(a - e);
            bool bad = !tolerance.Accepts(a, e) && a != e; // a == e also admits equal infinities
            if (double.IsNaN(abs))
            {
                abs = double.PositiveInfinity;
            }

            if (result.WorstIndex < 0 || abs > result.MaxAbsError)
            {
                result.MaxAbsError = abs;
                result.WorstIndex = i;
            }

            if (e != 0)
            {
                result.MaxRelError = Math.Max(result.MaxRelError, abs / Math.Abs(e));
            }

            if (bad)
            {
                result.Mismatches++;
                if (first.Count < 5)
                {
                    first.Add(i);
                }
            }
        }

        result.FirstMismatches = first;
        return result;
    }

    /// <summary>The index of a flat offset in the expected tensor's shape, e.g. (0, 3, 4, 1).</summary>
    public string IndexOf(int flat)
    {
        int[] shape = Expected.Shape;
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }

        return "(" + string.Join(", ", index) + ")";
    }

    /// <summary>A one-paragraph description: verdict, max errors and where, and the first mismatching pairs.</summary>
    public string Describe()
    {
        if (!Actual.SameShape(Expected))
        {
            return $"shape mismatch: got {Actual.ShapeString}, expected {Expected.ShapeString}";
        }

        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{(Close ? "close" : "NOT close")}: shape {Expected.ShapeString}, max abs error {MaxAbsError:G3}");
        if (WorstIndex >= 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" at {IndexOf(WorstIndex)}");
        }

        text.Append(CultureInfo.InvariantCulture,
            $", max rel error {MaxRelError:G3}, atol {Tolerance.Atol:G3}, rtol {Tolerance.Rtol:G3}, {Mismatches} of {Expected.Length} outside");
        foreach (int i in FirstMismatches)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  at {IndexOf(i)}: got {Actual.Data[i]:G9}, expected {Expected.Data[i]:G9}");
        }

        return text.ToString();
    }
}
