using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Learn.IO;

namespace Learn.Tests.Hardening;

/// <summary>
/// Issue 12, defect 6: .npy headers are read as numpy reads them. Every case in Data/npy_headers.json carries
/// numpy 1.24's own verdict (make_npy_headers.py asks numpy); the reader must accept exactly what numpy accepts,
/// with numpy's shape (duplicated keys: the last wins), and refuse what numpy refuses. Fortran order, which
/// numpy reads, is refused here with a message saying so (this reader takes C order only).
/// </summary>
[TestFixture]
public sealed class NpyHeaderTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        string file = Path.Combine(Learn.Tests.IO.NpyTests.DataFolder, "..", "..", "Hardening", "Data", "npy_headers.json");
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(file));
        foreach (JsonElement c in doc.RootElement.EnumerateArray())
        {
            string header = c.GetProperty("header").GetString()!;
            bool ok = c.GetProperty("verdict").GetString() == "ok";
            int[]? shape = ok ? c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray() : null;
            bool fortran = ok && c.GetProperty("fortran").GetBoolean();
            yield return new TestCaseData(header, shape, fortran).SetName("npy header: " + Printable.Escape(header.Length > 70 ? header[..70] : header));
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Header_is_read_as_numpy_reads_it(string header, int[]? numpyShape, bool fortran)
    {
        // Data sized for numpy's shape when numpy accepts (this reader wants the exact size), 64 bytes otherwise.
        long count = numpyShape?.Aggregate(1L, (a, b) => a * b) ?? 16;
        byte[] file = Build(header, count);
        if (numpyShape is null)
        {
            var e = Assert.Throws<InvalidDataException>(() => Npy.Parse(file, "h.npy"));
            Assert.That(e!.Message, Does.StartWith("h.npy: "));
            Assert.That(e.Message, Does.Not.Contain("\n"));
        }
        else if (fortran)
        {
            Assert.That(() => Npy.Parse(file, "h.npy"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("Fortran-order arrays are not supported"));
        }
        else
        {
            Assert.That(Npy.Parse(file, "h.npy").Shape, Is.EqualTo(numpyShape));
        }
    }

    [Test]
    public void Header_longer_than_numpys_limit_is_refused()
    {
        byte[] file = Build("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }" + new string(' ', 20000), 1);
        Assert.That(() => Npy.Parse(file, "h.npy"), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("Header info length (20058)"));
    }

    /// <summary>Version 2.0 (a 4-byte header length), so long headers fit; the header ends with a newline, as numpy writes it.</summary>
    internal static byte[] Build(string header, long count)
    {
        byte[] h = Encoding.Latin1.GetBytes(header + "\n");
        var bytes = new byte[12 + h.Length + (count * 4)];
        byte[] magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0];
        magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)h.Length);
        h.CopyTo(bytes, 12);
        return bytes;
    }
}
