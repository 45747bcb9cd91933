using System.Text.Json.Nodes;

namespace Learn.Notebooks.Kernel;

/// <summary>Where displayed values go: the runner's host records them, a plain program prints them.</summary>
public interface IDisplaySink
{
    /// <summary>Records a display output (a mime bundle) and returns a handle for later updates.</summary>
    int Display(JsonObject data);

    /// <summary>Replaces the data of an earlier display output in place.</summary>
    void Update(int handle, JsonObject data);

    /// <summary>A page-unique, run-to-run stable id for a chart's <c>div</c>.</summary>
    string NewChartId();
}

/// <summary>The default sink outside the runner (e.g. an exported file-based app): prints <c>text/plain</c>.</summary>
internal sealed class ConsoleSink : IDisplaySink
{
    private int _displays;
    private int _charts;

    public int Display(JsonObject data)
    {
        if (data["text/plain"] is JsonNode text)
        {
            string s = Format.PolyglotJson.JoinLines(text);
            Console.Out.Write(s.EndsWith('\n') ? s : s + "\n");
        }

        return _displays++;
    }

    public void Update(int handle, JsonObject data) => Display(data);

    public string NewChartId() => $"chart-{++_charts}";
}
