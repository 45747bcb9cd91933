namespace Learn.Verification;

/// <summary>
/// The project's one tolerance rule. A float32 result <c>a</c> matches the expected value <c>e</c> (PyTorch's
/// float64 result rounded to float32) when
/// <code>|a - e| &lt;= atol + rtol*|e|,   atol = rtol = 4 * u * K,   u = 2^-24</code>
/// where u is float32's unit roundoff and K the reduction length behind the value: (C_in/G)*kh*kw for a
/// convolution, the input features for a linear layer, the window for pooling and the reduced count for
/// normalisation (K &gt;= 1; element-wise ops have K = 1).
/// </summary>
/// <remarks>
/// Why this rule: summing K float32 products has a worst-case relative error of about K*u with respect to the
/// sum of |terms| (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed., eq. 3.5). Our fixtures'
/// inputs are O(1) and weights are scaled by 1/sqrt(fan-in), so |terms| sums to O(1) and the bound becomes
/// absolute as well as relative; the factor 4 covers the final rounding of both sides to float32 and a
/// fused multiply-add's different rounding. The reference, which sums in double, typically lands within
/// one float32 ulp; the rule exists for the float32 fast paths. For a network, K is the sum of the
/// reduction lengths along the longest path to the value.
/// </remarks>
public readonly record struct Tolerance(double Atol, double Rtol)
{
    /// <summary>float32's unit roundoff, 2^-24.</summary>
    public const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>The rule for a value produced by a reduction of length <paramref name="k"/>.</summary>
    public static Tolerance ForReduction(long k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        double t = 4 * UnitRoundoff * k;
        return new Tolerance(t, t);
    }

    /// <summary>True when |actual - expected| &lt;= atol + rtol*|expected| (NaN never matches).</summary>
    public bool Accepts(double actual, double expected) =>
        Math.Abs(actual - expected) <= Atol + Rtol * Math.Abs(expected);
}
