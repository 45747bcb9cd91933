using Learn.Tensors;
using Learn.Verification;
using Plotly.NET;
using Plotly.NET.CSharp;

namespace Learn.Lessons;

/// <summary>
/// The helpers every lesson uses: a claim check that throws, the one chart style, and the tolerance rule.
/// A lesson imports them with <c>using static Learn.Lessons.Lesson;</c>.
/// </summary>
public static class Lesson
{
    /// <summary>How many claims have held since the lesson started (or since <see cref="ResetChecks"/>).</summary>
    public static int ChecksPassed { get; private set; }

    /// <summary>Starts the count of passed checks again (the setup cell of a lesson calls it).</summary>
    public static void ResetChecks() => ChecksPassed = 0;

    /// <summary>States a claim; throws <see cref="ClaimFailedException"/> when it does not hold, prints "OK claim" when it does.</summary>
    public static void Check(bool holds, string claim)
    {
        if (!holds)
        {
            throw new ClaimFailedException($"Claim does not hold: {claim}");
        }

        ChecksPassed++;
        Console.WriteLine($"OK  {claim}");
    }

    /// <summary>Title and axis titles for a single-panel chart.</summary>
    public static GenericChart Style(GenericChart chart, string title, string xTitle, string yTitle) =>
        Plotly.NET.Chart.withTitle(title, null).Invoke(chart)
            .WithXAxisStyle<double, double, string>(TitleText: xTitle)
            .WithYAxisStyle<double, double, string>(TitleText: yTitle);

    /// <summary>
    /// Two tensors agree within the project's tolerance rule for sums of <paramref name="k"/> products
    /// (<see cref="Tolerance.ForReduction"/>: the error of a float sum grows with its length).
    /// </summary>
    public static bool Close(Tensor actual, Tensor expected, long k) =>
        Comparison.Of(actual, expected, Tolerance.ForReduction(k)).Close;
}

/// <summary>A claim stated in a lesson did not hold.</summary>
public sealed class ClaimFailedException : Exception
{
    /// <summary>Creates the exception with the claim's message.</summary>
    public ClaimFailedException(string message) : base(message) { }

    /// <summary>Creates the exception with no message.</summary>
    public ClaimFailedException() { }

    /// <summary>Creates the exception wrapping another.</summary>
    public ClaimFailedException(string message, Exception inner) : base(message, inner) { }
}
