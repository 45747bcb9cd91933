namespace Learn.Notebooks.Execution;

/// <summary>
/// The lines the child process writes to its real stdout, one JSON object per line:
/// <c>{"event":"ready"}</c> once Roslyn is warm, <c>{"event":"start","cell":N}</c> before each code
/// cell, <c>{"event":"done","cell":N,"failed":bool,"line":L,"message":...,"outputs":[...]}</c> after it.
/// The cells' own Console output is captured, so it never mixes with these lines.
/// </summary>
public static class HostProtocol
{
    /// <summary>The host's command-line verb.</summary>
    public const string Verb = "host";

    /// <summary>The host assembly's file name, expected beside this library.</summary>
    public const string HostAssembly = "Learn.Notebooks.Host.dll";
}
