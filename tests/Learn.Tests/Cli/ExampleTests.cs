using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary>
/// Every example a user is shown runs as written: the <c>Example: learn ...</c> lines of every <c>--help</c> and
/// every <c>learn ...</c> line in the README's <c>sh</c> blocks. Each runs as a process in a fresh folder that holds
/// the small files the example names (made here: random tensors of fitting shapes, the committed OSNet x0_25
/// checkpoint as model.pth, the sample lesson), and must exit 0.
/// </summary>
[TestFixture]
public sealed class ExampleTests : CliTestBase
{
    private static readonly string Root = FindRoot();

    [TestCaseSource(nameof(HelpExamples))]
    public void Help_example_runs(string example) => RunExample(example);

    [TestCaseSource(nameof(ReadmeExamples))]
    public void Readme_example_runs(string example) => RunExample(example);

    [Test]
    public void Examples_are_found()
    {
        // The parsers below must keep seeing the examples, or the tests above would pass on nothing.
        Assert.That(HelpExamples().ToList(), Has.Count.GreaterThanOrEqualTo(5));
        Assert.That(ReadmeExamples().ToList(), Does.Contain("learn conv2d --input x.npy --weight w.npy --stride 2,1 --padding 1 --groups 4 --output y.npy"));
    }

    /// <summary>
    /// The <c>Example: learn ...</c> lines of every verb's and sub-verb's help, each with its indented continuation
    /// lines.
    /// </summary>
    public static IEnumerable<string> HelpExamples()
    {
        foreach (var verb in CommandLineTests.AllVerbs(Learn.Cli.Cli.Verbs, "learn"))
        {
            string? example = null;
            foreach (string raw in (verb.Verb.Description ?? "").Split('\n'))
            {
                if (example is not null && raw.StartsWith(' '))
                {
                    example += " " + raw.Trim();
                    continue;
                }

                if (example is not null)
                {
                    yield return example;
                }

                string line = raw.Trim();
                example = line.StartsWith("Example: learn ", StringComparison.Ordinal) ? line["Example: ".Length..] : null;
            }

            if (example is not null)
            {
                yield return example;
            }
        }
    }

    /// <summary>
    /// The <c>learn ...</c> lines of the README's <c>sh</c> blocks, without their trailing comments; except the
    /// porting walkthrough's, which run in order with their own exit codes in <c>PortWalkthroughTests</c>.
    /// </summary>
    public static IEnumerable<string> ReadmeExamples()
    {
        bool inShell = false, inWalkthrough = false;
        foreach (string raw in File.ReadAllLines(Path.Combine(Root, "README.md")))
        {
            string line = raw.Trim();
            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                inWalkthrough = line.StartsWith("## Porting OSNet", StringComparison.Ordinal);
            }

            if (inWalkthrough)
            {
                continue;
            }

            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inShell = !inShell && line == "```sh";
                continue;
            }

            if (inShell && line.StartsWith("learn ", StringComparison.Ordinal))
            {
                int comment = line.IndexOf(" #", StringComparison.Ordinal);
                yield return (comment < 0 ? line : line[..comment]).Trim();
            }
        }
    }

    private void RunExample(string example)
    {
        string[] words = example.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
        MakeFilesFor(words);
        (int code, string stdout, string stderr) = Launch(words);
        Assert.That(code, Is.Zero, $"{example}\nstdout: {stdout}\nstderr: {stderr}");
        Assert.That(stderr, Is.Empty, example);
    }

    // The files an example names, with shapes that fit its options.
    private void MakeFilesFor(string[] words)
    {
        switch (words[0])
        {
            case "conv2d":
                Save("x.npy", Tensor.Random(1, 1, 8, 9, 9));
                Save("w.npy", Tensor.Random(2, 8, 2, 3, 3));
                break;
            case "conv2d-backward":
                Save("x.npy", Tensor.Random(5, 1, 4, 9, 9));
                Save("w.npy", Tensor.Random(6, 6, 4, 3, 3));
                Save("g.npy", Tensor.Random(7, 1, 6, 5, 5)); // the output of a 3x3 conv with stride 2, padding 1 on 9x9
                break;
            case "compare":
                Save("y.npy", Tensor.Random(3, 2, 3));
                break;
            case "osnet" or "diff":
                Save("x.npy", Tensor.Random(4, 1, 3, 64, 32));
                File.Copy(Path.Combine(Root, "reference-weights", "osnet", "osnet_x0_25.pth"), P("model.pth"));
                if (words[0] == "diff")
                {
                    Assert.That(Launch(["osnet", "--variant", "osnet_x0_25", "--weights", "model.pth", "--input", "x.npy", "--output", "ref.npy", "--activations", "ref"]).Code, Is.Zero);
                    CopyFolder(P("ref"), P("mine"));
                }

                break;
            case "notebooks":
                // The lessons reference ../lib/Learn.Interactive/bin/Release/net10.0/: link the checkout's lib/ beside them.
                Directory.CreateDirectory(P("notebooks"));
                File.Copy(Path.Combine(Root, "notebooks", "00-sample.ipynb"), P(Path.Combine("notebooks", "00-sample.ipynb")));
                Directory.CreateSymbolicLink(P("lib"), Path.Combine(Root, "lib"));
                break;
        }
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private (int Code, string Out, string Err) Launch(string[] args)
    {
        string dll = Path.Combine(TestContext.CurrentContext.TestDirectory, "Learn.Cli.dll");
        return PackagingTests.Launch(Folder, "dotnet", ["exec", dll, .. args]);
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Learn.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Learn.sln not found above the test folder");
    }
}
