using System.Globalization;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;

namespace Learn.Bench;

/// <summary>
/// The stem (<c>--quick --only stem</c>): 7x7 stride 2, 3 -> 64 (and 3 -> 16, x0_25's) at 256x128 with ReLU, the blocked
/// direct conv the plan runs against the NCHW indirect GEMM it replaced and ONNX Runtime's conv, one thread, thread
/// CPU time, interleaved; the blocked output is checked against the reference first.
/// </summary>
public static class StemBench
{
    /// <summary>Writes the table; returns 1 if the blocked conv disagreed with the reference.</summary>
    public static int Run(TextWriter output, int rounds = 15)
    {
        ArgumentNullException.ThrowIfNull(output);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}, 1 thread, thread CPU time, {rounds} interleaved rounds");
        output.WriteLine();
        output.WriteLine("| conv | blocked ms | NCHW fast ms | onnxruntime ms | blocked GFLOP/s | NCHW fast GFLOP/s | onnxruntime GFLOP/s | blocked / onnxruntime |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        int status = 0;
        foreach (int cout in new[] { 64, 16 })
        {
            BenchCase c = BenchCase.Stem(cout);
            using IConvPeer fast = Peers.Create(Peers.Fast, c, 1), onnx = Peers.Create(Peers.Onnx, c, 1), naive = Peers.Create(Peers.Naive, c, 1);
            var stem = new BlockedDirectConv(c.Weight.Data, c.Bias.Data, cout, 3, 7, 2, 3);
            int oh = stem.Out(256), ow = stem.Out(128);
            var y = new float[BlockedLayout.Length(1, cout, oh, ow)];
            void Blocked() => stem.Forward(c.Input.Data, 1, 256, 128, y, relu: false, threads: 1);
            naive.Run();
            Blocked();
            var nchw = new float[cout * oh * ow];
            BlockedLayout.ToNchw(y, 1, cout, oh, ow, nchw);
            string? d = QuickBench.Disagreement(nchw, naive.Output(), c.Geometry.ReductionLength);
            if (d is not null)
            {
                output.WriteLine($"<!-- the blocked stem disagrees with the reference: {d} -->");
                status = 1;
            }

            double[] ms = QuickBench.InterleavedMs([Blocked, fast.Run, onnx.Run], 1.0, ThreadClock.NowMs, rounds);
            output.WriteLine(string.Create(inv,
                $"| {c.Name} | {ms[0]:F3} | {ms[1]:F3} | {ms[2]:F3} | {QuickBench.Gflops(c, ms[0]):F0} | {QuickBench.Gflops(c, ms[1]):F0} | {QuickBench.Gflops(c, ms[2]):F0} | {ms[0] / ms[2]:F2}x |"));
        }

        return status;
    }
}
