using System.Text.RegularExpressions;

namespace Learn.Tests.Cli;

/// <summary>
/// The README's porting walkthrough, run verbatim: every <c>learn</c> line of the section's sh blocks, in order,
/// with repository paths resolved from the repository root and every other path in a fresh folder (as if run
/// from the root of a clean checkout). The walkthrough must find the divergence planted in the catalogue port it
/// names, with and without error propagation.
/// </summary>
[TestFixture]
[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed partial class PortWalkthroughTests : CliTestBase
{
    private static readonly string[] NonPathOptions = ["--variant", "--impl", "--atol", "--rtol"];

    public static string Section()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        int start = readme.IndexOf("## Porting OSNet elsewhere", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "the README has the porting section");
        int end = readme.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
        return readme[start..(end < 0 ? readme.Length : end)];
    }

    public static List<string> Commands() =>
        ShBlock().Matches(Section()).SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Select(l => l.Trim())
            .Where(l => l.StartsWith("learn ", StringComparison.Ordinal))
            .ToList();

    [Test]
    public void The_walkthrough_runs_verbatim_and_finds_the_planted_divergence()
    {
        List<string> commands = Commands();
        Assert.That(commands, Has.Count.GreaterThanOrEqualTo(3), "dump, diff, diff with the weights");
        string root = RepositoryRoot();
        var outputs = new List<CliResult>();
        foreach (string command in commands)
        {
            string[] tokens = command.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            for (int i = 1; i < tokens.Length; i++)
            {
                if (tokens[i].StartsWith('-') || NonPathOptions.Contains(tokens[i - 1]))
                {
                    continue;
                }

                string inRepo = Path.Combine(root, tokens[i]);
                tokens[i] = File.Exists(inRepo) || Directory.Exists(inRepo) ? inRepo : Path.Combine(Folder, tokens[i]);
            }

            CliResult r = Run(tokens);
            TestContext.Out.WriteLine($"$ {command}\n{r.Out}{r.Err}(exit {r.Code})");
            Assert.That(r.Err, Is.Empty, command);
            Assert.That(r.Code, Is.EqualTo(tokens[0] == "diff" ? 1 : 0), command);
            outputs.Add(r);
        }

        const string planted = "conv3.0.conv2b.1.bn";
        Assert.That(outputs.Where(o => o.Out.Contains("with error propagation: ", StringComparison.Ordinal)).All(o => o.Out.Contains($"the first is {planted}: ", StringComparison.Ordinal)));
        Assert.That(outputs.Any(o => o.Out.Contains($"without error propagation: the error is introduced at {planted} ", StringComparison.Ordinal)));
        Assert.That(File.ReadAllText(P("report.html")), Does.Contain("first divergence at <code>" + planted));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "README.md")) && Directory.Exists(Path.Combine(dir.FullName, "reference-weights")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (README.md beside reference-weights/) is not above the test directory");
    }

    [GeneratedRegex("```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShBlock();
}
