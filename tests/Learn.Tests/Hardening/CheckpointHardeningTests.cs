using System.IO.Compression;
using System.Text.Json;
using Learn.IO;
using Learn.Tensors;
using Learn.Tests.Cli;
using Learn.Tests.IO;

namespace Learn.Tests.Hardening;

/// <summary>
/// Issue 12, defects 3, 7, 9, 10 and 11 on the loaders: hostile checkpoints (made by PyTorch in
/// reference-weights/checkpoints/make_hostile.py, or crafted here) are refused with one line, exit 1, no output,
/// and a small peak memory, checked by running <c>learn</c> under a GC heap limit.
/// </summary>
[TestFixture]
public sealed class CheckpointHardeningTests : CliTestBase
{
    private static string Hostile(string file) => CheckpointFixtures.PathOf(Path.Combine("hostile", file));

    /// <summary>torch.zeros(1).expand(N) views: 774 and 908 bytes that used to cost 2.1 and ~26 GB.</summary>
    [TestCase("expand_536870912.pth", "views that repeat elements (expand, stride 0) are not supported")]
    [TestCase("expand3_2147483648.pth", "dimension 0 of size 2147483648 is too large")]
    [TestCase("duplicate_record.pth", "the zip archive holds the record 'single/data/0' 2 times")]
    public void Hostile_checkpoint_is_refused_under_a_small_heap(string file, string fragment)
    {
        string input = Save("x.npy", Tensor.Random(1, 1, 3, 32, 16));
        var (code, stdout, stderr) = HardeningProcess.Launch(Folder, "osnet", "--variant", "osnet_x0_25", "--weights", Hostile(file), "--input", input, "--output", P("y.npy"));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(1), stderr);
            Assert.That(stdout, Is.Empty);
            Assert.That(stderr.TrimEnd('\n').Split('\n'), Has.Length.EqualTo(1), stderr);
            Assert.That(stderr, Does.StartWith($"learn: {Hostile(file)}: ").And.Contain(fragment));
            Assert.That(File.Exists(P("y.npy")), Is.False);
        });
    }

    /// <summary>A 64 MiB storage record deflated to ~64 KiB: refused from the zip directory, before any inflation.</summary>
    [Test]
    public void Deflated_record_larger_than_the_file_is_refused_before_inflating()
    {
        string bomb = P("bomb.pth");
        File.Copy(CheckpointFixtures.PathOf("tiny_zip.pth"), bomb);
        using (ZipArchive zip = ZipFile.Open(bomb, ZipArchiveMode.Update))
        {
            using Stream s = zip.CreateEntry("tiny_zip/data/99", CompressionLevel.SmallestSize).Open();
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++)
            {
                s.Write(zeros);
            }
        }

        Assert.That(new FileInfo(bomb).Length, Is.LessThan(1 << 20));
        var (code, _, stderr) = HardeningProcess.Launch(Folder, "osnet", "--variant", "osnet_x0_25", "--weights", bomb, "--input", Save("x.npy", Tensor.Random(1, 1, 3, 32, 16)), "--output", P("y.npy"));
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stderr, Does.Contain("compressed checkpoints are not supported"));
        Assert.That(File.Exists(P("y.npy")), Is.False);
    }

    /// <summary>torch.load reads pickle protocol 1 (no PROTO opcode, INT/LONG text opcodes); so does the loader, bit for bit.</summary>
    [TestCase("tiny_protocol1_zip.pth")]
    [TestCase("tiny_protocol1_legacy.pth")]
    public void Pickle_protocol_1_is_read_as_torch_load_reads_it(string file)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Hostile("protocol1_expected.json")));
        var expected = doc.RootElement.EnumerateObject().Where(p => !p.Name.Contains(' ', StringComparison.Ordinal))
            .Select(p => (p.Name, new Tensor(
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                p.Value.GetProperty("bits").EnumerateArray().Select(e => BitConverter.UInt32BitsToSingle(e.GetUInt32())).ToArray())))
            .ToList();
        CheckpointFixtures.AssertBitwiseEqual(expected, Checkpoint.Load(Hostile(file)));
    }

    /// <summary>A safetensors tensor named "" once ended as an internal error (exit 70).</summary>
    [Test]
    public void Safetensors_tensor_with_an_empty_name_is_a_data_error()
    {
        string file = WriteSafeTensors("empty.safetensors", "");
        AssertOneLineError(Run("convert", file, P("out.safetensors")), 1, $"learn: {file}: ", "empty name");
        Assert.That(File.Exists(P("out.safetensors")), Is.False);
    }

    /// <summary>An escape sequence and a newline in a tensor name reach the terminal escaped: in a one-line error ...</summary>
    [Test]
    public void Control_characters_in_names_are_escaped_in_errors()
    {
        const string Evil = "w\u001b[31m\nlearn: all good";
        string file = WriteSafeTensors("evil.safetensors", Evil, [2, 2], dtype: "Q99");
        CliResult r = Run("convert", file, P("out.safetensors"));
        AssertOneLineError(r, 1, $"learn: {file}: ", "w\\x1b[31m\\nlearn: all good");
        Assert.That(r.Err, Does.Not.Contain("\u001b"));
    }

    /// <summary>... and in the mismatch report's list, where no line can be forged.</summary>
    [Test]
    public void Control_characters_in_names_are_escaped_in_the_mismatch_report()
    {
        string file = WriteSafeTensors("evil.safetensors", "w\u001b[31m\nlearn: all good", [2, 2]);
        CliResult r = Run("convert", file, P("out.safetensors"), "--variant", "osnet_x0_25");
        Assert.That(r.Code, Is.EqualTo(1), r.Err);
        Assert.That(r.Err, Does.Contain("w\\x1b[31m\\nlearn: all good").And.Not.Contain("\u001b"));
        Assert.That(r.ErrLines.Where(l => l.StartsWith("learn: all good", StringComparison.Ordinal)), Is.Empty);
        Assert.That(File.Exists(P("out.safetensors")), Is.False);
    }

    /// <summary>/dev/zero as --input once read 2 GB and ended as an internal error.</summary>
    [Test]
    public void Dev_zero_as_input_is_refused_at_once()
    {
        Assume.That(File.Exists("/dev/zero"), "needs /dev/zero");
        var (code, stdout, stderr) = HardeningProcess.Launch(Folder, "conv2d", "--input", "/dev/zero", "--weight", Save("w.npy", Tensor.Random(1, 1, 1, 3, 3)), "--output", P("y.npy"));
        Assert.That(code, Is.EqualTo(1), stderr);
        Assert.That(stdout, Is.Empty);
        Assert.That(stderr, Is.EqualTo("learn: /dev/zero: not an .npy file (missing the \\x93NUMPY magic)\n"));
    }

    /// <summary>A safetensors file with one float32 tensor called <paramref name="name"/> of zeros.</summary>
    private string WriteSafeTensors(string file, string name, int[]? shape = null, string dtype = "F32")
    {
        shape ??= [1];
        int dataBytes = 4 * shape.Aggregate(1, (a, b) => a * b);
        byte[] header = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            [name] = new { dtype, shape, data_offsets = new[] { 0, dataBytes } },
        });
        var all = new byte[8 + header.Length + dataBytes];
        BitConverter.TryWriteBytes(all.AsSpan(0, 8), (long)header.Length);
        header.CopyTo(all, 8);
        string path = P(file);
        File.WriteAllBytes(path, all);
        return path;
    }
}
