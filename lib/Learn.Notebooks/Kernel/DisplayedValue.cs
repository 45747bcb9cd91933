namespace Learn.Notebooks.Kernel;

/// <summary>A value shown with <c>display</c>; <see cref="Update"/> replaces the output in place, as in .NET Interactive.</summary>
public sealed class DisplayedValue
{
    private readonly int _handle;
    private readonly string[] _mimeTypes;

    internal DisplayedValue(int handle, string[] mimeTypes)
    {
        _handle = handle;
        _mimeTypes = mimeTypes;
    }

    /// <summary>Formats <paramref name="value"/> as before and replaces the displayed output with it.</summary>
    public void Update(object? value) =>
        NotebookOutput.Sink.Update(_handle, Formatter.Format(value, _mimeTypes));
}
