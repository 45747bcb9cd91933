using System.Buffers.Binary;
using System.Text;
using Learn.IO;
using Learn.Tensors;
using static Learn.Tests.IO.CheckpointFixtures;

namespace Learn.Tests.IO;

/// <summary>safetensors files written by the pure-Python writer of make_checkpoints.py, and by Learn.</summary>
public class SafeTensorsTests
{
    private static readonly Dictionary<string, string> LearnMetadata = new() { ["format"] = "pt", ["source"] = "Learn" };

    private string _folder = null!;

    [SetUp]
    public void MakeFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "learn-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void RemoveFolder() => Directory.Delete(_folder, recursive: true);

    [Test]
    public void The_python_written_file_reads_bitwise_with_its_metadata()
    {
        AssertBitwiseEqual(Expected("tiny"), SafeTensors.Read(PathOf("tiny.safetensors")));
        Assert.That(SafeTensors.ReadMetadata(PathOf("tiny.safetensors")), Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt" }));
    }

    [Test]
    public void F64_F16_BF16_and_I64_convert_like_pytorch_float()
    {
        var all = Expected("views_dtypes").ToDictionary(e => e.Name, e => e.Tensor);
        AssertBitwiseEqual([("double", all["double"]), ("half", all["half"]), ("long", all["long"])], SafeTensors.Read(PathOf("dtypes.safetensors")));
        AssertBitwiseEqual([("bfloat16", all["bfloat16"])], SafeTensors.Read(PathOf("bfloat16.safetensors")));
        Assert.That(SafeTensors.ReadMetadata(PathOf("dtypes.safetensors")), Is.Empty);
    }

    [Test]
    public void Learns_writer_output_is_the_committed_file_the_python_reader_checked()
    {
        // make_checkpoints.py reads written_by_learn.safetensors with its own reader and checks every bit;
        // this keeps that file equal to what the writer produces today.
        StateDict tiny = TorchCheckpoint.Load(PathOf("tiny_zip.pth"));
        byte[] written = SafeTensors.Serialize(tiny, LearnMetadata);
        Assert.That(written, Is.EqualTo(Bytes("written_by_learn.safetensors")),
            "the writer changed: run the explicit test Regenerate_written_by_learn, then make_checkpoints.py to re-check it");
    }

    [Test]
    [Explicit("Rewrites reference-weights/checkpoints/written_by_learn.safetensors")]
    public void Regenerate_written_by_learn() =>
        SafeTensors.Write(PathOf("written_by_learn.safetensors"), TorchCheckpoint.Load(PathOf("tiny_zip.pth")), LearnMetadata);

    [Test]
    public void Write_then_read_gives_back_every_bit_and_the_order()
    {
        var original = new StateDict
        {
            { "z.last.first", Tensor.Random(1, 3, 2, 5) },
            { "scalar", new Tensor([], [float.Epsilon]) },
            { "empty", Tensor.Zeros(0, 4) },
            { "special", new Tensor([6], [float.NaN, BitConverter.UInt32BitsToSingle(0x7fc01234), float.NegativeInfinity, -0f, 1e-45f, float.MaxValue]) },
            { "naïve/ключ", Tensor.Random(2, 7) },
        };
        string file = Path.Combine(_folder, "w.safetensors");
        SafeTensors.Write(file, original, new Dictionary<string, string> { ["note"] = "ü \"quoted\"" });
        AssertBitwiseEqual(original.Select(kv => (kv.Key, kv.Value)).ToList(), SafeTensors.Read(file));
        Assert.That(SafeTensors.ReadMetadata(file)["note"], Is.EqualTo("ü \"quoted\""));
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(File.ReadAllBytes(file)) % 8, Is.Zero, "header padded to 8 bytes");
    }

    [Test]
    public void A_failed_write_leaves_neither_a_partial_file_nor_a_temporary_one()
    {
        string file = Path.Combine(_folder, "w.safetensors");
        File.WriteAllText(file, "previous");
        var bad = new StateDict { { "ok", Tensor.Zeros(2) }, { "__metadata__", Tensor.Zeros(1) } };
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(file, bad));
        Assert.That(File.ReadAllText(file), Is.EqualTo("previous"));
        Assert.That(Directory.GetFiles(_folder), Is.EqualTo(new[] { file }));

