using System.Text;

namespace Learn.Bench;

/// <summary>
/// Writes a one-node ONNX model (opset 13) holding a single Conv whose weight and bias are initializers,
/// so ONNX Runtime may pre-pack them as it does for an exported network. The protobuf is written by hand:
/// the few ModelProto fields a Conv needs (field numbers from onnx/onnx.proto).
/// </summary>
internal static class OnnxConvModel
{
    public static byte[] Build(BenchCase c)
    {
        var conv = new Proto();
        conv.String(1, "X").String(1, "W").String(1, "B").String(2, "Y").String(3, "conv").String(4, "Conv");
        conv.Message(5, IntsAttribute("dilations", c.Dilation));
        conv.Message(5, IntAttribute("group", c.Groups));
        conv.Message(5, IntsAttribute("kernel_shape", [c.WeightShape[2], c.WeightShape[3]]));
        conv.Message(5, IntsAttribute("pads", [c.Padding[0], c.Padding[1], c.Padding[0], c.Padding[1]]));
        conv.Message(5, IntsAttribute("strides", c.Stride));

        var graph = new Proto();
        graph.Message(1, conv).String(2, "conv_" + c.Name);
        graph.Message(5, FloatTensor("W", c.WeightShape, c.Weight.Data));
        graph.Message(5, FloatTensor("B", [c.WeightShape[0]], c.Bias.Data));
        graph.Message(11, ValueInfo("X", c.InputShape));
        graph.Message(12, ValueInfo("Y", c.OutputShape));

        var model = new Proto();
        model.Varint(1, 8).String(2, "Learn.Bench");
        model.Message(7, graph);
        model.Message(8, new Proto().String(1, "").Varint(2, 13));
        return model.ToArray();
    }

    private static Proto IntAttribute(string name, long value) => new Proto().String(1, name).Varint(3, value).Varint(20, 2);

    private static Proto IntsAttribute(string name, IReadOnlyList<int> values)
    {
        var a = new Proto().String(1, name);
        foreach (int v in values)
        {
            a.Varint(8, v);
        }

        return a.Varint(20, 7);
    }

    private static Proto FloatTensor(string name, int[] dims, float[] data)
    {
        var t = new Proto();
        foreach (int d in dims)
        {
            t.Varint(1, d);
        }

        var raw = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, raw, 0, raw.Length); // little-endian, as ONNX raw_data is
        return t.Varint(2, 1).String(8, name).Bytes(9, raw);
    }

    private static Proto ValueInfo(string name, int[] shape)
    {
        var dims = new Proto();
        foreach (int d in shape)
        {
            dims.Message(1, new Proto().Varint(1, d));
        }

        var tensorType = new Proto().Varint(1, 1).Message(2, dims);
        return new Proto().String(1, name).Message(2, new Proto().Message(1, tensorType));
    }

    /// <summary>A protobuf message under construction: varint and length-delimited fields only.</summary>
    private sealed class Proto
    {
        private readonly List<byte> _bytes = [];

        public Proto Varint(int field, long value)
        {
            Key(field, 0);
            Raw((ulong)value);
            return this;
        }

        public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _bytes.AddRange(value);
            return this;
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void Key(int field, int wireType) => Raw((ulong)((field << 3) | wireType));

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _bytes.Add((byte)(v | 0x80));
                v >>= 7;
            }

            _bytes.Add((byte)v);
        }
    }
}
