using System.Numerics;
using Learn.IO;
using static Learn.Tests.IO.Pickle;

namespace Learn.Tests.IO;

/// <summary>Hand-written pickles: the opcodes torch.save uses, and the ones a hostile file would.</summary>
public class RestrictedUnpicklerTests
{
    private const string Refused = "nothing from the file was executed";

    private static object? Unpickle(byte[] pickle)
    {
        int position = 0;
        object? value = RestrictedUnpickler.Load(pickle, ref position, "p.pkl", "data.pkl", []);
        Assert.That(position, Is.EqualTo(pickle.Length), "reads up to STOP");
        return value;
    }

    private static string ErrorOf(byte[] pickle) =>
        Assert.Throws<InvalidDataException>(() => Unpickle(pickle))!.Message;

    private static string LoadError(byte[] file) =>
        Assert.Throws<InvalidDataException>(() => TorchCheckpoint.Load(new MemoryStream(file), "c.pth"))!.Message;

    // ---- plain values ---------------------------------------------------------------------------

    [Test]
    public void Integers_of_every_width_decode_with_their_sign()
    {
        // BININT1 200, BININT2 60000, BININT -5, LONG1 -1 (0xff), LONG1 2^63 (needs BigInteger), LONG1 of zero bytes = 0
        byte[] body = [(byte)'(', (byte)'K', 200, (byte)'M', 0x60, 0xea, (byte)'J', 0xfb, 0xff, 0xff, 0xff,
            0x8a, 1, 0xff, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0x8a, 0, (byte)'l'];
        var list = (List<object?>)Unpickle(Wrap(body))!;
        Assert.That(list, Is.EqualTo(new object[] { 200L, 60000L, -5L, -1L, BigInteger.Pow(2, 63), 0L }));
    }

    [Test]
    public void Floats_are_big_endian_and_strings_utf8()
    {
        byte[] body = [(byte)'(', (byte)'G', 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x8c, 3, 0xc3, 0xa9, (byte)'t', (byte)'U', 1, (byte)'x',
            0x88, 0x89, (byte)'N', (byte)'C', 2, 1, 2, (byte)'l'];
        var list = (List<object?>)Unpickle(Wrap(body))!;
        Assert.That(list[0], Is.EqualTo(1.5));
        Assert.That(list[1], Is.EqualTo("ét"));
        Assert.That(list[2], Is.EqualTo("x"));
        Assert.That(list[3..6], Is.EqualTo(new object?[] { true, false, null }));
        Assert.That(list[6], Is.EqualTo(new byte[] { 1, 2 }));
    }

    [Test]
    public void Python_2_strings_are_text_when_utf8_and_bytes_otherwise()
    {
        // SHORT_BINSTRING 'ab'; BINSTRING of 0xff 0x00 (e.g. a numpy scalar's raw bytes in a Python 2 pickle)
        var list = (List<object?>)Unpickle(Wrap([(byte)'(', (byte)'U', 2, (byte)'a', (byte)'b', (byte)'T', 2, 0, 0, 0, 0xff, 0, (byte)'l']))!;
        Assert.That(list[0], Is.EqualTo("ab"));
        Assert.That(list[1], Is.EqualTo(new byte[] { 0xff, 0 }));
    }

    [Test]
    public void Protocol_4_framing_memoize_dup_pop_and_small_tuples()
    {
        // FRAME n; 'a' MEMOIZE; DUP; POP; TUPLE1; get memo 0; 'b'; TUPLE2; TUPLE2 -> (('a',), ('a', 'b'))
        byte[] body = [0x8c, 1, (byte)'a', 0x94, (byte)'2', (byte)'0', 0x85, (byte)'h', 0, 0x8c, 1, (byte)'b', 0x86, 0x86];
        byte[] pickle = [0x80, 4, 0x95, (byte)(body.Length + 1), 0, 0, 0, 0, 0, 0, 0, .. body, (byte)'.'];
        var outer = Unpickle(pickle);
        Assert.That(outer, Is.TypeOf<PickleTuple>());
        var t = (PickleTuple)outer!;
        Assert.That(((PickleTuple)t[0]!).Items, Is.EqualTo(new object[] { "a" }));
        Assert.That(((PickleTuple)t[1]!).Items, Is.EqualTo(new object[] { "a", "b" }));
    }

