using System.Diagnostics;

namespace Learn.Lessons;

/// <summary>
/// The one way the lessons time code: every candidate once to warm up (JIT, caches), then interleaved rounds,
/// keeping each candidate's fastest round. On a machine shared with other work a single timing can be slowed at
/// random; interleaving spreads a slow spell over all candidates, and the minimum is the least disturbed value.
/// </summary>
public static class Timing
{
    /// <summary>
    /// The fastest time, in milliseconds, of each of <paramref name="runs"/>, from interleaved rounds repeated until
    /// <paramref name="budgetMs"/> has passed (at least <paramref name="minRounds"/> rounds).
    /// </summary>
    public static double[] FastestMs(int budgetMs, int minRounds, params Action[] runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentOutOfRangeException.ThrowIfLessThan(minRounds, 1);
        foreach (Action run in runs)
        {
            run();
        }

        var best = Enumerable.Repeat(double.MaxValue, runs.Length).ToArray();
        var total = Stopwatch.StartNew();
        for (int round = 0; round < minRounds || total.ElapsedMilliseconds < budgetMs; round++)
        {
            for (int i = 0; i < runs.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                runs[i]();
                best[i] = Math.Min(best[i], Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        }

        return best;
    }
}
