using System.Globalization;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;

namespace Learn.Bench;

/// <summary>
/// The blocked (NCHW16c) kernels against the NCHW fast kernels the plan runs today (<c>--quick --only blocked-ops</c>),
/// at OSNet's shapes, batch 1, one thread, by the thread's CPU clock, interleaved rounds. Hot: the same buffers every
/// call (they fit in L2). Cold: each call takes the next of enough distinct buffer sets to cycle through more than
/// 16 MiB, so the data come from L3 or memory. GB/s counts each input and output float once.
/// <c>--only blocked-ops:TEXT</c> runs only the rows whose op name contains TEXT (e.g. <c>blocked-ops:depthwise</c>).
/// </summary>
public static class BlockedOpsBench
{
    private const long ColdBytes = 24L << 20;

    private static string s_filter = "";

    /// <summary>Writes the table; <paramref name="only"/> is the <c>--only</c> argument (a filter after a colon).</summary>
    public static int Run(TextWriter output, string only, int rounds = 15)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(only);
        s_filter = only.Contains(':', StringComparison.Ordinal) ? only[(only.IndexOf(':', StringComparison.Ordinal) + 1)..] : "";
        output.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}, 1 thread, thread CPU time, {rounds} interleaved rounds; cold = cycling through > 16 MiB of buffers");
        output.WriteLine();
        output.WriteLine("| op | shape | cache | blocked us | NCHW us | blocked / NCHW | blocked GB/s | NCHW GB/s | blocked GFLOP/s | NCHW GFLOP/s |");
        output.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        (int C, int H, int W)[] light = [(64, 64, 32), (96, 32, 16), (128, 16, 8), (16, 64, 32), (24, 32, 16), (32, 16, 8)];
        foreach (var (c, h, w) in light)
        {
            Depthwise(output, c, h, w, rounds);
        }

        foreach (var (c, h, w) in light)
        {
            Gate(output, c, h, w, rounds);
        }

        foreach (var (c, h, w) in light)
        {
            Means(output, c, h, w, rounds);
        }

        foreach (int c in new[] { 64, 16 })
        {
            MaxPool(output, c, 128, 64, rounds);
        }

        foreach (var (c, h, w) in new[] { (256, 64, 32), (384, 32, 16), (64, 64, 32), (96, 32, 16) })
        {
            AvgPool(output, c, h, w, rounds);
        }

        foreach (int c in new[] { 64, 16 })
        {
            Layout(output, c, 128, 64, rounds);
        }

        return 0;
    }

    /// <summary>Enough copies of a buffer of <paramref name="length"/> floats, one per <paramref name="floatsPerSet"/> floats of a whole set, to cycle through <see cref="ColdBytes"/> (hot: one).</summary>
    private static float[][] Buffers(long floatsPerSet, bool cold, int length, int seed)
    {
        int sets = cold ? (int)Math.Max(2, (ColdBytes / 4 / Math.Max(1, floatsPerSet)) + 1) : 1;
        var buffers = new float[sets][];
        for (int s = 0; s < sets; s++)
        {
            buffers[s] = Tensor.Random(seed + s, length).Data;
        }

        return buffers;
    }

    private static void Row(TextWriter output, string op, string shape, long floatsMoved, double flops, Func<bool, (Action Blocked, Action Nchw)> make, int rounds)
    {
        if (!op.Contains(s_filter, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        foreach (bool cold in new[] { false, true })
        {
            var (blocked, nchw) = make(cold);
            double[] ms = QuickBench.InterleavedMs([blocked, nchw], 1.0, ThreadClock.NowMs, rounds);
            double gb(double t) => floatsMoved * 4 / (t * 1e6);
            string gf(double t) => flops > 0 ? (flops / (t * 1e6)).ToString("F1", inv) : "";
            output.WriteLine(string.Create(inv,
                $"| {op} | {shape} | {(cold ? "cold" : "hot")} | {ms[0] * 1e3:F1} | {ms[1] * 1e3:F1} | {ms[0] / ms[1]:F2}x | {gb(ms[0]):F1} | {gb(ms[1]):F1} | {gf(ms[0])} | {gf(ms[1])} |"));
        }
    }

    private static void Depthwise(TextWriter output, int c, int h, int w, int rounds)
    {
        Tensor wt = Tensor.Random(1, c, 1, 3, 3), bias = Tensor.Random(2, c);
        float[] packed = BlockedDepthwise.Pack(wt.Data, bias.Data, c);
        var options = new ConvOptions { Padding = Padding.Of(1), Groups = c };
        ConvGeometry g = ConvGeometry.Resolve(2, Tensor.Zeros(1, c, h, w), wt, bias, options);
        int plain = c * h * w, blockedLength = BlockedLayout.Length(1, c, h, w);
        Row(output, "depthwise 3x3 + ReLU", $"{c}x{h}x{w}", 2L * plain, 2.0 * 9 * plain, cold =>
        {
            float[][] bx = Buffers(2L * blockedLength, cold, blockedLength, 10), by = Buffers(2L * blockedLength, cold, blockedLength, 20);
            float[][] nx = Buffers(2L * plain, cold, plain, 30), ny = Buffers(2L * plain, cold, plain, 40);
            int kb = 0, kn = 0;
            return (() =>
            {
                kb = (kb + 1) % bx.Length;
                BlockedDepthwise.Forward(packed, bx[kb], 1, c, h, w, by[kb], relu: true, threads: 1);
            }, () =>
            {
                kn = (kn + 1) % nx.Length;
                DepthwiseConv.Forward(g, nx[kn], wt.Data, bias.Data, ny[kn], PaddingMode.Zeros, relu: true, threads: 1);
            });
        }, rounds);
    }

    private static void Gate(TextWriter output, int c, int h, int w, int rounds)
    {
        float[] gates = Tensor.Random(3, c).Data;
        int plain = c * h * w, blockedLength = BlockedLayout.Length(1, c, h, w);
        Row(output, "gate sum += x*g", $"{c}x{h}x{w}", 3L * plain, 0, cold =>
        {
            float[][] bx = Buffers(2L * blockedLength, cold, blockedLength, 10), bs = Buffers(2L * blockedLength, cold, blockedLength, 20);
            float[][] nx = Buffers(2L * plain, cold, plain, 30), ns = Buffers(2L * plain, cold, plain, 40);
            Tensor[] tx = nx.Select(d => new Tensor([1, c, h, w], d)).ToArray(), ts = ns.Select(d => new Tensor([1, c, h, w], d)).ToArray();
            int kb = 0, kn = 0;
            return (() =>
            {
                kb = (kb + 1) % bx.Length;
                BlockedGate.Accumulate(bx[kb], gates, 1, c, h, w, bs[kb], first: false, threads: 1);
            }, () =>
            {
                kn = (kn + 1) % tx.Length;
                FastElementwise.GateAccumulate(tx[kn], gates, ts[kn], first: false, threads: 1);
            });
        }, rounds);
    }

    private static void Means(TextWriter output, int c, int h, int w, int rounds)
    {
        int plain = c * h * w, blockedLength = BlockedLayout.Length(1, c, h, w), hw = h * w;
        var means = new float[c];
        Row(output, "channel means", $"{c}x{h}x{w}", plain, 0, cold =>
        {
            float[][] bx = Buffers(blockedLength, cold, blockedLength, 10), nx = Buffers(plain, cold, plain, 30);
            int kb = 0, kn = 0;
            return (() =>
            {
                kb = (kb + 1) % bx.Length;
                BlockedPool.ChannelMeans(bx[kb], 1, c, h, w, means, threads: 1);
            }, () =>
            {
                kn = (kn + 1) % nx.Length;
                for (int p = 0; p < c; p++)
                {
                    means[p] = FastPool.Sum(nx[kn].AsSpan(p * hw, hw)) / hw; // as FusedGate.Gates pools
                }
            });
        }, rounds);
    }

    private static void MaxPool(TextWriter output, int c, int h, int w, int rounds)
    {
        int oh = BlockedPool.Out(h, 3, 2, 1), ow = BlockedPool.Out(w, 3, 2, 1);
        int plain = c * h * w, plainOut = c * oh * ow, bIn = BlockedLayout.Length(1, c, h, w), bOut = BlockedLayout.Length(1, c, oh, ow);
        Row(output, "max pool 3x3 s2 p1", $"{c}x{h}x{w}", plain + plainOut, 0, cold =>
        {
            float[][] bx = Buffers(bIn + bOut, cold, bIn, 10), by = Buffers(bIn + bOut, cold, bOut, 20);
            Tensor[] tx = Buffers(plain + plainOut, cold, plain, 30).Select(d => new Tensor([1, c, h, w], d)).ToArray();
            Tensor[] ty = Buffers(plain + plainOut, cold, plainOut, 40).Select(d => new Tensor([1, c, oh, ow], d)).ToArray();
            int kb = 0, kn = 0;
            return (() =>
            {
                kb = (kb + 1) % bx.Length;
                BlockedPool.MaxPool(bx[kb], 1, c, h, w, 3, 2, 1, by[kb], threads: 1);
            }, () =>
            {
                kn = (kn + 1) % tx.Length;
                FastPool.MaxPool2d(tx[kn], 3, 2, 1, ty[kn], threads: 1);
            });
        }, rounds);
    }

    private static void AvgPool(TextWriter output, int c, int h, int w, int rounds)
    {
        int oh = h / 2, ow = w / 2;
        int plain = c * h * w, plainOut = c * oh * ow, bIn = BlockedLayout.Length(1, c, h, w), bOut = BlockedLayout.Length(1, c, oh, ow);
        Row(output, "avg pool 2x2 s2", $"{c}x{h}x{w}", plain + plainOut, 0, cold =>
        {
            float[][] bx = Buffers(bIn + bOut, cold, bIn, 10), by = Buffers(bIn + bOut, cold, bOut, 20);
            Tensor[] tx = Buffers(plain + plainOut, cold, plain, 30).Select(d => new Tensor([1, c, h, w], d)).ToArray();
            Tensor[] ty = Buffers(plain + plainOut, cold, plainOut, 40).Select(d => new Tensor([1, c, oh, ow], d)).ToArray();
            int kb = 0, kn = 0;
            return (() =>
            {
                kb = (kb + 1) % bx.Length;
                BlockedPool.AvgPool(bx[kb], 1, c, h, w, 2, 2, by[kb], threads: 1);
            }, () =>
            {
                kn = (kn + 1) % tx.Length;
                FastPool.AvgPool2d(tx[kn], 2, 2, ty[kn], threads: 1);
            });
        }, rounds);
    }

    /// <summary>NCHW to blocked and back, against copying the same floats (the memory-bound floor).</summary>
    private static void Layout(TextWriter output, int c, int h, int w, int rounds)
    {
        int plain = c * h * w, blockedLength = BlockedLayout.Length(1, c, h, w);
        foreach (bool toBlocked in new[] { true, false })
        {
            Row(output, toBlocked ? "FromNchw (vs copy)" : "ToNchw (vs copy)", $"{c}x{h}x{w}", 2L * plain, 0, cold =>
            {
                float[][] nx = Buffers(plain + blockedLength, cold, plain, 10), bx = Buffers(plain + blockedLength, cold, blockedLength, 20);
                float[][] cx = Buffers(2L * plain, cold, plain, 30), cy = Buffers(2L * plain, cold, plain, 40);
                int kb = 0, kn = 0;
                return (() =>
                {
                    kb = (kb + 1) % nx.Length;
                    if (toBlocked)
                    {
                        BlockedLayout.FromNchw(nx[kb], 1, c, h, w, bx[kb]);
                    }
                    else
                    {
                        BlockedLayout.ToNchw(bx[kb], 1, c, h, w, nx[kb]);
                    }
                }, () =>
                {
                    kn = (kn + 1) % cx.Length;
                    cx[kn].AsSpan().CopyTo(cy[kn]);
                });
            }, rounds);
        }
    }
}
