namespace Learn.Cli.CommandLine;

/// <summary>
/// One <c>--name VALUE</c> option (or a <c>--name</c> flag when <see cref="ValueName"/> is null) of a verb.
/// The parser checks presence and repetition; the verb converts the text through <see cref="ParsedArgs"/>.
/// </summary>
/// <param name="Name">With the dashes, e.g. <c>--stride</c>.</param>
/// <param name="ValueName">How help shows the value, e.g. <c>s|sh,sw</c>; null for a flag.</param>
/// <param name="Description">One line for help.</param>
/// <param name="Required">Missing is a usage error naming the option.</param>
/// <param name="Default">Shown in help; the verb applies it.</param>
internal sealed record OptionSpec(string Name, string? ValueName, string Description, bool Required = false, string? Default = null)
{
    /// <summary>True for a flag that takes no value.</summary>
    public bool IsFlag => ValueName is null;
}
