namespace Learn.Engine;

/// <summary>How an execution plan runs: fixed when the plan is made, read by every forward (no process-wide state).</summary>
public sealed record PlanOptions
{
    private readonly int _threads = Environment.ProcessorCount;

    /// <summary>Threads per forward, the caller's included (default: the processor count). At least 1.</summary>
    public int Threads
    {
        get => _threads;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _threads = value;
        }
    }
}
