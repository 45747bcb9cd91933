using System.IO.Compression;
using Learn.IO;
using static Learn.Tests.IO.CheckpointFixtures;

namespace Learn.Tests.IO;

/// <summary>torch.save files written by PyTorch 1.13 (make_checkpoints.py), read back bit for bit.</summary>
public class TorchCheckpointTests
{
    private const string NothingExecuted = "nothing from the file was executed";

    [TestCase("tiny_zip.pth")]
    [TestCase("tiny_legacy.pth")]
    [TestCase("tiny_zip_protocol4.pth")]
    [TestCase("tiny_nested_module_zip.pth")]
    [TestCase("tiny_nested_model_legacy.pth")]
    [TestCase("training_torchreid_zip.pth")]
    [TestCase("training_torchreid_legacy.pth")]
    public void Tiny_state_dict_loads_bitwise_with_prefixes_stripped_and_counters_dropped(string file)
    {
        StateDict loaded = TorchCheckpoint.Load(PathOf(file));
        AssertBitwiseEqual(Expected("tiny"), loaded);
        Assert.That(loaded.Names, Has.None.Contains("num_batches_tracked"));
    }

    [TestCase("views_dtypes_zip.pth")]
    [TestCase("views_dtypes_legacy.pth")]
    public void Views_and_other_dtypes_come_out_as_pytorch_float_contiguous(string file)
    {
        // transposed, sliced with an offset, stride-0 expand, 0-d, empty, float16 (with inf, -0, subnormal),
        // float64 (rounding, overflow to inf, NaN), bfloat16 and int64 - against PyTorch's .float().contiguous().
        AssertBitwiseEqual(Expected("views_dtypes"), TorchCheckpoint.Load(PathOf(file)));
    }

    [Test]
    public void Loading_from_a_non_seekable_stream_gives_the_same_tensors()
    {
        using var stream = new ForwardOnlyStream(Bytes("tiny_zip.pth"));
        AssertBitwiseEqual(Expected("tiny"), TorchCheckpoint.Load(stream, "tiny_zip.pth"));
    }

    [Test]
    public void A_zip_whose_folder_is_called_archive_loads_too()
    {
        // PyTorch 2 names the folder 'archive' and may add a 'byteorder' record.
        byte[] renamed = RewriteZip(Bytes("tiny_zip.pth"), (entryName, data) => [("archive/" + entryName[(entryName.IndexOf('/') + 1)..], data)],
            extra: [("archive/byteorder", "little"u8.ToArray())]);
        AssertBitwiseEqual(Expected("tiny"), TorchCheckpoint.Load(new MemoryStream(renamed), "renamed.pth"));
    }

    [Test]
    public void A_big_endian_zip_is_byte_swapped()
    {
        // The float32 records byte-reversed per element, as PyTorch 2 writes them on a big-endian machine.
        byte[] big = RewriteZip(Bytes("tiny_zip.pth"), (entryName, data) =>
        {
            if (entryName.Contains("/data/", StringComparison.Ordinal))
            {
                data = (byte[])data.Clone();
                for (int i = 0; i < data.Length; i += 4)
                {
                    Array.Reverse(data, i, 4);
                }
            }

            return [(entryName, data)];
        }, extra: [("tiny_zip/byteorder", "big"u8.ToArray())]);
        AssertBitwiseEqual(Expected("tiny"), TorchCheckpoint.Load(new MemoryStream(big), "big.pth"));
    }

