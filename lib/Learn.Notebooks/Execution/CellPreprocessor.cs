using System.Text.RegularExpressions;

namespace Learn.Notebooks.Execution;

/// <summary>
/// Handles the lines the .NET Interactive C# kernel handles before Roslyn sees a cell
/// (PolyglotSyntaxParser/SubmissionParser): <c>#!csharp</c>/<c>#!c#</c>/<c>#!C#</c> selectors,
/// <c>#!markdown</c> as the first line, and <c>#r "nuget: Name, Version"</c>. Every other
/// <c>#!</c> magic and <c>#i</c> is refused. Only `learn notebooks export` uses it: a file-based app has no kernel, so
/// it can express only this subset (`learn notebooks run` executes cells in the real kernel instead).
/// </summary>
public static partial class CellPreprocessor
{
    [GeneratedRegex("^#r\\s+\"nuget:\\s*(?<name>[^,\"]*?)\\s*(,\\s*(?<version>[^\"]*?)\\s*)?\"\\s*$")]
    private static partial Regex NugetLine();

    [GeneratedRegex("^#r\\s+\"(?<path>[^\"]+)\"\\s*$")]
    private static partial Regex LibraryLine();

    private static readonly HashSet<string> ShippedLibraries = new(["Learn.dll", "Learn.Interactive.dll"], StringComparer.OrdinalIgnoreCase);

    private static readonly string[] CSharpSelectors = ["#!csharp", "#!c#", "#!C#"];

    /// <summary>Prepares <paramref name="source"/> for Roslyn.</summary>
    public static PreparedCell Prepare(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        string[] lines = source.Split('\n');
        if (lines[0].TrimEnd() == "#!markdown")
        {
            return new PreparedCell("", [], [], string.Join('\n', lines[1..]), null, 0);
        }

        var packages = new List<ShippedPackages.Package>();
        var learn = new List<(string, int)>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            string trimmed = line.TrimEnd();
            if (trimmed.StartsWith("#!", StringComparison.Ordinal))
            {
                if (CSharpSelectors.Contains(trimmed, StringComparer.Ordinal))
                {
                    lines[i] = "";
                    continue;
                }

                string magic = trimmed.Split(' ', 2)[0];
                string why = magic == "#!markdown"
                    ? "#!markdown is accepted only as the first line of a cell"
                    : $"the magic command {magic} is not supported by the learn runner (it accepts #!csharp and a first-line #!markdown only)";
                return Fail(why, i + 1);
            }

            if (trimmed.StartsWith("#i ", StringComparison.Ordinal) || trimmed == "#i")
            {
                return Fail("#i (package sources) is not supported by the learn runner: it restores no packages", i + 1);
            }

            if (LibraryLine().Match(trimmed) is { Success: true } lib
                && ShippedLibraries.Contains(Path.GetFileName(lib.Groups["path"].Value)))
            {
                // An exported app references the Learn library and its notebook extension as projects, not by path.
                learn.Add((lib.Groups["path"].Value, i + 1));
                lines[i] = "";
                continue;
            }

            if (trimmed.StartsWith("#r", StringComparison.Ordinal) && trimmed.Contains("\"nuget:", StringComparison.Ordinal))
            {
                var m = NugetLine().Match(trimmed);
                if (!m.Success)
                {
                    return Fail($"cannot read the package reference {trimmed} (expected #r \"nuget: Name, Version\")", i + 1);
                }

                string name = m.Groups["name"].Value;
                string version = m.Groups["version"].Value;
                if (!ShippedPackages.All.TryGetValue(name, out var package))
                {
                    return Fail($"{trimmed}: the learn runner cannot restore packages and does not ship {name} " +
                        $"(it ships {ShippedPackages.Describe()}; reference the Learn library with #r \"path/to/Learn.dll\")", i + 1);
                }

                if (version.Length > 0 && version != "*" && version != package.Version)
                {
                    return Fail($"{trimmed}: the learn runner ships {package.Name} {package.Version} only", i + 1);
                }

                packages.Add(package);
                lines[i] = "";
            }
        }

        return new PreparedCell(string.Join('\n', lines), packages, learn, null, null, 0);

        static PreparedCell Fail(string error, int line) => new("", [], [], null, error, line);
    }
}
