using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Learn.IO;
using Learn.Tensors;
using Learn.Verification;
using NUnit.Framework;

namespace Learn.Tests.Cli;

/// <summary><c>learn verify</c> on the committed fixtures (reference-weights/ and its osnet/), and its argument errors.</summary>
[TestFixture]
public sealed class VerifyCommandTests : CliTestBase
{
    [Test]
    public void Committed_fixtures_all_pass()
    {
        string folder = Learn.Verification.FixtureSuite.FindDefaultDirectory()
            ?? RepositoryFolder("reference-weights");
        CliResult r = Run("verify", "--fixtures", folder);
        Assert.That(r.Code, Is.Zero, r.Out + r.Err);
        Assert.That(r.Err, Is.Empty);
        var suite = FixtureSuite.Load(folder);
        foreach (var c in suite.Cases)
        {
            Assert.That(r.Out, Does.Match($@"\n{Regex.Escape(c.Name)} .* OK\n"), c.Name);
        }

        // Every OSNet stage of every variant, with the golden tests' K (the model's longest reduction path).
        var osnet = OSNetFixtureSuite.Load(Path.Combine(folder, "osnet"));
        Assert.That(osnet.Variants, Is.EquivalentTo(Learn.Models.OSNet.VariantNames));
        Assert.That(osnet.Cases.Count(c => c.Stage == "conv5"), Is.EqualTo(5));
        foreach (var c in osnet.Cases)
        {
            Assert.That(r.Out, Does.Match($@"\n{Regex.Escape(c.Name)} +osnet +{c.ReductionLength} .* OK\n"), c.Name);
        }

        Assert.That(r.Out, Does.Contain($"\ncovers: {suite.Cases.Count} operator cases (manifest.json), {osnet.Cases.Count} OSNet stage cases"));
        Assert.That(r.Out, Does.EndWith($"all {suite.Cases.Count + osnet.Cases.Count} cases within tolerance\n"));
    }

    [Test]
    public void A_wrong_osnet_stage_value_is_a_fail_row_naming_the_stage()
    {
        // One variant (the small one) in a copy of the fixtures, one value of its conv2 output moved by 1 (its
        // tolerance is about 1.1e-3 * (1 + |e|)): that row fails, the other rows of the variant and the operators pass.
        string folder = OsnetCopy(manifest =>
        {
            var variants = manifest["variants"]!.AsObject();
            foreach (string name in variants.Select(p => p.Key).Where(n => n != "osnet_x0_25").ToList())
            {
                variants.Remove(name);
            }
        });
        string conv2 = Path.Combine(folder, "osnet", "osnet_x0_25", "conv2.npy");
        Tensor t = Npy.Read(conv2);
        t.Data[1234] += 1f;
        Npy.Write(conv2, t);

        CliResult r = Run("verify", "--fixtures", folder);
        Assert.That(r.Code, Is.EqualTo(1), r.Out + r.Err);
        Assert.That(r.Out, Does.Match(@"\nosnet_x0_25/conv2 +osnet +\d+ .* FAIL \(1 of 65536 outside; worst at \(0, 2, 13, 2\)\)\n"));
        Assert.That(r.Out, Does.Match(@"\nosnet_x0_25/conv3 +osnet +\d+ .* OK\n"));
        Assert.That(r.Out, Does.EndWith("1 of 115 cases FAIL: osnet_x0_25/conv2\n"));
    }

    [Test]
    public void A_malformed_osnet_manifest_is_a_one_line_data_failure_naming_it()
    {
        string folder = OsnetCopy(manifest => manifest["variants"]!["osnet_x0_25"]!["stages"]!["conv2"]!["file"] = "../../../etc/passwd");
        CliResult r = Run("verify", "--fixtures", folder);
        AssertOneLineError(r, 1, $"learn: {Path.Combine(folder, "osnet", "manifest.json")}: variant 'osnet_x0_25': stage 'conv2': " +
            "file '../../../etc/passwd' is not inside ");
    }

    [Test]
    public void Without_osnet_fixtures_the_header_says_so()
    {
        string folder = OsnetCopy(null);
        Directory.Delete(Path.Combine(folder, "osnet"), recursive: true);
        CliResult r = Run("verify", "--fixtures", folder);
        Assert.That(r.Code, Is.Zero, r.Out + r.Err);
        Assert.That(r.Out, Does.Contain("\ncovers: 105 operator cases (manifest.json); no osnet/manifest.json, so no OSNet stage cases\n"));
    }

    [Test]
    public void Missing_folder_is_named()
    {
        AssertOneLineError(Run("verify", "--fixtures", P("nowhere")), 1, $"learn: {P("nowhere")}: no such folder");
    }

    [Test]
    public void Folder_without_a_manifest_is_a_one_line_data_failure()
    {
        CliResult r = Run("verify", "--fixtures", Folder);
        AssertOneLineError(r, 1, "learn: ");
    }

    [Test]
    public void Unknown_implementation_is_a_usage_error()
    {
        AssertOneLineError(Run("verify", "--impl", "slow"), 2, "learn: --impl: must be one of naive, fast, got 'slow'");
    }

    // A copy of reference-weights in the test folder: the operator fixtures linked, osnet/ copied (its .npy
    // files, not the checkpoints) with the manifest changed by edit.
    private string OsnetCopy(Action<JsonNode>? edit)
    {
        string source = RepositoryFolder("reference-weights");
        string folder = P("reference-weights");
        Directory.CreateDirectory(folder);
        foreach (string entry in Directory.EnumerateFileSystemEntries(source).Where(e => Path.GetFileName(e) != "osnet"))
        {
            File.CreateSymbolicLink(Path.Combine(folder, Path.GetFileName(entry)), entry);
        }

        string osnetSource = Path.Combine(source, "osnet"), osnet = Path.Combine(folder, "osnet");
        foreach (string file in Directory.EnumerateFiles(osnetSource, "*.npy", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}weights{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            string target = Path.Combine(osnet, Path.GetRelativePath(osnetSource, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        JsonNode manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(osnetSource, "manifest.json")))!;
        edit?.Invoke(manifest);
        File.WriteAllText(Path.Combine(osnet, "manifest.json"), manifest.ToJsonString());
        return folder;
    }

    private static string RepositoryFolder(string name)
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, name)))
            {
                return Path.Combine(dir.FullName, name);
            }
        }

        throw new DirectoryNotFoundException(name);
    }
}
