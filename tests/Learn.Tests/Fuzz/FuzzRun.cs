using System.Globalization;
using FsCheck;
using Microsoft.FSharp.Core;

namespace Learn.Tests.Fuzz;

/// <summary>
/// The FsCheck configuration of every property test: a fixed seed, so a CI run is reproducible and a failure
/// seen once is seen again; LEARN_FUZZ_SEED=&lt;n&gt; explores another sequence locally (the seed is printed).
/// </summary>
internal static class FuzzRun
{
    private const ulong DefaultSeed = 20261128;

    /// <summary>The seed in use: LEARN_FUZZ_SEED when it is a number, else the fixed default.</summary>
    public static ulong Seed =>
        ulong.TryParse(Environment.GetEnvironmentVariable("LEARN_FUZZ_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s : DefaultSeed;

    /// <summary>Throw on the first failure, run <paramref name="maxTest"/> cases from <see cref="Seed"/>.</summary>
    public static Config Config(int maxTest)
    {
        TestContext.Out.WriteLine($"FsCheck seed {Seed} ({maxTest} cases; LEARN_FUZZ_SEED=<n> to change)");
        // Rnd's gamma must be odd (SplitMix64); 0x9E3779B97F4A7C15 is SplitMix64's own golden-ratio gamma.
        var replay = new Replay(new Rnd(Seed, 0x9E3779B97F4A7C15UL), FSharpOption<int>.None);
        return FsCheck.Config.QuickThrowOnFailure.WithMaxTest(maxTest).WithReplay(FSharpOption<Replay>.Some(replay));
    }
}