    [Test]
    public void The_extras_of_a_torchreid_training_checkpoint_are_read_as_plain_data()
    {
        // numpy scalars (numpy.dtype + _codecs.encode + scalar) and the scheduler's Counter are data, not calls.
        using var zip = new ZipArchive(new MemoryStream(Bytes("training_torchreid_zip.pth")));
        using var s = zip.GetEntry("training_torchreid_zip/data.pkl")!.Open();
        var pickle = new MemoryStream();
        s.CopyTo(pickle);
        int position = 0;
        var top = (PickleDict)RestrictedUnpickler.Load(pickle.ToArray(), ref position, "t.pth", "data.pkl", [])!;
        Assert.That(top.TryGet("epoch", out object? epoch) && epoch is 150L);
        Assert.That(top.TryGet("rank1", out object? rank1) && rank1 is double r1 && r1 == (double)0.9234f);
        Assert.That(top.TryGet("mAP", out object? map) && map is 0.8125);
        Assert.That(top.TryGet("lr_scheduler", out object? scheduler));
        Assert.That(((PickleDict)scheduler!).TryGet("milestones", out object? milestones));
        Assert.That(((PickleDict)milestones!).Entries.Single(), Is.EqualTo(new KeyValuePair<object?, object?>(60L, 1L)));
    }

    // ---- refusals -------------------------------------------------------------------------------

