using Learn.Ops.Fast;
using NUnit.Framework;

namespace Learn.Tests.Fast;

/// <summary>The worker pool behind Parallelism: every index exactly once, run after run, and errors surface.</summary>
public class SpinPoolTests
{
    [TestCase(2)]
    [TestCase(3)]
    public void Every_index_runs_exactly_once_in_every_run(int threads)
    {
        using var pool = new SpinPool(threads);
        for (int run = 0; run < 3000; run++)
        {
            int count = (run % 23) + 1;
            var hits = new int[count];
            pool.For(count, (start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    Interlocked.Increment(ref hits[i]);
                }
            });
            Assert.That(hits, Is.All.EqualTo(1), $"run {run}, count {count}");
            if (run % 500 == 0)
            {
                Thread.Sleep(5); // let the workers fall asleep, so waking is exercised too
            }
        }
    }

    [Test]
    public void An_exception_in_a_chunk_reaches_the_caller_and_the_pool_keeps_working()
    {
        using var pool = new SpinPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.For(8, (start, _) =>
        {
            if (start >= 4)
            {
                throw new InvalidOperationException("chunk failed");
            }
        }));
        Assert.That(e!.Message, Is.EqualTo("chunk failed"));
        int sum = 0;
        pool.For(10, (start, end) => Interlocked.Add(ref sum, end - start));
        Assert.That(sum, Is.EqualTo(10));
    }
}
