using System.Text.Json;
using Learn.IO;
using Learn.Tensors;

namespace Learn.Tests.IO;

/// <summary>
/// The files of reference-weights/checkpoints (made by make_checkpoints.py with PyTorch 1.13) and the
/// expected tensors in expected.json. Expectations are float32 bit patterns, so comparisons are bitwise;
/// they are kept in JSON rather than .npy so these tests do not depend on the Npy reader.
/// </summary>
internal static class CheckpointFixtures
{
    public static string Folder { get; } = FindFolder();

    public static string PathOf(string file) => Path.Combine(Folder, file);

    public static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    /// <summary>The expected tensors of one group ("tiny" or "views_dtypes") of expected.json.</summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> Expected(string group)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(PathOf("expected.json")));
        var result = new List<(string, Tensor)>();
        foreach (JsonProperty p in doc.RootElement.GetProperty(group).EnumerateObject())
        {
            int[] shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            float[] data = p.Value.GetProperty("bits").EnumerateArray().Select(e => BitConverter.UInt32BitsToSingle(e.GetUInt32())).ToArray();
            result.Add((p.Name, new Tensor(shape, data)));
        }

        return result;
    }

    /// <summary>Asserts the state_dict holds exactly the expected names, in order, with bitwise-equal tensors.</summary>
    public static void AssertBitwiseEqual(IReadOnlyList<(string Name, Tensor Tensor)> expected, StateDict actual)
    {
        Assert.That(actual.Names, Is.EqualTo(expected.Select(e => e.Name)));
        foreach ((string name, Tensor want) in expected)
        {
            Tensor got = actual[name];
            Assert.That(got.Shape, Is.EqualTo(want.Shape), name);
            for (int i = 0; i < want.Length; i++)
            {
                uint w = BitConverter.SingleToUInt32Bits(want.Data[i]);
                uint g = BitConverter.SingleToUInt32Bits(got.Data[i]);
                if (w != g)
                {
                    Assert.Fail($"{name}[{i}]: expected {want.Data[i]:R} (0x{w:x8}), got {got.Data[i]:R} (0x{g:x8})");
                }
            }
        }
    }

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "reference-weights", "checkpoints");
            if (File.Exists(Path.Combine(dir.FullName, "Learn.sln")) && Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("reference-weights/checkpoints not found above the test directory");
    }
}
