using Learn.Tests.Cli;

namespace Learn.Tests.Hardening;

/// <summary>Issue 12, defect 9 (the cost command): huge arguments blame the right argument, with one line and no internal error.</summary>
[TestFixture]
public sealed class ArgumentHardeningTests : CliTestBase
{
    [Test]
    public void Cost_with_int_max_classes_blames_num_classes()
    {
        AssertOneLineError(Run("cost", "--variant", "osnet_x0_25", "--num-classes", "2147483647"), 2, "learn: --num-classes: ", "at most 1048576", "2147483647");
    }

    [Test]
    public void Cost_with_int_max_height_says_too_large_not_too_small()
    {
        AssertOneLineError(Run("cost", "--variant", "osnet_x0_25", "--height", "2147483647"), 1, "learn cost: a 2147483647x128 input is too large for osnet_x0_25: ");
    }
}
