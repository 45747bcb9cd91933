using System.Diagnostics;
using static Learn.Tests.Notebooks.NotebookTestSupport;

namespace Learn.Tests.Notebooks;

/// <summary>The rendered page of a notebook with a chart, opened in headless Chromium with the network off, shows the chart.</summary>
public class RenderedPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Test]
    public void The_chart_and_the_math_render_offline_in_headless_Chromium()
    {
        if (!File.Exists(Chromium))
        {
            NotebookTestSupport.RequireOrSkip($"{Chromium} is absent (Debian package chromium; .ci/run installs it)");
        }

        var run = Outputs;
        Assert.That(run.ExitCode, Is.Zero, run.Stdout + run.Stderr);
        string page = Path.Combine(run.OutDir, "outputs.html");
        var (dom, log) = DumpDom(page);

        Assert.Multiple(() =>
        {
            // Plotly draws into the chart's div: an svg.main-svg with the bar trace, not an empty div.
            Assert.That(dom, Does.Contain("id=\"learn-chart-1\""), "the chart keeps its stable id");
            Assert.That(dom, Does.Contain("class=\"main-svg\""), "Plotly drew the chart");
            Assert.That(dom, Does.Contain("trace bars"), "the bar trace is drawn");
            Assert.That(dom, Does.Contain("class=\"katex\""), "KaTeX typeset the math");
            Assert.That(log, Does.Not.Contain("Uncaught"), "no script error");
        });
    }

    private static (string Dom, string Log) DumpDom(string page)
    {
        string profile = NewTempDir();
        try
        {
            var psi = new ProcessStartInfo(Chromium)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (string arg in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                $"--user-data-dir={profile}",
                // No network at all: the page must work from its own assets/ folder.
                "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                "--enable-logging=stderr", "--v=0",
                "--virtual-time-budget=10000", "--dump-dom", new Uri(page).AbsoluteUri,
            })
            {
                psi.ArgumentList.Add(arg);
            }

            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            string dom = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(60_000))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail("chromium did not finish within 60 s");
            }

            return (dom, stderr.GetAwaiter().GetResult());
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