        string nowhere = Path.Combine(_folder, "missing-folder", "w.safetensors");
        Assert.Throws<DirectoryNotFoundException>(() => SafeTensors.Write(nowhere, new StateDict { { "a", Tensor.Zeros(1) } }));
        Assert.That(Directory.GetFiles(_folder), Is.EqualTo(new[] { file }));
    }

    // ---- malformed files ------------------------------------------------------------------------

    private static byte[] MakeFile(string header, int dataBytes) => MakeFile(header, new byte[dataBytes]);

    private static byte[] MakeFile(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private static string ErrorOf(byte[] bytes) =>
        Assert.Throws<InvalidDataException>(() => SafeTensors.Parse(bytes, "m.safetensors"))!.Message;

    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [TestCase("{" + A + "}", 12, "the file has 4 bytes after the last tensor")]
    [TestCase("{" + A + "}", 4, "the tensors need 8 data bytes but the file has 4 (truncated file)")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}", 12, "tensor 'a' has shape [2, 2] of F32 (16 bytes) but data_offsets [0, 12] hold 12 bytes")]
    [TestCase("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "tensor 'b' (bytes 4..8) overlaps the tensor before it (which ends at 8)")]
    [TestCase("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "tensor 'b' begins at byte 12, leaving a hole after byte 8")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "tensor 'a' begins at byte 4, leaving a hole after byte 0")]
    [TestCase("{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "tensor 'a' has dtype 'C64'; supported are F32, F64, F16, BF16 and the integer/bool types")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "tensor 'a' has shape [-1], which is not a list of non-negative integers")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "tensor 'a' has shape [1.5], which is not a list of non-negative integers")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", 4, "tensor 'a': shape [65536, 65536] has more elements than one array can hold")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "tensor 'a' has data_offsets [4,0], not [begin, end] with 0 <= begin <= end")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 4, "tensor 'a' has data_offsets [0,4,8], not [begin, end]")]
    [TestCase("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a' needs a string 'dtype' and arrays 'shape' and 'data_offsets'")]
    [TestCase("{\"a\":[1,2]}", 0, "tensor 'a' needs a string 'dtype'")]
    [TestCase("{" + A + "," + A + "}", 8, "the header names 'a' twice")]
    [TestCase("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ entry 'k' is a JSON Number, not a string")]
    [TestCase("{\"__metadata__\":[]}", 0, "__metadata__ is a JSON Array, not an object of strings")]
    [TestCase("[1, 2]", 0, "the header is a JSON Array, not an object")]
    [TestCase("{\"a\": ", 0, "the header is not valid JSON")]
    public void A_malformed_header_is_named(string header, int dataBytes, string problem)
    {
        Assert.That(ErrorOf(MakeFile(header, dataBytes)), Does.StartWith("m.safetensors: " + problem));
    }

    [Test]
    public void Lying_header_lengths_are_caught()
    {
        Assert.That(ErrorOf([1, 2, 3]), Is.EqualTo("m.safetensors: the file has 3 bytes, too few for the 8-byte header length"));
        byte[] bytes = MakeFile("{}", 0);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        Assert.That(ErrorOf(bytes), Does.StartWith($"m.safetensors: header length {ulong.MaxValue} exceeds the 2 bytes that follow it"));
    }

    [Test]
    public void Invalid_utf8_in_the_header_is_a_clear_error()
    {
        byte[] bytes = MakeFile("{\"a\":{}}", 0);
        bytes[10] = 0xff; // inside the name "a"
        Assert.That(ErrorOf(bytes), Does.StartWith("m.safetensors: the header is not valid JSON"));
    }

    [Test]
    public void Every_truncation_of_a_real_file_gives_one_clear_error()
    {
        byte[] whole = Bytes("tiny.safetensors");
        for (int length = 0; length < whole.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Parse(whole.AsSpan(0, length), "t.safetensors"), $"truncated to {length}");
            Assert.That(e!.Message, Does.StartWith("t.safetensors: "));
        }
    }

    [Test]
    public void Random_corruption_of_the_header_never_escapes_as_another_exception()
    {
        byte[] whole = Bytes("tiny.safetensors");
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(whole);
        var random = new Random(7);
        for (int trial = 0; trial < 2000; trial++)
        {
            byte[] damaged = (byte[])whole.Clone();
            damaged[random.Next(headerEnd)] = (byte)random.Next(256);
            try
            {
                SafeTensors.Parse(damaged, "t.safetensors");
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.StartWith("t.safetensors: "));
            }
        }
    }

    [Test]
    public void A_missing_file_is_named()
    {
        string missing = Path.Combine(_folder, "none.safetensors");
        Assert.That(Assert.Throws<InvalidDataException>(() => SafeTensors.Read(missing))!.Message, Does.StartWith(missing + ": cannot read"));
    }
}
