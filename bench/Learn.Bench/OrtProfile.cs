using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Learn.Bench;

/// <summary>
/// ONNX Runtime's own per-node profile of the OSNet forward (<c>--quick --only ort-profile</c>), to set beside the plan's
/// per-layer table: what the optimised graph runs (NCHWc reorders, fused convs) and how long each kind of node takes.
/// Batch 1, one intra-op thread, 41 forwards after warm-up, each node's median; summed by op type and by shape.
/// </summary>
internal static class OrtProfile
{
    public static void Write(TextWriter output, OSNetCase c)
    {
        var inv = CultureInfo.InvariantCulture;
        string prefix = Path.Combine(Path.GetTempPath(), $"ort-profile-{Environment.ProcessId}");
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        using var warm = new InferenceSession(Path.Combine(c.Dir, c.Variant + ".onnx"), options);
        var input = new DenseTensor<float>(c.Input.Data, c.Input.Shape);
        for (int i = 0; i < 20; i++)
        {
            using var _ = warm.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        }

        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = prefix;
        using var session = new InferenceSession(Path.Combine(c.Dir, c.Variant + ".onnx"), options);
        const int Rounds = 41;
        for (int i = 0; i < Rounds + 5; i++)
        {
            using var _ = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        }

        string file = session.EndProfiling();
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        File.Delete(file);
        var perNode = new Dictionary<string, (string Op, string Shape, List<double> Us)>();
        foreach (JsonElement e in doc.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node" || !e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
            {
                continue;
            }

            JsonElement args = e.GetProperty("args");
            string name = e.GetProperty("name").GetString()!;
            string op = args.GetProperty("op_name").GetString()!;
            string shape = args.TryGetProperty("output_type_shape", out JsonElement s) ? s.ToString() : "";
            if (!perNode.TryGetValue(name, out var entry))
            {
                entry = (op, shape, []);
                perNode[name] = entry;
            }

            entry.Us.Add(e.GetProperty("dur").GetDouble());
        }

        double Median(List<double> v) => v.Skip(5).Order().ElementAt((v.Count - 5) / 2);
        double total = perNode.Values.Sum(n => Median(n.Us)) / 1000;
        output.WriteLine(string.Create(inv, $"{c.Variant}: ONNX Runtime's nodes, batch 1, 1 thread, load average {File.ReadAllText("/proc/loadavg").Trim()} (sum of node medians {total:F2} ms)"));
        output.WriteLine();
        output.WriteLine("| op | output shape | nodes | ms | share |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: |");
        foreach (var g in perNode.Values.GroupBy(n => (n.Op, n.Shape)).OrderByDescending(g => g.Sum(n => Median(n.Us))))
        {
            double ms = g.Sum(n => Median(n.Us)) / 1000;
            output.WriteLine(string.Create(inv, $"| {g.Key.Op} | {g.Key.Shape.Replace("|", "/", StringComparison.Ordinal)} | {g.Count()} | {ms:F3} | {100 * ms / total:F0}% |"));
        }
    }
}
