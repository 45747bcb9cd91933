namespace Learn.Cli.CommandLine;

/// <summary>The process exit codes of <c>learn</c>; <see cref="Help"/> prints the same table.</summary>
internal static class ExitCode
{
    /// <summary>Success (for <c>compare</c> and <c>verify</c>: everything within tolerance).</summary>
    public const int Ok = 0;

    /// <summary>A data failure: a file that cannot be read or is malformed, tensors the operation refuses, results not close.</summary>
    public const int DataFailure = 1;

    /// <summary>A usage error: unknown verb or option, missing or malformed value.</summary>
    public const int Usage = 2;

    /// <summary>A bug in learn itself (BSD sysexits EX_SOFTWARE); the message says what was thrown.</summary>
    public const int InternalError = 70;

    /// <summary>The table printed by every --help.</summary>
    public const string Table =
        "Exit codes: 0 success; 1 data failure (unreadable or malformed file, shapes the operation refuses,\n" +
        "            results not within tolerance); 2 usage error (unknown verb or option, missing or bad value);\n" +
        "            70 internal error (a bug in learn: please report it).";
}
