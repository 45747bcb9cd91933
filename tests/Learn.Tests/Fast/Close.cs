using System.Globalization;
using System.Text;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Fast;

/// <summary>
/// The project's tolerance rule, |a - e| &lt;= atol + rtol*|e| with atol = rtol = 4 * 2^-24 * K, applied to
/// whole tensors. (Learn.Verification.Tolerance states the same rule on main; use it once merged.)
/// </summary>
public static class Close
{
    public static double Bound(long k) => 4.0 / (1 << 24) * k;

    /// <summary>Fails with the case, shape, worst index and the first mismatching pairs when any element is outside the rule.</summary>
    public static void Assert(Tensor actual, Tensor expected, long k, string what)
    {
        NUnit.Framework.Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{what}: shape");
        double tol = Bound(k);
        int bad = 0, worst = -1;
        double worstExcess = double.NegativeInfinity;
        var pairs = new StringBuilder();
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual.Data[i], e = expected.Data[i];
            double excess = Math.Abs(a - e) - (tol + (tol * Math.Abs(e)));
            if (!(excess <= 0))
            {
                if (bad++ < 5)
                {
                    pairs.Append(CultureInfo.InvariantCulture, $" [{i}] {a:R} vs {e:R};");
                }
            }

            if (double.IsNaN(excess) || excess > worstExcess)
            {
                worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
                worst = i;
            }
        }

        if (bad > 0)
        {
            NUnit.Framework.Assert.Fail(
                $"{what}: {bad} of {actual.Length} values of {expected.ShapeString} outside atol=rtol={tol:G3} (K={k}); " +
                $"worst at [{worst}]: {actual.Data[worst]:R} vs {expected.Data[worst]:R};{pairs}");
        }
    }
}
