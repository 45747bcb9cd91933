namespace Learn.Ops;

/// <summary>Which implementation of an operator runs. The reference is always callable by name.</summary>
public enum Implementation
{
    /// <summary>The reference: plain loops, double accumulation, the specification.</summary>
    Naive,

    /// <summary>The vectorised, multi-threaded path, tested equal to the reference.</summary>
    Fast,
}