    [Test]
    public void A_repeated_dict_key_replaces_the_value_in_place()
    {
        var dict = (PickleDict)Unpickle(Wrap(Dict(("a", Int(1)), ("b", Int(2)), ("a", Int(3)))))!;
        Assert.That(dict.Entries.Select(e => (e.Key, e.Value)), Is.EqualTo(new[] { ((object?)"a", (object?)3L), ("b", 2L) }));
    }

    // ---- refusals -------------------------------------------------------------------------------

    [TestCase("os", "system")]
    [TestCase("posix", "system")]
    [TestCase("subprocess", "Popen")]
    [TestCase("torch", "load")]
    [TestCase("torch._utils", "_rebuild_sparse_tensor")]
    [TestCase("collections", "defaultdict")]
    [TestCase("numpy.core.multiarray", "_reconstruct")]
    [TestCase("numpy", "ndarray")]
    public void Any_global_off_the_list_is_refused_by_name(string module, string name)
    {
        string message = ErrorOf(Wrap(Call(Global(module, name), Str("echo pwned"))));
        Assert.That(message, Does.StartWith($"p.pkl: data.pkl: refusing global '{module}.{name}'"));
        Assert.That(message, Does.Contain(Refused));
    }

    [Test]
    public void Stack_global_is_checked_the_same_way()
    {
        // protocol 4: 'os' 'system' STACK_GLOBAL
        byte[] pickle = [0x80, 4, 0x8c, 2, (byte)'o', (byte)'s', 0x8c, 6, .. "system"u8, 0x93, (byte)'.'];
        Assert.That(ErrorOf(pickle), Does.Contain("refusing global 'os.system'"));
    }

    [Test]
    public void Numpy_scalars_decode_in_either_byte_order_and_odd_dtypes_are_errors()
    {
        byte[] Dtype(string code, string order) =>
            [.. Call(Global("numpy", "dtype"), Str(code), False, [0x88]), .. Tuple(Int(3), Str(order), None), (byte)'b'];
        byte[] Scalar(byte[] dtype, params byte[] raw) =>
            Call(Global("numpy.core.multiarray", "scalar"), dtype, [(byte)'C', (byte)raw.Length, .. raw]);
        Assert.Multiple(() =>
        {
            Assert.That(Unpickle(Wrap(Scalar(Dtype("f4", "<"), 0, 0, 0xc0, 0x3f))), Is.EqualTo(1.5));
            Assert.That(Unpickle(Wrap(Scalar(Dtype("i2", ">"), 0xff, 0xfe))), Is.EqualTo(-2L));
            Assert.That(Unpickle(Wrap(Scalar(Dtype("u8", "<"), 0, 0, 0, 0, 0, 0, 0, 0x80))), Is.EqualTo(BigInteger.Pow(2, 63)));
            Assert.That(ErrorOf(Wrap(Scalar(Dtype("f8", "<"), 1, 2))), Does.Contain("numpy scalar of dtype 'f8' has 2 bytes"));
            Assert.That(ErrorOf(Wrap(Call(Global("numpy", "dtype"), Str("O"), False, [0x88]))), Does.Contain("numpy.dtype is called with 3 arguments (str, bool, bool)"));
            Assert.That(ErrorOf(Wrap(Call(Global("_codecs", "encode"), Str("x"), Str("rot13")))), Does.Contain("_codecs.encode is called with 2 arguments"));
        });
    }

    [Test]
    public void Calling_a_storage_class_is_refused()
    {
        Assert.That(ErrorOf(Wrap(Call(Global("torch", "FloatStorage"), Int(10)))),
            Does.Contain("torch.FloatStorage may only appear inside a storage reference, not be called").And.Contain(Refused));
    }

    [Test]
    public void Reduce_on_something_that_is_not_an_allowed_global_is_refused()
    {
        Assert.That(ErrorOf(Wrap(Call(Str("os.system")))), Does.Contain("REDUCE calls a str, which is not an allowed function"));
    }

    [Test]
    public void Instantiating_a_class_is_refused()
    {
        // OrderedDict is allowed as a function, but NEWOBJ (cls.__new__) is never interpreted.
        Assert.That(ErrorOf(Wrap([.. Global("collections", "OrderedDict"), (byte)')', 0x81])), Does.Contain("instantiates a class (opcode 0x81 (NEWOBJ))"));
    }

