using Learn.IO;
using Learn.Tensors;
using static Learn.Tests.IO.CheckpointFixtures;

namespace Learn.Tests.IO;

/// <summary>The format-sniffing entry point and <see cref="StateDict"/> itself.</summary>
public class CheckpointTests
{
    [TestCase("tiny_zip.pth")]
    [TestCase("tiny_legacy.pth")]
    [TestCase("tiny_nested_module_zip.pth")]
    [TestCase("tiny.safetensors")]
    public void Every_format_gives_the_same_state_dict(string file)
    {
        AssertBitwiseEqual(Expected("tiny"), Learn.IO.Checkpoint.Load(PathOf(file)));
    }

    [Test]
    public void The_format_is_told_by_content_not_extension()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"learn-{Guid.NewGuid():N}.pth");
        try
        {
            File.Copy(PathOf("tiny.safetensors"), copy);
            AssertBitwiseEqual(Expected("tiny"), Learn.IO.Checkpoint.Load(copy));
            File.WriteAllText(copy, "just some text here");
            var e = Assert.Throws<InvalidDataException>(() => Learn.IO.Checkpoint.Load(copy));
            Assert.That(e!.Message, Is.EqualTo($"{copy}: neither a torch.save checkpoint (zip or legacy pickle) nor a safetensors file"));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [TestCase(0x50)] // 'P', as a zip begins
    [TestCase(0x80)] // PROTO, as a legacy pickle begins
    public void A_safetensors_header_length_that_looks_like_another_magic_is_still_safetensors(int headerLength)
    {
        string json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".PadRight(headerLength);
        byte[] bytes = [(byte)headerLength, 0, 0, 0, 0, 0, 0, 0, .. System.Text.Encoding.ASCII.GetBytes(json), 0, 0, 0xc0, 0x3f];
        string file = Path.Combine(Path.GetTempPath(), $"learn-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(file, bytes);
            Assert.That(Learn.IO.Checkpoint.Load(file)["a"].Data, Is.EqualTo(new[] { 1.5f }));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void Refusals_pass_through_the_entry_point()
    {
        var e = Assert.Throws<InvalidDataException>(() => Learn.IO.Checkpoint.Load(PathOf("hostile_print.pth")));
        Assert.That(e!.Message, Does.Contain("nothing from the file was executed"));
    }

    [Test]
    public void Normalized_strips_module_drops_counters_and_keeps_order()
    {
        var sd = new StateDict
        {
            { "module.b.weight", Tensor.Zeros(1) },
            { "module.bn.num_batches_tracked", Tensor.Zeros() },
            { "a.weight", Tensor.Zeros(2) },
            { "num_batches_tracked", Tensor.Zeros() },
            { "module.num_batches_tracked_not", Tensor.Zeros(3) },
        };
        StateDict n = sd.Normalized();
        Assert.That(n.Names, Is.EqualTo(new[] { "b.weight", "a.weight", "num_batches_tracked_not" }));
        Assert.That(n["a.weight"], Is.SameAs(sd["a.weight"]));
    }

    [Test]
    public void State_dict_refuses_duplicates_and_names_missing_keys()
    {
        var sd = new StateDict { { "a", Tensor.Zeros(1) } };
        Assert.Throws<ArgumentException>(() => sd.Add("a", Tensor.Zeros(1)));
        var e = Assert.Throws<KeyNotFoundException>(() => _ = sd["b"]);
        Assert.That(e!.Message, Is.EqualTo("no tensor 'b' in the state_dict (1 tensors, e.g. a)"));
    }
}
