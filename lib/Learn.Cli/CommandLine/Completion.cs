namespace Learn.Cli.CommandLine;

/// <summary>
/// <c>learn completion bash|zsh</c>: a shell function that asks <c>learn</c> itself for completions through
/// System.CommandLine's <c>[suggest:POSITION]</c> directive, so the completions always match the installed verbs.
/// (System.CommandLine's other route, the dotnet-suggest global tool, is not served by this project's registry.)
/// </summary>
internal static class Completion
{
    private const string Bash =
        "# learn: shell completion (System.CommandLine [suggest] directive). Load with: source <(learn completion bash)\n" +
        "_learn_complete() {\n" +
        "  local IFS=$'\\n' line=\"${COMP_LINE#* }\"\n" +
        "  local point=$((COMP_POINT - ${#COMP_LINE} + ${#line}))\n" +
        "  COMPREPLY=( $(compgen -W \"$(learn \"[suggest:${point}]\" \"${line}\" 2>/dev/null)\" -- \"${COMP_WORDS[COMP_CWORD]}\") )\n" +
        "}\n" +
        "complete -o default -F _learn_complete learn\n";

    private const string Zsh =
        "# learn: shell completion (System.CommandLine [suggest] directive). Load with: source <(learn completion zsh)\n" +
        "_learn_complete() {\n" +
        "  local -a completions\n" +
        "  local line=\"${BUFFER#* }\"\n" +
        "  local point=$((CURSOR - ${#BUFFER} + ${#line}))\n" +
        "  completions=(${(f)\"$(learn \"[suggest:${point}]\" \"${line}\" 2>/dev/null)\"})\n" +
        "  compadd -a completions\n" +
        "}\n" +
        "compdef _learn_complete learn\n";

    /// <summary>The verb's usage, for help and errors.</summary>
    public const string Usage = "learn completion bash|zsh";

    /// <summary>Writes the script for the shell named in <paramref name="words"/>.</summary>
    public static int Write(string[] words, TextWriter stdout)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(stdout);
        if (words is ["-h" or "--help"])
        {
            stdout.Write(
                $"Usage: {Usage}\n\nPrints a completion script for the shell; load it in the shell's start-up file:\n" +
                "  bash: source <(learn completion bash)      zsh: source <(learn completion zsh)\n" +
                "It asks learn for completions with System.CommandLine's [suggest:POSITION] directive, e.g.\n" +
                "learn \"[suggest:3]\" \"con\" prints conv2d and convert.\n\n" + ExitCode.Table + "\n");
            return ExitCode.Ok;
        }

        stdout.Write(words switch
        {
            ["bash"] => Bash,
            ["zsh"] => Zsh,
            [] => throw CliError.Usage(null, $"missing shell: {Usage}"),
            [string shell] => throw CliError.Usage(shell, $"unknown shell; {Usage}"),
            _ => throw CliError.Usage(words[1], $"unexpected argument; {Usage}"),
        });
        return ExitCode.Ok;
    }
}
