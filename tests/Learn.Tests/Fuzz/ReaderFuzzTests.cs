using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using Learn.IO;
using Learn.Tensors;
using Learn.Tests.IO;

namespace Learn.Tests.Fuzz;

/// <summary>
/// Property-based fuzzing (FsCheck) of the file readers, issue 12: valid files (.npy, safetensors, torch.save
/// zip and legacy, pickle protocol 1) mutated by byte flips, interesting values, truncations, insertions and
/// duplicated slices must either load or be refused with <see cref="InvalidDataException"/>; any other exception
/// is a defect. The budget is fixed: <see cref="Iterations"/> cases per reader (a few seconds in CI); set
/// LEARN_FUZZ_ITERATIONS to run longer locally. A failure prints the input as base64: save it as
/// Corpus/&lt;reader&gt;_&lt;name&gt;.bin and <see cref="Corpus_inputs_are_refused_cleanly"/> keeps it as a regression test.
/// </summary>
[TestFixture]
public sealed class ReaderFuzzTests
{
    private static int Iterations =>
        int.TryParse(Environment.GetEnvironmentVariable("LEARN_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 250;

    private static readonly Dictionary<string, Func<byte[], object>> Readers = new(StringComparer.Ordinal)
    {
        ["npy"] = bytes => Npy.Parse(bytes, "fuzz.npy"),
        ["safetensors"] = bytes => SafeTensors.Parse(bytes, "fuzz.safetensors"),
        ["pth"] = bytes =>
        {
            using var stream = new MemoryStream(bytes, writable: false);
            return TorchCheckpoint.Load(stream, "fuzz.pth");
        },
    };

    [TestCase("npy")]
    [TestCase("safetensors")]
    [TestCase("pth")]
    public void Mutated_files_load_or_are_refused_cleanly(string reader)
    {
        byte[][] seeds = Seeds(reader);
        Gen<byte[]> inputs =
            from seed in Gen.Elements(seeds)
            from count in Gen.Choose(1, 4)
            from mutations in Gen.ListOf(Mutation(), count)
            select mutations.Aggregate(seed, (bytes, mutate) => mutate(bytes));
        Prop.ForAll(inputs.ToArbitrary(), bytes => Survives(reader, bytes))
            .Check(FuzzRun.Config(Iterations));
    }

    /// <summary>Every saved crashing input, run through its reader: loaded or refused with InvalidDataException.</summary>
    [TestCaseSource(nameof(CorpusFiles))]
    public void Corpus_inputs_are_refused_cleanly(string file)
    {
        string reader = Path.GetFileName(file).Split('_')[0];
        Assert.That(Readers.ContainsKey(reader), $"corpus file {file} must start with one of {string.Join(", ", Readers.Keys)}");
        Survives(reader, File.ReadAllBytes(file));
    }

    public static IEnumerable<TestCaseData> CorpusFiles()
    {
        string folder = Path.Combine(NpyTests.DataFolder, "..", "..", "Fuzz", "Corpus");
        return Directory.GetFiles(folder, "*.bin").Order(StringComparer.Ordinal).Select(f => new TestCaseData(f).SetName("fuzz corpus: " + Path.GetFileName(f)));
    }

    private static void Survives(string reader, byte[] bytes)
    {
        try
        {
            Readers[reader](bytes);
        }
        catch (InvalidDataException)
        {
            // a clean refusal
        }
        catch (Exception e)
        {
            Assert.Fail($"{reader} reader threw {e.GetType().Name}: {e.Message}\ninput (base64): {Convert.ToBase64String(bytes)}");
        }
    }

    private static byte[][] Seeds(string reader) => reader switch
    {
        "npy" => [Npy.Serialize(Tensor.Random(1, 2, 3)), Npy.Serialize(Tensor.Random(2, 5)), File.ReadAllBytes(Path.Combine(NpyTests.DataFolder, "f8_2x2.npy"))],
        "safetensors" => [CheckpointFixtures.Bytes("tiny.safetensors"), CheckpointFixtures.Bytes("dtypes.safetensors")],
        _ => [CheckpointFixtures.Bytes("tiny_zip.pth"), CheckpointFixtures.Bytes("tiny_legacy.pth"), CheckpointFixtures.Bytes("views_dtypes_zip.pth"),
            CheckpointFixtures.Bytes(Path.Combine("hostile", "tiny_protocol1_legacy.pth")), CheckpointFixtures.Bytes(Path.Combine("hostile", "tiny_protocol1_zip.pth"))],
    };

    /// <summary>One mutation, applied to a copy: a flipped bit, an interesting byte, a truncation, inserted bytes or a duplicated slice.</summary>
    private static Gen<Func<byte[], byte[]>> Mutation() => Gen.OneOf(
        from at in Gen.Choose(0, int.MaxValue)
        from bit in Gen.Choose(0, 7)
        select (Func<byte[], byte[]>)(b => Edit(b, c => c[at % c.Length] ^= (byte)(1 << bit))),
        from at in Gen.Choose(0, int.MaxValue)
        from value in Gen.Elements<byte>(0, 1, 0x7f, 0x80, 0xff, (byte)'\n', (byte)'.', (byte)'(', (byte)'}', (byte)',')
        select (Func<byte[], byte[]>)(b => Edit(b, c => c[at % c.Length] = value)),
        from at in Gen.Choose(0, int.MaxValue)
        select (Func<byte[], byte[]>)(b => b.Length == 0 ? b : b[..(at % b.Length)]),
        from at in Gen.Choose(0, int.MaxValue)
        from count in Gen.Choose(1, 8)
        from extra in Gen.ArrayOf(Gen.Choose(0, 255).Select(v => (byte)v), count)
        select (Func<byte[], byte[]>)(b => [.. b[..(b.Length == 0 ? 0 : at % b.Length)], .. extra, .. b[(b.Length == 0 ? 0 : at % b.Length)..]]),
        from at in Gen.Choose(0, int.MaxValue)
        from length in Gen.Choose(1, 64)
        select (Func<byte[], byte[]>)(b =>
        {
            if (b.Length == 0)
            {
                return b;
            }

            int start = at % b.Length, end = Math.Min(b.Length, start + length);
            return [.. b[..end], .. b[start..end], .. b[end..]];
        }));

    private static byte[] Edit(byte[] bytes, Action<byte[]> edit)
    {
        if (bytes.Length == 0)
        {
            return bytes;
        }

        byte[] copy = (byte[])bytes.Clone();
        edit(copy);
        return copy;
    }
}
