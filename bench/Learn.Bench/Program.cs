using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Learn.Bench;

// Learn.Bench --quick           the Stopwatch table, under a minute
// Learn.Bench [BDN arguments]   the BenchmarkDotNet run, e.g. --filter '*'
if (args.Contains("--quick"))
{
    return QuickBench.Run(Console.Out);
}

IConfig config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(ConvBenchmarks).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
return 0;
