using System.Globalization;

namespace Learn.Bench;

/// <summary>
/// The stride experiment (<c>--quick --only stride</c>): OSNet x1_0's stage-1 1x1 convs at 64x32 (rows of 2048
/// floats = 8 KiB, a multiple of the 4 KiB L1 set period) against the same convs on a 65x32 map (rows of 2080
/// floats, no power-of-two stride), and against ONNX Runtime on each, one thread, thread CPU time, interleaved.
/// If 8 KiB strides alias cache sets, the fast path's GFLOP/s rises on the padded map while ONNX Runtime's does not.
/// </summary>
public static class StrideBench
{
    /// <summary>Writes the table; returns 1 if a peer disagreed with the reference.</summary>
    public static int Run(TextWriter output, int rounds = 15)
    {
        ArgumentNullException.ThrowIfNull(output);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}, 1 thread, thread CPU time, {rounds} interleaved rounds");
        output.WriteLine();
        output.WriteLine("| conv | map | fast ms | onnxruntime ms | fast GFLOP/s | onnxruntime GFLOP/s | fast / onnxruntime |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        int status = 0;
        foreach (var (cin, cout) in new[] { (64, 64), (64, 256), (256, 64), (256, 256) })
        {
            foreach (var (h, w) in new[] { (64, 32), (65, 32), (32, 16), (33, 16) })
            {
                BenchCase c = BenchCase.Pointwise(cin, cout, h, w);
                using IConvPeer fast = Peers.Create(Peers.Fast, c, 1), onnx = Peers.Create(Peers.Onnx, c, 1);
                using IConvPeer naive = Peers.Create(Peers.Naive, c, 1);
                naive.Run();
                foreach (IConvPeer p in new[] { fast, onnx })
                {
                    p.Run();
                    string? d = QuickBench.Disagreement(p.Output(), naive.Output(), c.Geometry.ReductionLength);
                    if (d is not null)
                    {
                        output.WriteLine($"<!-- {p.Name} disagrees with the reference on {c.Name}: {d} -->");
                        status = 1;
                    }
                }

                double[] ms = QuickBench.InterleavedMs([fast.Run, onnx.Run], 1.0, ThreadClock.NowMs, rounds);
                output.WriteLine(string.Create(inv,
                    $"| {cin}->{cout} | {h}x{w} | {ms[0]:F3} | {ms[1]:F3} | {QuickBench.Gflops(c, ms[0]):F0} | {QuickBench.Gflops(c, ms[1]):F0} | {ms[0] / ms[1]:F2}x |"));
            }
        }

        return status;
    }
}
