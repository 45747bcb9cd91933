using Learn.Lessons;

namespace Learn.Tests.Lessons;

/// <summary>The lessons' timing helper: warm-up first, then interleaved rounds, one fastest time per candidate.</summary>
public class TimingTests
{
    [Test]
    public void Warms_every_candidate_up_then_interleaves_the_rounds()
    {
        var calls = new List<char>();
        double[] best = Timing.FastestMs(0, 3, () => calls.Add('a'), () => calls.Add('b'));
        Assert.That(string.Concat(calls), Is.EqualTo("ab" + "ababab"), "one warm-up call each, then three interleaved rounds");
        Assert.That(best, Has.Length.EqualTo(2));
        Assert.That(best, Has.All.GreaterThanOrEqualTo(0).And.LessThan(double.MaxValue));
    }

    [Test]
    public void Keeps_going_until_the_budget_is_spent()
    {
        // The warm-up and one round take about 2 ms: only a loop that honours the 40 ms budget runs for 40 ms.
        int calls = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Timing.FastestMs(40, 1, () => { calls++; Thread.Sleep(1); });
        Assert.That(clock.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(40), "returned before its budget was spent");
        Assert.That(calls, Is.GreaterThanOrEqualTo(2), "the warm-up and at least one round");
    }

    [Test]
    public void Refuses_fewer_than_one_round() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Timing.FastestMs(0, 0, () => { }));
}

/// <summary>Lesson 7's tap step: the vector loop computes exactly what the scalar loop computes, every tail length.</summary>
public class TapStepTests
{
    [Test]
    public void Vectorised_equals_scalar_for_every_tail()
    {
        float[] row = Learn.Tensors.Tensor.Random(5, 80).Data;
        for (int n = 0; n <= 3 * System.Numerics.Vector<float>.Count + 1; n++)
        {
            var scalar = Learn.Tensors.Tensor.Random(6, 60).Data;
            var vectorised = (float[])scalar.Clone();
            TapStep.Scalar(scalar, row, 0.37f, 2, n);
            TapStep.Vectorised(vectorised, row, 0.37f, 2, n);
            Assert.That(vectorised, Is.EqualTo(scalar), $"n = {n}");
        }
    }

    [Test]
    public void Refuses_a_row_too_short() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TapStep.Vectorised(new float[8], new float[8], 1f, 1, 8));
}
