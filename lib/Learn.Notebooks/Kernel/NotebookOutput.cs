namespace Learn.Notebooks.Kernel;

/// <summary>The process-wide display sink (one notebook per process, as the runner guarantees).</summary>
public static class NotebookOutput
{
    private static IDisplaySink _sink = new ConsoleSink();

    /// <summary>The sink that <c>display</c>/<c>Display</c> write to; the runner's host replaces it.</summary>
    public static IDisplaySink Sink
    {
        get => _sink;
        set => _sink = value ?? throw new ArgumentNullException(nameof(value));
    }
}
