namespace Learn.Cli.CommandLine;

/// <summary>A positional argument of a verb, e.g. <c>A.npy</c>; a variadic one takes every remaining positional.</summary>
/// <param name="Name">How usage and errors show it.</param>
/// <param name="Description">One line for help.</param>
/// <param name="Optional">May be absent (only the last arguments can be optional).</param>
/// <param name="Variadic">Takes all remaining positionals (the last argument only).</param>
internal sealed record ArgumentSpec(string Name, string Description, bool Optional = false, bool Variadic = false);
