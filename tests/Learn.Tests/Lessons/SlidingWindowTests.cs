using System.Diagnostics;
using System.Globalization;
using Learn.Lessons;
using Learn.Ops;
using Learn.Tensors;
using Plotly.NET;

namespace Learn.Tests.Lessons;

/// <summary>The lessons' sliding-window picture: its numbers are the library's, its sizes PyTorch's.</summary>
public class SlidingWindowTests
{
    private static readonly (int N, int K, int P, int S, int D)[] Configurations =
        [(5, 3, 1, 2, 1), (5, 3, 2, 1, 2), (7, 3, 0, 1, 1), (6, 2, 1, 3, 1), (8, 3, 3, 2, 3), (4, 1, 0, 1, 1), (9, 5, 2, 2, 1)];

    [Test]
    public void Every_step_is_the_sum_of_its_products_and_the_output_is_the_librarys()
    {
        foreach (var (n, k, p, s, d) in Configurations)
        {
            foreach (var mode in new[] { PaddingMode.Zeros, PaddingMode.Reflect, PaddingMode.Replicate, PaddingMode.Circular })
            {
                if (mode == PaddingMode.Reflect && p >= n)
                {
                    continue; // PyTorch refuses reflect padding as wide as the input
                }

                var x = Tensor.Random(1, 1, 1, n, n + 1);
                var w = Tensor.Random(2, 1, 1, k, k);
                var picture = SlidingWindow.Build(x, w, p, s, d, mode);
                var expected = Conv.Conv2d(x, w, null, new ConvOptions { Padding = Learn.Ops.Padding.Of(p), Stride = [s], Dilation = [d], PaddingMode = mode });
                Assert.That(picture.Output.Data, Is.EqualTo(expected.Data), $"n={n} k={k} p={p} s={s} d={d} {mode}");
                Assert.That(picture.Steps, Has.Count.EqualTo(expected.Size(2) * expected.Size(3)));
                int traces = GenericChart.getTraces(picture.Chart).Length;
                Assert.That(traces, Is.EqualTo(3 + 4 * picture.Steps.Count), "padding, input, kernel, then window, products, output and marker per step");
            }
        }
    }

    [Test]
    public void Output_size_is_pytorchs()
    {
        string script = "import torch\n" + string.Concat(Configurations.Select(c =>
            $"print(torch.nn.functional.conv2d(torch.zeros(1, 1, {c.N}, {c.N + 1}), torch.zeros(1, 1, {c.K}, {c.K}), padding={c.P}, stride={c.S}, dilation={c.D}).shape[2:])\n"));
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Process? python;
        try
        {
            python = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            python = null;
        }

        if (python is null)
        {
            Assert.Ignore("/usr/bin/python3 is not available");
            return;
        }

        string output = python.StandardOutput.ReadToEnd();
        string error = python.StandardError.ReadToEnd();
        python.WaitForExit();
        if (python.ExitCode != 0 && error.Contains("No module named 'torch'", StringComparison.Ordinal))
        {
            Assert.Ignore("PyTorch (Debian python3-torch) is not installed");
        }

        Assert.That(python.ExitCode, Is.Zero, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < Configurations.Length; i++)
        {
            var (n, k, p, s, d) = Configurations[i];
            var picture = SlidingWindow.Build(Tensor.Random(1, 1, 1, n, n + 1), Tensor.Random(2, 1, 1, k, k), p, s, d);
            string ours = string.Create(CultureInfo.InvariantCulture, $"torch.Size([{picture.Output.Size(2)}, {picture.Output.Size(3)}])");
            Assert.That(lines[i].Trim(), Is.EqualTo(ours), $"n={n} k={k} p={p} s={s} d={d}");
            Assert.That(SlidingWindow.OutputSize(n, k, p, s, d), Is.EqualTo(picture.Output.Size(2)));
        }
    }

    [Test]
    public void A_wrong_shape_is_refused()
    {
        Assert.That(() => SlidingWindow.Build(Tensor.Random(1, 1, 2, 5, 5), Tensor.Random(2, 1, 1, 3, 3), 1, 1),
            Throws.ArgumentException.With.Message.Contains("[1, 1, H, W]"));
    }
}