    [Test]
    public void Build_on_anything_but_a_dict_is_refused()
    {
        Assert.That(ErrorOf(Wrap([(byte)']', .. Dict(("x", Int(1))), (byte)'b'])), Does.Contain("BUILD (__setstate__) on a list with a dict state is not allowed"));
        byte[] tensor = Tensor(Storage("FloatStorage", "0", 1), 0, [1], [1]);
        Assert.That(ErrorOf(Wrap([.. tensor, .. Tuple(Int(1)), (byte)'b'])), Does.Contain("BUILD (__setstate__) on a tensor with a tuple state is not allowed"));
    }

    [Test]
    public void Persistent_ids_other_than_storages_are_refused()
    {
        Assert.That(ErrorOf(Wrap([.. Tuple(Str("module"), Str("x")), (byte)'Q'])), Does.Contain("persistent id ('module', 'x') is not a storage reference"));
    }

    [Test]
    public void Backward_hooks_in_a_tensor_are_refused()
    {
        byte[] hooks = Dict(("0", Int(1)));
        byte[] tensor = Call(Global("torch._utils", "_rebuild_tensor_v2"), Storage("FloatStorage", "0", 1), Int(0), Tuple(Int(1)), Tuple(Int(1)), False, hooks);
        Assert.That(ErrorOf(Wrap(tensor)), Does.Contain("backward hooks must be an empty dict"));
    }

    // ---- malformed pickles ----------------------------------------------------------------------

