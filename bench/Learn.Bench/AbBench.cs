using System.Globalization;
using Learn.Engine;
using Learn.Ops.Fast;

namespace Learn.Bench;

/// <summary>
/// One kernel change measured against the code before it in the same process (<c>--quick --only osnet-ab</c>):
/// the plan with <see cref="Experiment.Before"/> off (after) and on (before), and ONNX Runtime, interleaved rounds
/// with the order rotating, one thread, thread CPU time; medians of the per-round ratios. With <c>--layouts</c> the
/// two plans are instead the blocked layout (after) and NCHW (before), both on the current code; with
/// <c>--batch-modes</c> a batch run image by image (after) and as a whole (before).
/// </summary>
internal static class AbBench
{
    public static void Run(TextWriter output, string variants, int[] batches, int rounds, bool layouts = false, bool batchModes = false)
    {
        bool experiment = !layouts && !batchModes; // the switch is flipped only when comparing against the code before
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}; 1 thread, thread CPU time, {rounds} rounds");
        output.WriteLine();
        output.WriteLine("| model | batch | after ms | before ms | onnxruntime ms | after / before (p10..p90) | after / onnxruntime | before / onnxruntime |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (string variant in OSNetCase.Variants.Where(v => v.Contains(variants, StringComparison.Ordinal)))
        {
            OSNetCase c = OSNetCase.Load(variant);
            foreach (int batch in batches)
            {
                // Two plans: "before" fused with the switch on (a change to packing shows), both run with it set.
                Experiment.Before = experiment;
                using IConvPeer before = c.Create(Peers.Fast, 1, batch, layouts ? PlanLayout.Nchw : PlanLayout.Auto, batchModes ? PlanBatch.Whole : PlanBatch.Auto);
                Experiment.Before = false;
                using IConvPeer fast = c.Create(Peers.Fast, 1, batch, layouts ? PlanLayout.Blocked : PlanLayout.Auto, batchModes ? PlanBatch.Images : PlanBatch.Auto),
                    onnx = c.Create(Peers.Onnx, 1, batch);
                Action[] runs =
                [
                    () => { Experiment.Before = false; fast.Run(); },
                    () => { Experiment.Before = experiment; before.Run(); },
                    onnx.Run,
                ];
                foreach (Action run in runs)
                {
                    QuickBench.MedianMs(run, 0.3, minReps: 3);
                }

                var t = runs.Select(_ => new double[rounds]).ToArray();
                for (int r = 0; r < rounds; r++)
                {
                    for (int j = 0; j < runs.Length; j++)
                    {
                        int i = (r + j) % runs.Length;
                        runs[i](); // the switch's first call after a flip is not timed
                        double t0 = ThreadClock.NowMs();
                        runs[i]();
                        runs[i]();
                        t[i][r] = (ThreadClock.NowMs() - t0) / 2;
                    }
                }

                Experiment.Before = false;
                double Med(IEnumerable<double> v) => v.Order().ElementAt(rounds / 2);
                double P(IEnumerable<double> v, double q) => v.Order().ElementAt((int)(q * (rounds - 1)));
                var ab = Enumerable.Range(0, rounds).Select(r => t[0][r] / t[1][r]).ToArray();
                output.WriteLine(string.Create(inv,
                    $"| {variant} | {batch} | {Med(t[0]):F2} | {Med(t[1]):F2} | {Med(t[2]):F2} | {Med(ab):F3} ({P(ab, 0.1):F2}..{P(ab, 0.9):F2}) | " +
                    $"{Med(Enumerable.Range(0, rounds).Select(r => t[0][r] / t[2][r])):F2}x | {Med(Enumerable.Range(0, rounds).Select(r => t[1][r] / t[2][r])):F2}x |"));
            }
        }
    }
}
