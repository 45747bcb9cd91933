using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Learn.Ops.Fast;
using Learn.Ops.Fast.Blocked;

namespace Learn.Bench;

/// <summary>
/// The blocked 1x1 conv (<c>--quick --only blocked-pointwise</c>): <see cref="BlockedPointwise"/> on NCHW16c maps
/// against the NCHW <see cref="PointwiseGemm"/> (weights packed once, as the OSNet plan calls it) on OSNet x1_0's
/// 1x1 shapes, batch 1, one thread, bias + ReLU, thread CPU time, interleaved rounds. Hot: the same buffers every
/// call. Cold: each call takes the next of enough distinct input/output buffers (over 32 MiB in all, past the
/// 2 MiB L2) that its data is not in L2, as in the plan where each layer reads what the layer before wrote long ago.
/// Each row also times a register-only FMA loop in the same rounds: on a shared machine that is the peak for scale.
/// </summary>
public static class BlockedBench
{
    private const long ColdBytes = 32L << 20;

    // (C_in, C_out, h, w): x1_0's 1x1 convs at the map each runs on.
    private static readonly (int Cin, int Cout, int H, int W)[] Shapes =
    [
        (64, 64, 64, 32), (64, 256, 64, 32), (256, 64, 64, 32), (256, 256, 64, 32), (256, 384, 64, 32),
        (96, 96, 32, 16), (384, 96, 32, 16), (96, 384, 32, 16), (384, 384, 32, 16),
        (128, 128, 16, 8), (384, 128, 16, 8), (512, 128, 16, 8), (128, 512, 16, 8), (384, 512, 16, 8),
    ];

    private const int PeakFmas = 24 * 100_000;

    /// <summary>24 independent multiply-add chains on registers only: what the core delivers now, for scale.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float PeakProbe(float seed)
    {
        Vector512<float> m = Vector512.Create(0.999f), c = Vector512.Create(seed * 1e-3f);
        Vector512<float> a0 = c, a1 = c, a2 = c, a3 = c, a4 = c, a5 = c, a6 = c, a7 = c, a8 = c, a9 = c, a10 = c, a11 = c;
        Vector512<float> b0 = c, b1 = c, b2 = c, b3 = c, b4 = c, b5 = c, b6 = c, b7 = c, b8 = c, b9 = c, b10 = c, b11 = c;
        for (int i = 0; i < PeakFmas / 24; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c); a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c); a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
            b0 = Vector512.FusedMultiplyAdd(b0, m, c); b1 = Vector512.FusedMultiplyAdd(b1, m, c); b2 = Vector512.FusedMultiplyAdd(b2, m, c);
            b3 = Vector512.FusedMultiplyAdd(b3, m, c); b4 = Vector512.FusedMultiplyAdd(b4, m, c); b5 = Vector512.FusedMultiplyAdd(b5, m, c);
            b6 = Vector512.FusedMultiplyAdd(b6, m, c); b7 = Vector512.FusedMultiplyAdd(b7, m, c); b8 = Vector512.FusedMultiplyAdd(b8, m, c);
            b9 = Vector512.FusedMultiplyAdd(b9, m, c); b10 = Vector512.FusedMultiplyAdd(b10, m, c); b11 = Vector512.FusedMultiplyAdd(b11, m, c);
        }

        Vector512<float> s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9 + b10 + b11;
        return Vector512.Sum(s);
    }

    /// <summary>Writes the table; returns 1 if the two kernels disagree.</summary>
    public static int Run(TextWriter output, int rounds = 15)
    {
        ArgumentNullException.ThrowIfNull(output);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}, batch 1, 1 thread, bias + ReLU, thread CPU time, {rounds} interleaved rounds");
        output.WriteLine();
        output.WriteLine("| conv | map | blocked hot | NCHW hot | blocked cold | NCHW cold | cold blocked / NCHW time | FMA probe |");
        output.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        int status = 0;
        foreach (var (cin, cout, h, w) in Shapes)
        {
            BenchCase c = BenchCase.Pointwise(cin, cout, h, w);
            int positions = h * w;
            using PackedWeights gemmWeights = PackedWeights.Pack(1, cout, cin, c.Weight.Data, c.Bias!.Data);
            BlockedPointwiseWeights blockedWeights = BlockedPointwiseWeights.Pack(c.Weight.Data, c.Bias.Data, cout, cin);

            long setBytes = 4L * ((cin + cout) * positions + ((BlockedLayout.Blocks(cin) + BlockedLayout.Blocks(cout)) * 16 * positions));
            int sets = (int)Math.Max(2, (ColdBytes + setBytes - 1) / setBytes);
            var nchwX = new float[sets][];
            var nchwY = new float[sets][];
            var blockedX = new float[sets][];
            var blockedY = new float[sets][];
            for (int s = 0; s < sets; s++)
            {
                nchwX[s] = (float[])c.Input.Data.Clone();
                nchwY[s] = new float[cout * positions];
                blockedX[s] = new float[BlockedLayout.Length(1, cin, h, w)];
                BlockedLayout.FromNchw(c.Input.Data, 1, cin, h, w, blockedX[s]);
                blockedY[s] = new float[BlockedLayout.Length(1, cout, h, w)];
            }

            void Nchw(int s) => PointwiseGemm.Forward(c.Geometry, nchwX[s], gemmWeights, nchwY[s], true, null, 1);
            void Blocked(int s) => BlockedPointwise.Forward(blockedWeights, blockedX[s], 1, positions, blockedY[s], true, null, 1);

            Nchw(0);
            Blocked(0);
            var back = new float[cout * positions];
            BlockedLayout.ToNchw(blockedY[0], 1, cout, h, w, back);
            string? d = QuickBench.Disagreement(back, nchwY[0], cin);
            if (d is not null)
            {
                output.WriteLine($"<!-- blocked disagrees with NCHW on {c.Name}: {d} -->");
                status = 1;
            }

            int nextNchw = 0, nextBlocked = 0;
            double[] ms = QuickBench.InterleavedMs(
                [() => Blocked(0), () => Nchw(0), () => Blocked(nextBlocked = (nextBlocked + 1) % sets), () => Nchw(nextNchw = (nextNchw + 1) % sets), () => PeakProbe(1f)],
                2.0, ThreadClock.NowMs, rounds);
            string G(double t) => string.Create(inv, $"{QuickBench.Gflops(c, t):F0}");
            output.WriteLine(string.Create(inv,
                $"| {cin}->{cout} | {h}x{w} | {G(ms[0])} | {G(ms[1])} | {G(ms[2])} | {G(ms[3])} | {ms[2] / ms[3]:F2}x | {2.0 * PeakFmas * 16 / (ms[4] * 1e6):F0} |"));
        }

        output.WriteLine();
        output.WriteLine("GFLOP/s = 2*MACs/time (nominal peak 268 per core; the FMA probe, a register-only loop interleaved with each row, is what the shared core delivered then); cold cycles through distinct buffers, over 32 MiB in all.");
        return status;
    }
}