    [Test]
    public void Malformed_pickles_get_one_clear_error_each()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ErrorOf(Wrap([(byte)'h', 5])), Is.EqualTo("p.pkl: data.pkl: memo entry 5 is read before it is written (at byte 2)"));
            Assert.That(ErrorOf(Wrap([(byte)'0'])), Is.EqualTo("p.pkl: data.pkl: the pickle closes a MARK that was never opened (at byte 2)"));
            Assert.That(ErrorOf([0x80, 2, (byte)'.']), Is.EqualTo("p.pkl: data.pkl: the pickle pops from an empty stack (at byte 2)"));
            Assert.That(ErrorOf([0x80, 6, (byte)'N', (byte)'.']), Does.Contain("pickle protocol 6 is not supported"));
            Assert.That(ErrorOf(Wrap([(byte)'S', (byte)'\'', (byte)'a', (byte)'\'', (byte)'\n'])), Does.Contain("pickle opcode 'S'").And.Contain("is not supported"));
            Assert.That(ErrorOf(Wrap([(byte)'I', (byte)'1', (byte)'x', (byte)'\n'])), Does.Contain("integer '1x' is not a decimal integer"));
            Assert.That(ErrorOf(Wrap([0xff])), Does.Contain("pickle opcode 0xff (unknown) is not supported"));
            Assert.That(ErrorOf(Wrap([(byte)'N', (byte)'N', (byte)'a'])), Does.Contain("APPEND on a None, not a list"));
            Assert.That(ErrorOf(Wrap([(byte)'(', (byte)'N', (byte)'d'])), Does.Contain("a dict is given 1 items, not key-value pairs"));
            Assert.That(ErrorOf(Wrap([0x8c, 1, 0xff])), Does.Contain("a string is not valid UTF-8"));
            Assert.That(ErrorOf(Wrap([(byte)'N', .. Int(3), 0x93])), Does.Contain("STACK_GLOBAL needs two strings, got None and int"));
            Assert.That(ErrorOf(Wrap(Call(Global("collections", "OrderedDict"), Int(1)))), Does.Contain("collections.OrderedDict is called with 1 arguments (int)"));
        });
    }

    [Test]
    public void Lengths_beyond_the_data_are_caught_before_allocating()
    {
        Assert.Multiple(() =>
        {
            // BINUNICODE of 4 GiB - 1, BINBYTES8 of 2^63, LONG4 of 2^31 - 1, a frame longer than the file.
            Assert.That(ErrorOf([0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0xff, (byte)'.']), Does.Contain("the data ends while reading 4294967295 bytes at byte 2 (truncated or corrupted file)"));
            Assert.That(ErrorOf([0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x80, (byte)'.']), Does.Contain("the data ends while reading 9223372036854775808 bytes"));
            Assert.That(ErrorOf([0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, (byte)'.']), Does.Contain("the data ends while reading 2147483647 bytes"));
            Assert.That(ErrorOf([0x80, 4, 0x95, 100, 0, 0, 0, 0, 0, 0, 0, (byte)'N', (byte)'.']), Does.Contain("the data ends while reading a frame of 100 bytes"));
            Assert.That(ErrorOf([0x80, 2, (byte)'c', (byte)'o', (byte)'s']), Does.Contain("the data ends while reading a line ending with '\\n'"));
            Assert.That(ErrorOf([0x80, 2, (byte)'N']), Does.Contain("the data ends while reading an opcode at byte 3"));
        });
    }

    [Test]
    public void A_million_deep_tuple_is_reported_without_recursing()
    {
        // TUPLE1 a million times around None, used as a persistent id: the message must not recurse into it.
        byte[] body = [(byte)'N', .. Enumerable.Repeat((byte)0x85, 1_000_000), (byte)'Q'];
        Assert.That(ErrorOf(Wrap(body)), Does.Contain("persistent id (((...))) is not a storage reference"));
    }

    [Test]
    public void Random_opcode_soup_only_ever_gives_invalid_data()
    {
        // Sequences drawn from the accepted opcodes plus a few globals: whatever they build, the reader
        // either returns plain data or throws InvalidDataException - never another exception, never a hang.
        byte[][] pieces =
        [
            [(byte)'('], [(byte)')'], [(byte)']'], [(byte)'}'], [(byte)'t'], [(byte)'l'], [(byte)'d'], [(byte)'a'], [(byte)'e'],
            [(byte)'s'], [(byte)'u'], [(byte)'N'], [0x88], [0x89], [0x85], [0x86], [0x87], [(byte)'0'], [(byte)'1'], [(byte)'2'],
            [(byte)'q', 0], [(byte)'q', 1], [(byte)'h', 0], [(byte)'h', 1], [0x94], [(byte)'K', 3], Int(-7), Str("storage"), Str("k"),
            [(byte)'R'], [(byte)'b'], [(byte)'Q'], Global("torch", "FloatStorage"), Global("collections", "OrderedDict"),
            Global("torch._utils", "_rebuild_tensor_v2"), Global("numpy", "dtype"), Global("_codecs", "encode"),
            [(byte)'C', 2, 1, 2], [0x8a, 1, 0xff], [(byte)'G', 0, 0, 0, 0, 0, 0, 0, 0],
        ];
        var random = new Random(42);
        int parsed = 0;
        for (int trial = 0; trial < 20000; trial++)
        {
            var body = new List<byte>();
            for (int n = random.Next(1, 30); n > 0; n--)
            {
                body.AddRange(pieces[random.Next(pieces.Length)]);
            }

            byte[] pickle = Wrap([.. body]);
            try
            {
                int position = 0;
                RestrictedUnpickler.Load(pickle, ref position, "p.pkl", "data.pkl", []);
                parsed++;
            }
            catch (InvalidDataException e)
            {
                Assert.That(e.Message, Does.StartWith("p.pkl: data.pkl: "));
            }
        }

        Assert.That(parsed, Is.GreaterThan(0));
    }

    // ---- tensors in hand-made legacy files ------------------------------------------------------

    [Test]
    public void A_strided_tensor_is_copied_out_in_row_major_order()
    {
        // storage 0..11; a [3, 2] tensor at offset 1 with strides (4, 2): rows read 1,3 / 5,7 / 9,11.
        byte[] main = Dict(("w", Tensor(Storage("FloatStorage", "k", 12), 1, [3, 2], [4, 2])));
        byte[] file = LegacyFile(main, ("k", 12, Floats(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)));
        var w = TorchCheckpoint.Load(new MemoryStream(file), "c.pth")["w"];
        Assert.That(w.Shape, Is.EqualTo(new[] { 3, 2 }));
        Assert.That(w.Data, Is.EqualTo(new float[] { 1, 3, 5, 7, 9, 11 }));
    }

    [Test]
    public void A_legacy_storage_view_starts_at_its_offset()
    {
        // Files from PyTorch < 0.4: ('storage', type, root, 'cpu', 6, ('view', 2, 3)) is elements 2..4 of root.
        byte[] storage = Storage("FloatStorage", "root", 6, Tuple(Str("view"), Int(2), Int(3)));
        byte[] main = Dict(("v", Tensor(storage, 1, [2], [1])));
        byte[] file = LegacyFile(main, ("root", 6, Floats(10, 11, 12, 13, 14, 15)));
        Assert.That(TorchCheckpoint.Load(new MemoryStream(file), "c.pth")["v"].Data, Is.EqualTo(new float[] { 13, 14 }));
    }

    [Test]
    public void A_parameter_wrapper_yields_its_tensor()
    {
        byte[] tensor = Tensor(Storage("FloatStorage", "k", 2), 0, [2], [1]);
        byte[] main = Dict(("p", Call(Global("torch._utils", "_rebuild_parameter"), tensor, [0x88], OrderedDict)));
        byte[] file = LegacyFile(main, ("k", 2, Floats(1.5f, -2)));
        Assert.That(TorchCheckpoint.Load(new MemoryStream(file), "c.pth")["p"].Data, Is.EqualTo(new float[] { 1.5f, -2 }));
    }

    [Test]
    public void Strides_that_leave_the_storage_are_refused()
    {
        byte[] main = Dict(("w", Tensor(Storage("FloatStorage", "k", 4), 1, [2, 2], [2, 1])));
        byte[] file = LegacyFile(main, ("k", 4, Floats(0, 1, 2, 3)));
        Assert.That(LoadError(file), Is.EqualTo("c.pth: tensor 'w' (size [2, 2], stride (2, 1), offset 1) reads past the end of its storage of 4 elements"));
    }

    [Test]
    public void Huge_strides_do_not_overflow_into_the_storage()
    {
        byte[] main = Dict(("w", Tensor(Storage("FloatStorage", "k", 4), 0, [2, 2], [int.MaxValue, int.MaxValue])));
        byte[] file = LegacyFile(main, ("k", 4, Floats(0, 1, 2, 3)));
        Assert.That(LoadError(file), Does.Contain("reads past the end of its storage"));
    }

    [Test]
    public void Storage_records_must_match_the_pickle()
    {
        byte[] main = Dict(("w", Tensor(Storage("FloatStorage", "k", 2), 0, [2], [1])));
        Assert.Multiple(() =>
        {
            Assert.That(LoadError(LegacyFile(main, ("k", 3, Floats(0, 1, 2)))), Is.EqualTo("c.pth: storage 'k' has a record of 3 elements but the pickle says 2"));
            Assert.That(LoadError(LegacyFile(main)), Is.EqualTo("c.pth: storage 'k' is referenced but has no record (truncated or corrupted file)"));
            Assert.That(LoadError(LegacyFile(main, ("k", 2, Floats(0, 1)), ("other", 1, Floats(0)))), Is.EqualTo("c.pth: the storage key list names 'other', which the main pickle never references"));
            Assert.That(LoadError(LegacyFile(main, ("k", 2, Floats(0)))), Does.StartWith("c.pth: the file ends inside the record of storage 'k'"));
        });
    }

    [Test]
    public void A_storage_too_large_for_memory_is_refused_before_reading()
    {
        // 2^62 float32 elements: numel * 4 would overflow a long.
        byte[] storage = [.. Tuple(Str("storage"), Global("torch", "FloatStorage"), Str("k"), Str("cpu"), [0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x40]), (byte)'Q'];
        byte[] main = Dict(("w", Tensor(storage, 0, [1], [1])));
        Assert.That(LoadError(LegacyFile(main, ("k", 1L << 62, Floats(0)))), Does.Contain("storage 'k' of 4611686018427387904 x Float32 is too large (over 2 GB)"));
    }

    [Test]
    public void Two_names_that_collide_after_stripping_module_are_an_error()
    {
        byte[] t = Tensor(Storage("FloatStorage", "k", 1), 0, [1], [1]);
        byte[] file = LegacyFile(Dict(("a", t), ("module.a", t)), ("k", 1, Floats(1)));
        Assert.That(LoadError(file), Is.EqualTo("c.pth: the state_dict has both 'a' and 'module.a'"));
    }

    [Test]
    public void An_empty_tensor_name_is_an_error()
    {
        byte[] file = LegacyFile(Dict(("", Tensor(Storage("FloatStorage", "k", 1), 0, [1], [1]))), ("k", 1, Floats(1)));
        Assert.That(LoadError(file), Is.EqualTo("c.pth: the state_dict has a tensor with an empty name"));
    }

    [Test]
    public void A_top_level_list_is_not_a_state_dict()
    {
        Assert.That(LoadError(LegacyFile(List(Int(1)))), Is.EqualTo("c.pth: the checkpoint holds a list, not a dict of tensors (a state_dict)"));
    }

    [Test]
    public void A_storage_referenced_with_two_types_is_an_error()
    {
        byte[] main = Dict(("a", Tensor(Storage("FloatStorage", "k", 2), 0, [2], [1])), ("b", Tensor(Storage("HalfStorage", "k", 2), 0, [2], [1])));
        Assert.That(LoadError(LegacyFile(main, ("k", 2, Floats(0, 1)))), Does.Contain("storage 'k' is referenced as 2 x Float32 and as 2 x Float16"));
    }
}
