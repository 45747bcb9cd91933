using System.Text;
using System.Text.Json;
using Learn.Verification;

namespace Learn.Cli.Commands;

/// <summary>
/// <c>learn diff --json</c>: the report for CI. One object: <c>passed</c>, the first layer diverging with and
/// without error propagation, <c>missing</c> (reference layers the port did not dump) and per compared layer its
/// key, shape and both verdicts (max_abs_error, ratio = worst error/tolerance, outside, worst_index, port,
/// expected, tolerance). A ratio that is infinite (a difference where the tolerance is 0) is written as null.
/// </summary>
internal static class DiffReportJson
{
    public static string Of(string port, string reference, PortReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", "learn-diff");
            json.WriteNumber("version", 1);
            json.WriteString("port", port);
            json.WriteString("reference", reference);
            json.WriteBoolean("passed", report.Passed);
            json.WriteString("first_divergence", report.FirstPropagated?.Key);
            json.WriteString("first_introduced", report.FirstIsolated?.Key);
            json.WriteBoolean("noise_recorded", report.HasNoise);
            json.WriteBoolean("isolated_checked", report.Isolated);
            json.WriteStartArray("missing");
            foreach (string key in report.Missing)
            {
                json.WriteStringValue(key);
            }

            json.WriteEndArray();
            json.WriteStartArray("layers");
            foreach (PortLayer layer in report.Layers)
            {
                json.WriteStartObject();
                json.WriteString("key", layer.Key);
                json.WriteStartArray("shape");
                foreach (int d in layer.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                Verdict(json, "propagated", layer.Propagated);
                Verdict(json, "isolated", layer.Isolated);
                json.WriteString("isolated_how", layer.IsolatedHow);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Verdict(Utf8JsonWriter json, string name, LayerVerdict? v)
    {
        if (v is null)
        {
            json.WriteNull(name);
            return;
        }

        json.WriteStartObject(name);
        json.WriteBoolean("close", v.Close);
        json.WriteNumber("max_abs_error", v.MaxAbsError);
        Finite(json, "ratio", v.WorstRatio);
        json.WriteNumber("outside", v.Outside);
        json.WriteNumber("worst_index", v.WorstIndex);
        json.WriteString("worst_at", v.WorstAt);
        json.WriteNumber("port", v.Port);
        json.WriteNumber("expected", v.Expected);
        Finite(json, "tolerance", v.ToleranceAtWorst);
        json.WriteEndObject();
    }

    private static void Finite(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
