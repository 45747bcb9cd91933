using Learn.Tensors;
using Learn.Verification;

namespace Learn.Tests.Fast;

/// <summary>Fast == naive under the project's one tolerance rule (<see cref="Tolerance"/>), for whole tensors.</summary>
public static class Close
{
    /// <summary>Fails with the case, the worst index and the first mismatching pairs when any element is outside the rule.</summary>
    public static void Assert(Tensor actual, Tensor expected, long k, string what)
    {
        Comparison comparison = Comparison.Of(actual, expected, Tolerance.ForReduction(k));
        NUnit.Framework.Assert.That(comparison.Close, Is.True, $"{what} (K={k}): {comparison.Describe()}");
    }
}
