using Google.Protobuf;

namespace Learn.Cli.Onnx;

/// <summary>One node of an ONNX graph: what <c>learn diff-onnx</c> needs of a NodeProto.</summary>
/// <param name="Name">The node's name (torch.onnx: the module scope and the op, e.g. <c>/conv2/conv2.0/conv1/conv/Conv</c>).</param>
/// <param name="OpType">The operator (Conv, Relu ...).</param>
/// <param name="Inputs">The values it reads.</param>
/// <param name="Outputs">The values it writes.</param>
internal sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>
/// An ONNX model read at the protobuf wire level (Google.Protobuf's CodedInputStream): the main graph's nodes, inputs,
/// outputs and initializer names, and a copy of the model with more graph outputs (every intermediate value, so ONNX
/// Runtime returns it; ORT has no session option for that). Wire-level because the ONNX C# classes are not served
/// and only five fields are read: everything else is copied byte for byte. Field numbers from onnx.proto:
/// ModelProto.graph = 7; GraphProto node = 1, initializer = 5, input = 11, output = 12; NodeProto input = 1,
/// output = 2, name = 3, op_type = 4; ValueInfoProto.name = 1; TensorProto.name = 8.
/// </summary>
internal sealed class OnnxModelFile
{
    private readonly byte[] _model;
    private readonly int _graphStart, _graphLength;

    private OnnxModelFile(byte[] model, int graphStart, int graphLength, List<OnnxNode> nodes, List<string> inputs, List<string> outputs, HashSet<string> initializers)
    {
        _model = model;
        _graphStart = graphStart;
        _graphLength = graphLength;
        Nodes = nodes;
        Inputs = inputs;
        Outputs = outputs;
        Initializers = initializers;
    }

    /// <summary>The graph's nodes in file order (topological in a valid model).</summary>
    public IReadOnlyList<OnnxNode> Nodes { get; }

    /// <summary>The graph inputs that are not initializers.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The graph outputs.</summary>
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>The names of the constant tensors stored in the graph.</summary>
    public IReadOnlySet<string> Initializers { get; }

    /// <summary>Reads <paramref name="bytes"/>; throws <see cref="InvalidDataException"/> if they are not an ONNX model with a graph.</summary>
    public static OnnxModelFile Parse(byte[] bytes)
    {
        try
        {
            int graphStart = -1, graphLength = 0;
            var input = new CodedInputStream(bytes);
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (tag == Tag(7, 2))
                {
                    int before = (int)input.Position;
                    input.SkipLastField(); // checks the length against the file
                    graphLength = new CodedInputStream(bytes, before, (int)input.Position - before).ReadLength();
                    graphStart = (int)input.Position - graphLength;
                }
                else
                {
                    input.SkipLastField();
                }
            }

            if (graphStart < 0)
            {
                throw new InvalidDataException("not an ONNX model (no graph)");
            }

            var nodes = new List<OnnxNode>();
            var inputs = new List<string>();
            var outputs = new List<string>();
            var initializers = new HashSet<string>(StringComparer.Ordinal);
            var graph = new CodedInputStream(bytes, graphStart, graphLength);
            while ((tag = graph.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        nodes.Add(ReadNode(graph.ReadBytes()));
                        break;
                    case 5 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        initializers.Add(ReadString(graph.ReadBytes(), 8));
                        break;
                    case 11 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        inputs.Add(ReadString(graph.ReadBytes(), 1));
                        break;
                    case 12 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited:
                        outputs.Add(ReadString(graph.ReadBytes(), 1));
                        break;
                    default:
                        graph.SkipLastField();
                        break;
                }
            }

            if (nodes.Count == 0)
            {
                throw new InvalidDataException("not an ONNX model (its graph has no nodes)");
            }

            inputs.RemoveAll(initializers.Contains);
            return new OnnxModelFile(bytes, graphStart, graphLength, nodes, inputs, outputs, initializers);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"not an ONNX model ({e.Message.TrimEnd('.')})");
        }
    }

    /// <summary>The model with <paramref name="extraOutputs"/> appended to the graph's outputs (a ValueInfoProto with the name only: ORT infers the type).</summary>
    public byte[] WithOutputs(IEnumerable<string> extraOutputs)
    {
        using var graph = new MemoryStream();
        graph.Write(_model, _graphStart, _graphLength);
        var g = new CodedOutputStream(graph, leaveOpen: true);
        foreach (string name in extraOutputs)
        {
            using var valueInfo = new MemoryStream();
            var v = new CodedOutputStream(valueInfo, leaveOpen: true);
            v.WriteTag(1, WireFormat.WireType.LengthDelimited);
            v.WriteString(name);
            v.Flush();
            g.WriteTag(12, WireFormat.WireType.LengthDelimited);
            g.WriteBytes(ByteString.CopyFrom(valueInfo.ToArray()));
        }

        g.Flush();
        using var model = new MemoryStream();
        var input = new CodedInputStream(_model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int tagStart = (int)input.Position - CodedOutputStream.ComputeRawVarint32Size(tag);
            if (tag == Tag(7, 2))
            {
                input.SkipLastField();
                var m = new CodedOutputStream(model, leaveOpen: true);
                m.WriteTag(7, WireFormat.WireType.LengthDelimited);
                m.WriteLength((int)graph.Length);
                m.Flush();
                graph.Position = 0;
                graph.CopyTo(model);
            }
            else
            {
                input.SkipLastField();
                model.Write(_model, tagStart, (int)input.Position - tagStart); // copied byte for byte
            }
        }

        return model.ToArray();
    }

    private static uint Tag(int field, int wireType) => (uint)(field << 3 | wireType);

    private static OnnxNode ReadNode(ByteString bytes)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", op = "";
        var node = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = node.ReadTag()) != 0)
        {
            bool text = WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when text: inputs.Add(node.ReadString()); break;
                case 2 when text: outputs.Add(node.ReadString()); break;
                case 3 when text: name = node.ReadString(); break;
                case 4 when text: op = node.ReadString(); break;
                default: node.SkipLastField(); break;
            }
        }

        return new OnnxNode(name, op, inputs, outputs);
    }

    private static string ReadString(ByteString bytes, int field)
    {
        var message = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        string found = "";
        while ((tag = message.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found = message.ReadString();
            }
            else
            {
                message.SkipLastField();
            }
        }

        return found;
    }
}
