namespace Learn.IO;

/// <summary>
/// A strict load found missing, unexpected or mis-shaped state_dict names; <see cref="Exception.Message"/>
/// is the full <see cref="StateDictMatch.Report"/> (one summary line, then one line per name).
/// </summary>
public sealed class StateDictMismatchException : Exception
{
    /// <summary>Creates the exception for a failed match.</summary>
    public StateDictMismatchException(StateDictMatch match)
        : base(match?.Report ?? throw new ArgumentNullException(nameof(match)))
    {
        Match = match;
    }

    /// <summary>Creates the exception with a default message.</summary>
    public StateDictMismatchException()
        : base("the state_dict does not match the model")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StateDictMismatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception behind it.</summary>
    public StateDictMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The comparison that failed, when the exception came from <see cref="StateDictMatch.Check"/>.</summary>
    public StateDictMatch? Match { get; }
}
