using System.Globalization;
using System.Text;
using System.Text.Json;
using Learn.Layers;
using Learn.Tensors;

namespace Learn.Analysis;

/// <summary>One module call in a <see cref="CostTable"/>.</summary>
/// <param name="Name">Qualified module name (<c>conv2.0.conv2b.1</c>); a module called k times has k rows.</param>
/// <param name="Type">PyTorch class name.</param>
/// <param name="OutputShape">Output shape of this call.</param>
/// <param name="Parameters">Parameters of the module and its children.</param>
/// <param name="Macs">Multiply-accumulates inside this call (convolutions and linear layers).</param>
/// <param name="Height">Receptive field of an output cell along the height.</param>
/// <param name="Width">Receptive field along the width.</param>
/// <param name="Reduction">Reduction length K along the longest path to this output (see <see cref="Signal.Reduction"/>).</param>
public sealed record CostRow(string Name, string Type, int[] OutputShape, long Parameters, long Macs, ReceptiveField Height, ReceptiveField Width, long Reduction);

/// <summary>
/// The per-layer cost of a module at one input size: output shape, parameters, multiply-accumulates (MACs) and
/// receptive field of every module call, from a symbolic pass (no values are computed, so it is instant).
/// </summary>
/// <remarks>
/// Counting convention, the one that reproduces the OSNet paper's figures: MACs are those of convolutions
/// (N*C_out*H_out*W_out*(C_in/G)*kh*kw, bias adds not counted) and linear layers (N*in*out), counted at every
/// call (the shared channel gate's two 1x1 convs count four times per block, as PyTorch forward hooks see
/// them); normalisation, activations, pooling, the gate's multiply and the residual adds count nothing.
/// <see cref="Parameters"/> counts the parameters used by the forward pass (for OSNet in eval mode: all but
/// the classifier, which is the paper's convention); <see cref="TotalParameters"/> counts every parameter.
/// </remarks>
public sealed class CostTable
{
    private CostTable(int[] input, IReadOnlyList<CostRow> rows, Signal output, long parameters, long totalParameters, long macs)
    {
        InputShape = input;
        Rows = rows;
        Output = output;
        Parameters = parameters;
        TotalParameters = totalParameters;
        Macs = macs;
    }

    /// <summary>The input shape [N, C, H, W].</summary>
    public int[] InputShape { get; }

    /// <summary>Every module call, parent before children.</summary>
    public IReadOnlyList<CostRow> Rows { get; }

    /// <summary>The network output's shape, receptive field and reduction length.</summary>
    public Signal Output { get; }

    /// <summary>Parameters of the modules the forward pass uses.</summary>
    public long Parameters { get; }

    /// <summary>Every parameter of the module (PyTorch <c>sum(p.numel() for p in model.parameters())</c>).</summary>
    public long TotalParameters { get; }

    /// <summary>Total multiply-accumulates of one forward pass.</summary>
    public long Macs { get; }

    /// <summary>The table of <paramref name="model"/> for an input of <paramref name="batch"/> x <paramref name="channels"/> x height x width.</summary>
    public static CostTable For(Module model, int height, int width, int channels = 3, int batch = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (height <= 0 || width <= 0 || channels <= 0 || batch <= 0)
        {
            throw new ArgumentException($"input size must be positive, got batch {batch}, channels {channels}, height {height}, width {width}");
        }

        int[] input = [batch, channels, height, width];
        var context = new TraceContext();
        Signal output = context.Call(model, "", Signal.ForInput(input));
        return new CostTable(input, context.Rows, output, context.VisitedParameters, model.ParameterCount(), context.Macs);
    }

    /// <summary>The rows of the module named <paramref name="name"/> (one per call).</summary>
    public IEnumerable<CostRow> RowsOf(string name) => Rows.Where(r => r.Name == name);

    /// <summary>The table as JSON (for <c>learn cost --json</c>): totals, then one object per row.</summary>
    public string ToJson(bool indented = true)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = indented }))
        {
            json.WriteStartObject();
            WriteShape(json, "input_shape", InputShape);
            WriteShape(json, "output_shape", Output.Shape);
            json.WriteNumber("parameters", Parameters);
            json.WriteNumber("total_parameters", TotalParameters);
            json.WriteNumber("macs", Macs);
            json.WriteString("convention", "MACs of Conv2d and Linear at every call; parameters of the modules the forward pass uses");
            json.WriteStartArray("layers");
            foreach (CostRow row in Rows)
            {
                json.WriteStartObject();
                json.WriteString("name", row.Name);
                json.WriteString("type", row.Type);
                WriteShape(json, "output_shape", row.OutputShape);
                json.WriteNumber("parameters", row.Parameters);
                json.WriteNumber("macs", row.Macs);
                json.WriteStartObject("receptive_field");
                WriteField(json, "height", row.Height);
                WriteField(json, "width", row.Width);
                json.WriteEndObject();
                json.WriteNumber("reduction", row.Reduction);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The table as aligned text: name, type, output shape, parameters, MACs, receptive field (h x w, jump).</summary>
    public string ToText()
    {
        var lines = new List<string[]> { Header };
        foreach (CostRow r in Rows)
        {
            lines.Add([r.Name, r.Type, Tensor.Format(r.OutputShape), Number(r.Parameters), Number(r.Macs), $"{r.Height.Size} x {r.Width.Size}", $"{r.Height.Jump} x {r.Width.Jump}"]);
        }

        int[] widths = Enumerable.Range(0, 7).Select(c => lines.Max(l => l[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (string[] line in lines)
        {
            IEnumerable<string> cells = line.Select((cell, c) => c is 3 or 4 ? cell.PadLeft(widths[c]) : cell.PadRight(widths[c]));
            text.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"input {Tensor.Format(InputShape)} -> output {Tensor.Format(Output.Shape)}\n");
        text.Append(CultureInfo.InvariantCulture, $"parameters used: {Number(Parameters)} ({Parameters / 1e6:F1}M); all parameters: {Number(TotalParameters)}\n");
        text.Append(CultureInfo.InvariantCulture, $"multiply-accumulates: {Number(Macs)} ({Macs / 1e6:F1}M)\n");
        return text.ToString();
    }

    private static readonly string[] Header = ["layer", "type", "output", "params", "MACs", "RF (h x w)", "jump"];

    private static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static void WriteShape(Utf8JsonWriter json, string name, int[] shape)
    {
        json.WriteStartArray(name);
        foreach (int s in shape)
        {
            json.WriteNumberValue(s);
        }

        json.WriteEndArray();
    }

    private static void WriteField(Utf8JsonWriter json, string name, ReceptiveField field)
    {
        json.WriteStartObject(name);
        json.WriteNumber("size", field.Size);
        json.WriteNumber("jump", field.Jump);
        json.WriteNumber("start", field.Start);
        json.WriteEndObject();
    }
}
