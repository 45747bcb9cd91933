using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Learn.Bench;

// Learn.Bench --quick [--only TEXT|osnet] [--threads 1,2] [--cpu-time]   the Stopwatch table, under a minute
// Learn.Bench --quick --only osnet-profile [--threads 1]   only the per-layer table of the OSNet plan
// Learn.Bench --quick --only ort-profile   ONNX Runtime's own per-node profile of the OSNet forward (1 thread)
// Learn.Bench --quick --only osnet-ab [--variant x1_0] [--batches 1] [--layouts | --batch-modes]   a kernel change (Experiment.Before) against
//     the code before it; with --layouts the blocked plan against the NCHW one; with --batch-modes (and --batches 8) a batch
//     run image by image against the whole batch at once
// Learn.Bench --quick --only blocked-pointwise   the blocked (NCHW16c) 1x1 conv vs the NCHW one, hot and cold, 1 thread
// Learn.Bench --quick --only stride   the stage-1 1x1 convs at 64x32 vs a 65x32 map (power-of-two row strides)
// Learn.Bench --quick --only stem   the blocked stem conv against the NCHW fast conv and ONNX Runtime
//   --rounds N (OSNet rows): interleaved rounds per row, default 31; --no-profile: skip the per-layer tables
//   --batches 1,8 --variant x1_0 --no-libtorch (OSNet rows): a subset, for quick looks while working
//   --plan-batch whole|images (OSNet rows): how the plan runs a batch of 8 (default Auto: image by image in the blocked layout)
//   --cpu-time (OSNet rows): the 1-thread rows by the thread's CPU clock (every peer is checked to compute on the calling thread)
//   --cpu-time (with --threads 1): time by the thread's CPU clock, for a fair comparison on a busy machine
// Learn.Bench [BDN arguments]                        the BenchmarkDotNet run, e.g. --filter '*'
if (args.Contains("--quick"))
{
    string only = Option("--only") ?? "";
    if (only.StartsWith("blocked-ops", StringComparison.Ordinal))
    {
        return BlockedOpsBench.Run(Console.Out, only); // the blocked (NCHW16c) depthwise, gate, means, pools, layout vs the NCHW kernels
    }

    int[] threads = (Option("--threads") ?? "1,2").Split(',').Select(int.Parse).ToArray();
    int status = 0;
    if (!only.StartsWith("osnet", StringComparison.Ordinal) && !only.StartsWith("blocked", StringComparison.Ordinal) && only != "stride" && only != "stem" && only != "ort-profile")
    {
        status = QuickBench.Run(Console.Out, threadCounts: threads, only: only, cpuTime: args.Contains("--cpu-time"));
        Console.Out.WriteLine();
    }

    if (only == "ort-profile")
    {
        foreach (string variant in OSNetCase.Variants)
        {
            OrtProfile.Write(Console.Out, OSNetCase.Load(variant));
            Console.Out.WriteLine();
        }

        return 0;
    }

    if (only == "osnet-ab")
    {
        AbBench.Run(Console.Out, Option("--variant") ?? "", Option("--batches")?.Split(',').Select(int.Parse).ToArray() ?? [1],
            int.Parse(Option("--rounds") ?? "21", System.Globalization.CultureInfo.InvariantCulture), layouts: args.Contains("--layouts"), batchModes: args.Contains("--batch-modes"));
        return 0;
    }

    if (only == "blocked-pointwise")
    {
        return BlockedBench.Run(Console.Out);
    }

    if (only == "stride")
    {
        return StrideBench.Run(Console.Out);
    }

    if (only == "stem")
    {
        return StemBench.Run(Console.Out);
    }

    if (only == "osnet-profile")
    {
        foreach (string variant in OSNetCase.Variants)
        {
            QuickOSNet.WriteProfile(Console.Out, OSNetCase.Load(variant), threads[0]);
            Console.Out.WriteLine();
        }
    }
    else if (only.Length == 0 || only.StartsWith("osnet", StringComparison.Ordinal))
    {
        int rounds = int.Parse(Option("--rounds") ?? "31", System.Globalization.CultureInfo.InvariantCulture);
        int[]? batches = Option("--batches")?.Split(',').Select(int.Parse).ToArray();
        status |= QuickOSNet.Run(Console.Out, threads, rounds, batches, profile: !args.Contains("--no-profile"),
            variants: Option("--variant") ?? "", withTorch: !args.Contains("--no-libtorch"),
            cpuTime: args.Contains("--cpu-time"), planBatch: Enum.Parse<Learn.Engine.PlanBatch>(Option("--plan-batch") ?? "Auto", ignoreCase: true));
    }

    return status;
}

IConfig config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(ConvBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
return 0;

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
