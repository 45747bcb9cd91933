using System.Text;
using System.Text.Json.Nodes;
using Learn.Notebooks.Format;
using Learn.Notebooks.Kernel;

namespace Learn.Notebooks.Execution;

/// <summary>
/// Collects one cell's outputs in order: Console writes become <c>stream</c> outputs (consecutive
/// writes to one stream are merged, as Polyglot does), displays become <c>display_data</c>.
/// </summary>
public sealed class CellRecorder : IDisplaySink
{
    private readonly Lock _gate = new();
    private readonly List<JsonObject> _outputs = [];
    private readonly List<StringBuilder?> _streamText = [];
    private int _cell;
    private int _charts;

    /// <summary>Starts recording the outputs of cell <paramref name="cellNumber"/>.</summary>
    public void Begin(int cellNumber)
    {
        lock (_gate)
        {
            _outputs.Clear();
            _streamText.Clear();
            _cell = cellNumber;
            _charts = 0;
        }
    }

    /// <summary>Stops recording and returns the outputs, stream text split into lines.</summary>
    public IReadOnlyList<JsonObject> End()
    {
        lock (_gate)
        {
            for (int i = 0; i < _outputs.Count; i++)
            {
                if (_streamText[i] is StringBuilder sb)
                {
                    _outputs[i]["text"] = PolyglotJson.SplitLines(sb.ToString());
                }
            }

            var result = _outputs.ToList();
            _outputs.Clear();
            _streamText.Clear();
            return result;
        }
    }

    /// <summary>Appends a finished output (e.g. an error).</summary>
    public void Add(JsonObject output)
    {
        lock (_gate)
        {
            _outputs.Add(output);
            _streamText.Add(null);
        }
    }

    /// <summary>An error output as VS Code stores it: ename "Error", the message, and the message split into lines.</summary>
    public static JsonObject ErrorOutput(string text) => new()
    {
        ["ename"] = "Error",
        ["evalue"] = text,
        ["output_type"] = "error",
        ["traceback"] = PolyglotJson.SplitLines(text),
    };

    /// <summary>Appends Console text to the last output if it is the same stream, else starts a new one.</summary>
    public void Write(string stream, string text)
    {
        lock (_gate)
        {
            int last = _outputs.Count - 1;
            if (last >= 0 && _streamText[last] is StringBuilder sb && (string?)_outputs[last]["name"] == stream)
            {
                sb.Append(text);
                return;
            }

            _outputs.Add(new JsonObject { ["name"] = stream, ["output_type"] = "stream" });
            _streamText.Add(new StringBuilder(text));
        }
    }

    /// <inheritdoc />
    public int Display(JsonObject data)
    {
        lock (_gate)
        {
            _outputs.Add(new JsonObject { ["data"] = data, ["metadata"] = new JsonObject(), ["output_type"] = "display_data" });
            _streamText.Add(null);
            return _outputs.Count - 1;
        }
    }

    /// <inheritdoc />
    public void Update(int handle, JsonObject data)
    {
        lock (_gate)
        {
            if (handle >= 0 && handle < _outputs.Count)
            {
                _outputs[handle]["data"] = data;
            }
        }
    }

    /// <inheritdoc />
    public string NewChartId()
    {
        lock (_gate)
        {
            return $"plotly-c{_cell}-{++_charts}";
        }
    }
}

/// <summary>A <see cref="TextWriter"/> that sends Console output of the running cell to a <see cref="CellRecorder"/>.</summary>
internal sealed class RecorderWriter : TextWriter
{
    private readonly CellRecorder _recorder;
    private readonly string _stream;

    public RecorderWriter(CellRecorder recorder, string stream)
    {
        _recorder = recorder;
        _stream = stream;
        // Outputs use \n on every OS, so executed files do not depend on where they ran.
        NewLine = "\n";
    }

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) => _recorder.Write(_stream, value.ToString());

    public override void Write(string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            _recorder.Write(_stream, value);
        }
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));
}