    // Protocol 2 writes Python 3's builtins under their Python 2 module name, __builtin__.
    [TestCase("hostile_print.pth", "__builtin__.print")]
    [TestCase("hostile_eval_legacy.pth", "__builtin__.eval")]
    [TestCase("hostile_getcwd_protocol4.pth", "posix.getcwd")]
    [TestCase("hostile_whole_module.pth", "torch.nn.modules.linear.Linear")]
    public void A_pickled_callable_or_object_is_refused_naming_the_file_and_the_global(string file, string global)
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(PathOf(file)));
        Assert.That(e!.Message, Does.StartWith(PathOf(file)));
        Assert.That(e.Message, Does.Contain($"refusing global '{global}'"));
        Assert.That(e.Message, Does.Contain(NothingExecuted));
    }

    [Test]
    public void A_whole_pickled_module_gets_the_state_dict_hint()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(PathOf("hostile_whole_module.pth")));
        Assert.That(e!.Message, Does.Contain("save its state_dict() instead"));
    }

    // ---- corrupted files ------------------------------------------------------------------------

    [TestCase("tiny_zip.pth")]
    [TestCase("tiny_legacy.pth")]
    [TestCase("views_dtypes_legacy.pth")]
    [TestCase("tiny_zip_protocol4.pth")]
    public void Every_truncation_gives_one_clear_error(string file)
    {
        byte[] whole = Bytes(file);
        for (int length = 0; length < whole.Length; length++)
        {
            var stream = new MemoryStream(whole, 0, length);
            try
            {
                TorchCheckpoint.Load(stream, file);
                Assert.Fail($"{file} truncated to {length} of {whole.Length} bytes was accepted");
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.StartWith(file + ": "), $"truncated to {length}");
                Assert.That(e.Message, Does.Not.Contain(Environment.NewLine), $"truncated to {length}");
            }
        }
    }

    [TestCase("tiny_zip.pth")]
    [TestCase("tiny_legacy.pth")]
    [TestCase("views_dtypes_zip.pth")]
    [TestCase("views_dtypes_legacy.pth")]
    public void Random_byte_corruption_never_escapes_as_another_exception(string file)
    {
        // Either the damage misses everything checked (a flipped tensor value loads) or one clear error.
        byte[] whole = Bytes(file);
        var random = new Random(20261123);
        int refused = 0;
        for (int trial = 0; trial < 600; trial++)
        {
            byte[] damaged = (byte[])whole.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                damaged[random.Next(damaged.Length)] ^= (byte)random.Next(1, 256);
            }

            try
            {
                TorchCheckpoint.Load(new MemoryStream(damaged), file);
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.StartWith(file + ": "));
                refused++;
            }
        }

        Assert.That(refused, Is.GreaterThan(0));
    }

    [Test]
    public void A_missing_storage_record_is_named()
    {
        byte[] damaged = RewriteZip(Bytes("tiny_zip.pth"), (entryName, data) => entryName == "tiny_zip/data/2" ? [] : [(entryName, data)]);
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(damaged), "t.pth"));
        Assert.That(e!.Message, Is.EqualTo("t.pth: storage record 'tiny_zip/data/2' is missing (truncated or corrupted file?)"));
    }

    [Test]
    public void A_storage_record_of_the_wrong_size_is_named()
    {
        byte[] damaged = RewriteZip(Bytes("tiny_zip.pth"), (entryName, data) => entryName == "tiny_zip/data/0" ? [(entryName, data[..^4])] : [(entryName, data)]);
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(damaged), "t.pth"));
        Assert.That(e!.Message, Does.StartWith("t.pth: storage record 'tiny_zip/data/0' has 428 bytes but the pickle says 108 x Float32 = 432 bytes"));
    }

    [Test]
    public void A_corrupted_zip_directory_is_a_clear_error()
    {
        byte[] whole = Bytes("tiny_zip.pth");
        // Damage the end-of-central-directory signature (the last 22 bytes hold the record).
        int eocd = whole.Length - 22;
        Assert.That(whole[eocd..(eocd + 4)], Is.EqualTo(new byte[] { 0x50, 0x4b, 0x05, 0x06 }));
        whole[eocd] = 0;
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(whole), "t.pth"));
        Assert.That(e!.Message, Does.StartWith("t.pth: not a readable zip archive"));
    }

    [Test]
    public void A_wrong_legacy_magic_number_is_named()
    {
        byte[] whole = Bytes("tiny_legacy.pth");
        whole[5] ^= 0x40; // inside the LONG1 bytes of 0x1950a86a20f9469cfc6c
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(whole), "t.pth"));
        Assert.That(e!.Message, Is.EqualTo("t.pth: wrong magic number: not a torch.save file (or a corrupted one)"));
    }

    [Test]
    public void A_file_that_is_neither_format_is_named()
    {
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream("hello world"u8.ToArray()), "t.pth"));
        Assert.That(e!.Message, Does.StartWith("t.pth: not a torch.save file: it starts with bytes 68656C6C"));
        var tar = new byte[1024];
        "ustar"u8.CopyTo(tar.AsSpan(257));
        e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(tar), "t.pth"));
        Assert.That(e!.Message, Does.StartWith("t.pth: a tar archive"));
        e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream([]), "t.pth"));
        Assert.That(e!.Message, Is.EqualTo("t.pth: the file is empty"));
    }

    [Test]
    public void A_missing_file_is_an_invalid_data_error_naming_it()
    {
        string missing = Path.Combine(Path.GetTempPath(), "learn-no-such-checkpoint.pth");
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(missing));
        Assert.That(e!.Message, Does.StartWith(missing + ": cannot read"));
    }

    [Test]
    public void A_checkpoint_without_a_state_dict_lists_its_keys()
    {
        // {'epoch': 3, 'note': 'x'} written by hand as a protocol-2 pickle in a legacy file.
        byte[] file = Pickle.LegacyFile(Pickle.Dict(("epoch", Pickle.Int(3)), ("note", Pickle.Str("x"))));
        var e = Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(file), "c.pth"));
        Assert.That(e!.Message, Is.EqualTo("c.pth: no state_dict found: expected a dict of tensors at the top level or under 'state_dict' or 'model'; the top-level dict has 2 keys: 'epoch' (int), 'note' (str)"));
    }

    // ---- helpers --------------------------------------------------------------------------------

    /// <summary>Copies a zip, letting <paramref name="map"/> drop, rename or change each record.</summary>
    internal static byte[] RewriteZip(byte[] zip, Func<string, byte[], IEnumerable<(string Name, byte[] Data)>> map, IEnumerable<(string Name, byte[] Data)>? extra = null)
    {
        using var input = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (ZipArchiveEntry entry in input.Entries)
            {
                using var s = entry.Open();
                var data = new MemoryStream();
                s.CopyTo(data);
                foreach ((string n, byte[] d) in map(entry.FullName, data.ToArray()))
                {
                    Write(archive, n, d);
                }
            }

            foreach ((string n, byte[] d) in extra ?? [])
            {
                Write(archive, n, d);
            }
        }

        return output.ToArray();

        static void Write(ZipArchive archive, string name, byte[] data)
        {
            using Stream s = archive.CreateEntry(name, CompressionLevel.NoCompression).Open();
            s.Write(data);
        }
    }

    /// <summary>Reads forward only, like a network stream.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
