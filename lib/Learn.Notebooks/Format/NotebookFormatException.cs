namespace Learn.Notebooks.Format;

/// <summary>A notebook file that cannot be read: invalid JSON or a structure the runner cannot use.</summary>
public sealed class NotebookFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public NotebookFormatException()
    {
    }

    /// <summary>Creates the exception with a one-line message naming the file and the problem.</summary>
    public NotebookFormatException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public NotebookFormatException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
