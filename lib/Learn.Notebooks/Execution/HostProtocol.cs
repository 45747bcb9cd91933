namespace Learn.Notebooks.Execution;

/// <summary>
/// The lines the child process writes to the anonymous pipe whose handle the parent passes as its last argument
/// (never its stdout, which a cell could write to), one JSON object per line:
/// <c>{"event":"ready"}</c> once the kernel is warm, <c>{"event":"start","cell":N}</c> before each code
/// cell, <c>{"event":"done","cell":N,"failed":bool,"line":L,"message":...,"outputs":[...]}</c> after it.
/// The cells' own Console output is captured as outputs; bytes a cell writes to the raw stdout are dropped.
/// </summary>
public static class HostProtocol
{
    /// <summary>The host's command-line verb.</summary>
    public const string Verb = "host";

    /// <summary>The host assembly's file name, expected beside this library.</summary>
    public const string HostAssembly = "Learn.Notebooks.Host.dll";
}
