using System.Buffers.Binary;
using System.Text;
using Learn.IO;
using Learn.Tensors;
using NUnit.Framework;

namespace Learn.Tests.IO;

/// <summary>
/// The .npy reader and writer: round trips, NumPy's own files (made by IO/Data/make_npy_files.py with NumPy),
/// and every malformed case refused with an <see cref="InvalidDataException"/> that names the file.
/// </summary>
[TestFixture]
public sealed class NpyTests
{
    private string _folder = "";

    /// <summary>IO/Data in the source tree, found from the test binaries upwards.</summary>
    internal static string DataFolder { get; } = FindDataFolder();

    [SetUp]
    public void SetUp()
    {
        _folder = Path.Combine(Path.GetTempPath(), "learn-npy-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_folder, recursive: true);

    private static IEnumerable<TestCaseData> Shapes()
    {
        yield return new TestCaseData(Array.Empty<int>()).SetName("RoundTrip_scalar_shape_()");
        yield return new TestCaseData(new[] { 7 }).SetName("RoundTrip_1d_7");
        yield return new TestCaseData(new[] { 2, 3 }).SetName("RoundTrip_2d_2x3");
        yield return new TestCaseData(new[] { 2, 3, 9, 10 }).SetName("RoundTrip_4d_2x3x9x10");
        yield return new TestCaseData(new[] { 1, 2, 3, 4, 5 }).SetName("RoundTrip_5d_1x2x3x4x5");
        yield return new TestCaseData(new[] { 2, 0, 3 }).SetName("RoundTrip_zero_size_2x0x3");
        yield return new TestCaseData(new[] { 0 }).SetName("RoundTrip_zero_size_0");
    }

    [TestCaseSource(nameof(Shapes))]
    public void RoundTrip_keeps_shape_and_every_bit(int[] shape)
    {
        Tensor t = Tensor.Random(42, shape);
        string path = Path.Combine(_folder, "t.npy");
        Npy.Write(path, t);
        Tensor back = Npy.Read(path);
        Assert.That(back.Shape, Is.EqualTo(shape));
        Assert.That(back.Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(t.Data.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void RoundTrip_keeps_special_values_bit_for_bit()
    {
        float[] values = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, float.Epsilon, float.MaxValue, -1.5e-40f];
        string path = Path.Combine(_folder, "special.npy");
        Npy.Write(path, new Tensor([values.Length], values));
        Assert.That(Npy.Read(path).Data.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(values.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Written_file_has_numpy_layout_version_1_header_and_64_byte_aligned_data()
    {
        byte[] bytes = Npy.Serialize(new Tensor([2, 3], [1, 2, 3, 4, 5, 6]));
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.Latin1.GetString(bytes, 10, headerLength);
        Assert.Multiple(() =>
        {
            Assert.That(bytes[..8], Is.EqualTo(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }));
            Assert.That((10 + headerLength) % 64, Is.Zero, "NumPy aligns the data to 64 bytes");
            Assert.That(header, Does.StartWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
            Assert.That(header, Does.EndWith("\n"));
            Assert.That(bytes.Length, Is.EqualTo(10 + headerLength + 6 * 4));
            Assert.That(BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(10 + headerLength + 5 * 4)), Is.EqualTo(6f));
        });
    }

    [Test]
    public void Written_1d_shape_uses_python_one_tuple()
    {
        string header = Encoding.Latin1.GetString(Npy.Serialize(new Tensor([3], [1, 2, 3])));
        Assert.That(header, Does.Contain("'shape': (3,)"));
    }

    [Test]
    public void Reads_numpy_float32()
    {
        Tensor t = Npy.Read(Data("f4_2x3.npy"));
        Assert.That(t.Shape, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(t.Data, Is.EqualTo(new[] { -1.25f, -0.75f, -0.25f, 0.25f, 0.75f, 1.25f }));
    }

    [Test]
    public void Reads_numpy_float64_rounding_each_value_once_to_float32()
    {
        Tensor t = Npy.Read(Data("f8_2x2.npy"));
        Assert.That(t.Shape, Is.EqualTo(new[] { 2, 2 }));
        Assert.That(t.Data, Is.EqualTo(new[] { (float)0.1, -2.5f, (float)1e-3, (float)3.141592653589793 }));
    }

    [Test]
    public void Reads_numpy_version_2_header()
    {
        byte[] bytes = File.ReadAllBytes(Data("f4_v2.npy"));
        Assert.That(bytes[6], Is.EqualTo(2), "the file really is format 2.0");
        Assert.That(Npy.Read(Data("f4_v2.npy")).Data, Is.EqualTo(Npy.Read(Data("f4_2x3.npy")).Data));
    }

    [TestCase("f4_scalar.npy", new int[0], new[] { 3.5f })]
    [TestCase("f4_1d.npy", new[] { 3 }, new[] { 1.5f, -2f, 0.25f })]
    [TestCase("f4_empty.npy", new[] { 2, 0, 3 }, new float[0])]
    public void Reads_numpy_shapes(string file, int[] shape, float[] values)
    {
        Tensor t = Npy.Read(Data(file));
        Assert.That(t.Shape, Is.EqualTo(shape));
        Assert.That(t.Data, Is.EqualTo(values));
    }

    [Test]
    public void Reads_numpy_5d_in_c_order()
    {
        Tensor t = Npy.Read(Data("f4_5d.npy"));
        Assert.That(t.Shape, Is.EqualTo(new[] { 1, 2, 1, 3, 2 }));
        Assert.That(t[0, 1, 0, 2, 1], Is.EqualTo(5f)); // arange(12) - 6 at flat index 11
        Assert.That(t[0, 0, 0, 1, 0], Is.EqualTo(-4f)); // flat index 2
    }

    [TestCase("refuse_big_endian.npy", "big-endian")]
    [TestCase("refuse_fortran.npy", "Fortran")]
    [TestCase("refuse_object.npy", "object arrays")]
    [TestCase("refuse_int32.npy", "'<i4'")]
    [TestCase("refuse_float16.npy", "'<f2'")]
    public void Refuses_what_numpy_wrote_but_is_not_float_c_order(string file, string problem)
    {
        string path = Data(file);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": "));
        Assert.That(e.Message, Does.Contain(problem));
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        byte[] good = Npy.Serialize(new Tensor([2, 3], [1, 2, 3, 4, 5, 6]));
        int dataStart = good.Length - 24;
        yield return Case("empty_file", [], "magic");
        yield return Case("bad_magic", [.. "PK\x03\x04"u8, .. good[4..]], "magic");
        yield return Case("magic_only", good[..6], "magic");
        yield return Case("truncated_header", good[..40], "truncated header");
        yield return Case("truncated_data", good[..^4], "needs 24 data bytes but the file has 20");
        yield return Case("no_data", good[..dataStart], "needs 24 data bytes but the file has 0");
        yield return Case("header_lies_about_shape", [.. good, 0, 0, 128, 63], "needs 24 data bytes but the file has 28");
        yield return Case("garbage_header", WithHeader(good, "{hello: world}"), "Cannot parse header: {hello: world} ('hello' is a name, not a literal");
        yield return Case("header_without_shape", WithHeader(good, "{'descr': '<f4', 'fortran_order': False, }"), "Header does not contain the correct keys: ['descr', 'fortran_order']");
        yield return Case("shape_not_integers", WithHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"), "'x' is a name, not a literal");
        yield return Case("negative_shape", WithHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }"), "negative dimensions are not allowed");
        yield return Case("shape_too_large_for_memory", WithHeader(good, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"), "more elements than one array can hold");
        yield return Case("unsupported_version", [.. good[..6], 9, 0, .. good[8..]], "version 9.0");
        yield return Case("v2_truncated_length", [.. good[..6], 2, 0, 1, 0], "truncated header");
        yield return Case("complex_dtype", WithHeader(good, "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }"), "'<c8'");

        static TestCaseData Case(string name, byte[] bytes, string problem) =>
            new TestCaseData(name, bytes, problem).SetName($"Refuses_malformed_{name}");
    }

    [TestCaseSource(nameof(Malformed))]
    public void Refuses_malformed_file_naming_it(string name, byte[] bytes, string problem)
    {
        string path = Path.Combine(_folder, name + ".npy");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": "));
        Assert.That(e.Message, Does.Contain(problem));
    }

    [Test]
    public void Missing_file_is_invalid_data_naming_it()
    {
        string path = Path.Combine(_folder, "absent.npy");
        var e = Assert.Throws<InvalidDataException>(() => Npy.Read(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": cannot read"));
    }

    [Test]
    public void Write_replaces_an_existing_file_and_leaves_no_temporary_file()
    {
        string path = Path.Combine(_folder, "y.npy");
        File.WriteAllText(path, "old");
        Npy.Write(path, new Tensor([2], [1, 2]));
        Assert.That(Npy.Read(path).Data, Is.EqualTo(new[] { 1f, 2f }));
        Assert.That(Directory.GetFiles(_folder).Select(Path.GetFileName), Is.EqualTo(new[] { "y.npy" }));
    }

    [Test]
    public void Write_into_a_missing_folder_fails_and_creates_nothing()
    {
        string path = Path.Combine(_folder, "missing", "y.npy");
        Assert.Throws<DirectoryNotFoundException>(() => Npy.Write(path, new Tensor([1], [1])));
        Assert.That(Directory.GetFileSystemEntries(_folder), Is.Empty);
    }

    // The same header length, so the data that follows stays in place: only the dict text changes.
    private static byte[] WithHeader(byte[] good, string dict)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(good.AsSpan(8));
        string header = dict.PadRight(length - 1) + "\n";
        byte[] bytes = (byte[])good.Clone();
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10, length));
        return bytes;
    }

    private static string Data(string file) => Path.Combine(DataFolder, file);

    private static string FindDataFolder()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Learn.Tests", "IO", "Data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/Learn.Tests/IO/Data not found above " + TestContext.CurrentContext.TestDirectory);
    }
}
