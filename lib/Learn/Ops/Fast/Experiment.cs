namespace Learn.Ops.Fast;

/// <summary>
/// A switch for measuring one kernel change against the code before it in the same process (the bench's
/// <c>--only osnet-ab</c> flips it between interleaved rounds). Off by default; never set by library code.
/// </summary>
internal static class Experiment
{
    /// <summary>True: run the code before the change under test.</summary>
    public static volatile bool Before;
}
