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

    /// <summary>The memory layout of the activations between steps (default: <see cref="PlanLayout.Auto"/>).</summary>
    public PlanLayout Layout { get; init; } = PlanLayout.Auto;

    /// <summary>How a forward of more than one image runs its batch (default: <see cref="PlanBatch.Auto"/>).</summary>
    public PlanBatch Batch { get; init; } = PlanBatch.Auto;
}

/// <summary>How a plan runs a batch of more than one image. The features are the same bits either way.</summary>
public enum PlanBatch
{
    /// <summary><see cref="Images"/> in the blocked layout, <see cref="Whole"/> in NCHW.</summary>
    Auto,

    /// <summary>Each step over the whole batch, every thread on each step.</summary>
    Whole,

    /// <summary>
    /// Image by image, each through the whole network on one thread, the threads on different images: an image's
    /// activations stay in its core's L2 cache from step to step, where a whole batch's maps do not fit and every step
    /// streams them from memory. The images left over (N mod threads) run as one batch on every thread. Needs the
    /// blocked layout; activation capture and <see cref="OSNetPlan.Profile"/> run whole batches.
    /// </summary>
    Images,
}

/// <summary>The layout a plan keeps its activations in between steps.</summary>
public enum PlanLayout
{
    /// <summary>
    /// <see cref="Blocked"/> where 512-bit vectors are hardware-accelerated and the model has no step the blocked
    /// layout lacks (the IBN variant's InstanceNorms); <see cref="Nchw"/> otherwise.
    /// </summary>
    Auto,

    /// <summary>The reference's NCHW: each channel a plane of H*W floats.</summary>
    Nchw,

    /// <summary>
    /// NCHW16c (as ONNX Runtime's MLAS runs on AVX-512): channels in blocks of 16, each position's block contiguous, so a
    /// 1x1 conv streams ceil(C/16) rows instead of C and every per-position step is one 16-lane vector. The input is
    /// converted after the stem; outputs reported or returned are converted back to NCHW. Forcing it on a machine
    /// without AVX-512 computes the same values slowly (the tests do, in every CI leg).
    /// </summary>
    Blocked,
}
