using Learn.Engine;
using Learn.IO;
using Learn.Layers;
using Learn.Models;
using Learn.Ops;
using Learn.Ops.Fast;
using Learn.Tensors;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Fast;

/// <summary>
/// OSNet through the fused execution plan (<see cref="OSNetPlan"/>) against the reference modules: BatchNorm
/// folding, the fast pools and elementwise steps on random shapes with tails, every variant at batch 2 on the
/// fixture weights and input stage by stage, and PyTorch's own checkpoint files (zip, legacy, safetensors), under
/// the tolerance rule with K from the model's cost table.
/// </summary>
[TestFixture]
public class OSNetFastTests
{
    private static readonly int V = System.Numerics.Vector<float>.Count;

    private static Tensor Copy(Tensor t) => new(t.Shape, (float[])t.Data.Clone());

    /// <summary>Random BN statistics: gamma and beta around 1 and 0, var in [0.5, 1.5).</summary>
    private static void RandomiseBn(BatchNorm2d bn, int seed)
    {
        var r = new Random(seed);
        for (int c = 0; c < bn.NumFeatures; c++)
        {
            bn.Weight.Data[c] = (float)(0.5 + r.NextDouble());
            bn.Bias.Data[c] = (float)(r.NextDouble() - 0.5);
            bn.RunningMean.Data[c] = (float)(r.NextDouble() - 0.5);
            bn.RunningVar.Data[c] = (float)(0.5 + r.NextDouble());
        }
    }

    // (C_in, C_out, k, stride, groups, bias, H, W)
    private static readonly object[] FoldCases =
    [
        new object[] { 3, 16, 7, 2, 1, false, 20, 13 },
        new object[] { 16, 24, 1, 1, 1, false, 9, 2 * 8 + 1 },
        new object[] { 12, 12, 3, 1, 12, false, 7, 2 * 8 + 1 },
        new object[] { 8, 6, 3, 2, 2, true, 11, 5 },
        new object[] { 5, 7, 1, 1, 1, true, 1, 1 },
    ];

    [TestCaseSource(nameof(FoldCases))]
    public void Folded_conv_equals_conv_then_batchnorm(int cin, int cout, int k, int stride, int groups, bool bias, int h, int w)
    {
        var conv = new Conv2d(cin, cout, k, stride, padding: k / 2, groups: groups, bias: bias);
        Tensor.Random(1, conv.Weight.Shape).Data.CopyTo(conv.Weight.Data, 0);
        if (conv.Bias is not null)
        {
            Tensor.Random(2, cout).Data.CopyTo(conv.Bias.Data, 0);
        }

        var bn = new BatchNorm2d(cout);
        RandomiseBn(bn, 3);
        Tensor x = Tensor.Random(4, 2, cin, h, w);
        Tensor expected = bn.Forward(conv.Forward(x)); // the reference: conv, then BN
        long kk = conv.ReductionLength + 1;            // the BN adds one step, as the cost table counts it

        var (fw, fb) = BatchNormFolding.Fold(conv.Weight.Data, conv.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data, bn.Weight.Data, bn.Bias.Data, bn.Eps);
        Tensor naiveFolded = Conv.Conv2d(x, new Tensor(conv.Weight.Shape, fw), new Tensor([cout], fb), conv.Options);
        Close.Assert(naiveFolded, expected, kk, "reference conv with folded weights");

        var fused = new FusedConv(conv, bn, relu: false);
        Tensor y = Tensor.Zeros(expected.Shape);
        fused.Run(x, y, threads: 2);
        Close.Assert(y, expected, kk, "fast folded conv");

        var fusedRelu = new FusedConv(conv, bn, relu: true);
        fusedRelu.Run(x, y, threads: 1);
        Close.Assert(y, Ops.Relu.Forward(expected), kk + 1, "fast folded conv + relu");

        if (groups * 1 != cin || cin == 1)
        {
            // The residual epilogue (GEMM kernels only): relu(conv(x) + r) with the add in the store.
            Tensor r = Tensor.Random(5, expected.Shape);
            fused.Run(x, y, threads: 2, residual: r, relu: true);
            Close.Assert(y, Ops.Relu.Forward(Ops.Add.Forward(expected, r)), kk + 2, "fast folded conv + residual + relu");
        }
    }

    [Test]
    public void A_plan_is_a_snapshot_of_the_weights_it_was_fused_from()
    {
        const string variant = "osnet_x0_25";
        OSNet model = Build(variant);
        Tensor x = Tensor.Random(9, 1, 3, 64, 32);
        OSNetPlan before = OSNetPlan.Fuse(model, new PlanOptions { Threads = 1 });
        Tensor first = before.Forward(x);
        var sd = model.StateDict().ToDictionary(p => p.Key, p => Tensor.Random(11, p.Value.Shape));
        foreach (var key in sd.Keys.Where(k => k.EndsWith("running_var", StringComparison.Ordinal)).ToList())
        {
            sd[key] = new Tensor(sd[key].Shape, sd[key].Data.Select(v => 1 + Math.Abs(v)).ToArray());
        }

        model.LoadStateDict(sd);
        Assert.That(before.Forward(x).Data, Is.EqualTo(first.Data), "the old plan keeps the weights it was fused from");
        Tensor after = OSNetPlan.Fuse(model).Forward(x);
        Assert.That(after.Data, Is.Not.EqualTo(first.Data), "new weights change the output of a new plan");
        Close.Assert(after, model.Forward(x), CostTableK(model, x), "a plan fused after a reload");
    }

    public static IEnumerable<int> Widths => Enumerable.Range(1, 2 * V + 1);

    [TestCaseSource(nameof(Widths))]
    public void Pools_and_elementwise_equal_the_reference(int width)
    {
        foreach (int height in new[] { 1, 2, 5, 8 })
        {
            Tensor x = Tensor.Random(width * 10 + height, 2, 3, height, width);
            string what = $"[2,3,{height},{width}]";
            var maxOptions = new PoolOptions { Kernel = [3], Stride = [2], Padding = [1] };
            Tensor expected = Ops.MaxPool2d.Forward(x, maxOptions);
            var y = Tensor.Zeros(FastPool.OutputShape(x.Shape, 3, 2, 1));
            FastPool.MaxPool2d(x, 3, 2, 1, y);
            Assert.That(y.Shape, Is.EqualTo(expected.Shape));
            Assert.That(y.Data, Is.EqualTo(expected.Data), "max pool " + what); // a max is exact

            if (height >= 2 && width >= 2)
            {
                var avgOptions = new PoolOptions { Kernel = [2], Stride = [2] };
                Tensor avg = Ops.AvgPool2d.Forward(x, avgOptions);
                var ya = Tensor.Zeros(FastPool.OutputShape(x.Shape, 2, 2, 0));
                FastPool.AvgPool2d(x, 2, 2, ya);
                Close.Assert(ya, avg, 4, "avg pool " + what);
            }

            Tensor gap = Ops.AdaptiveAvgPool2d.Forward(x, 1, 1);
            var yg = Tensor.Zeros(2, 3, 1, 1);
            FastPool.GlobalAvgPool(x, yg);
            Close.Assert(yg, gap, height * width, "global avg pool " + what);

            Tensor b = Tensor.Random(7, x.Shape);
            var sum = Tensor.Zeros(x.Shape);
            FastElementwise.AddRelu(x.Data, b.Data, sum.Data);
            Assert.That(sum.Data, Is.EqualTo(Ops.Relu.Forward(Ops.Add.Forward(x, b)).Data), "add + relu " + what);

            Tensor g = Tensor.Random(8, 2, 3, 1, 1);
            var acc = Copy(b);
            FastElementwise.GateAccumulate(x, g.Data, acc, first: false);
            Assert.That(acc.Data, Is.EqualTo(Ops.Add.Forward(b, Ops.Multiply.Forward(x, g)).Data), "gate accumulate " + what);
            FastElementwise.GateAccumulate(x, g.Data, acc, first: true);
            Assert.That(acc.Data, Is.EqualTo(Ops.Multiply.Forward(x, g).Data), "gate " + what);
        }
    }

    /// <summary>The gate's vector loops against the reference ChannelGate, at every channel count around the vector width.</summary>
    [TestCaseSource(nameof(Widths))]
    public void Fused_gate_equals_the_reference_gate(int hiddenUnits)
    {
        int channels = 16 * hiddenUnits;
        var gate = new ChannelGate(channels);
        foreach (var (name, t) in gate.NamedTensors())
        {
            Tensor r = Tensor.Random(name.Length + channels, t.Shape);
            for (int i = 0; i < t.Length; i++)
            {
                t.Data[i] = r.Data[i] / MathF.Sqrt(t.Length / t.Shape[0]);
            }
        }

        Tensor x = Tensor.Random(channels, 2, channels, 3, V + 1);
        Tensor expected = gate.Forward(x);
        var fused = new FusedGate(gate);
        float[] gates = new float[2 * channels], hidden = new float[2 * hiddenUnits];
        fused.Gates(x, gates, hidden);
        var y = Tensor.Zeros(x.Shape);
        FastElementwise.GateAccumulate(x, gates, y, first: true);
        // The path to each value: a mean over H*W, fc1's C products, fc2's C/16, the sigmoid and the product.
        Close.Assert(y, expected, (3 * (V + 1)) + channels + hiddenUnits + 2, $"gate of {channels} channels");
    }

    /// <summary>
    /// The gate's pooled means and the gated accumulation split over threads by plane: maps large enough to be split
    /// (over <see cref="Parallelism.SerialBelowMacs"/>) give the same bits on 2 and 3 threads as on one, and the
    /// accumulation equals the reference ops bit for bit.
    /// </summary>
    [TestCase(2)]
    [TestCase(3)]
    public void Gate_split_over_threads_gives_the_bits_of_one_thread(int threads)
    {
        const int Channels = 32;
        Tensor x = Tensor.Random(41, 2, Channels, 64, 33);
        Assert.That((long)x.Length * FastElementwise.ElementCost, Is.GreaterThan(Parallelism.SerialBelowMacs), "large enough to split");
        var gate = new ChannelGate(Channels);
        var fused = new FusedGate(gate);
        float[] one = new float[2 * Channels], many = new float[2 * Channels], hidden = new float[2 * 2];
        fused.Gates(x, one, hidden, threads: 1);
        fused.Gates(x, many, hidden, threads);
        Assert.That(many, Is.EqualTo(one), "gate values");

        Tensor b = Tensor.Random(42, x.Shape);
        Tensor g = Tensor.Random(43, 2, Channels, 1, 1);
        var acc = Copy(b);
        FastElementwise.GateAccumulate(x, g.Data, acc, first: false, threads);
        Assert.That(acc.Data, Is.EqualTo(Ops.Add.Forward(b, Ops.Multiply.Forward(x, g)).Data), "gate accumulate");
        FastElementwise.GateAccumulate(x, g.Data, acc, first: true, threads);
        Assert.That(acc.Data, Is.EqualTo(Ops.Multiply.Forward(x, g).Data), "gate");
    }

    /// <summary>Both layouts, forced, so that each runs in every CI leg (Auto picks by the hardware).</summary>
    public static IEnumerable<PlanLayout> Layouts => [PlanLayout.Nchw, PlanLayout.Blocked];

    /// <summary>The IBN variant has InstanceNorms, which the blocked layout has no step for: it runs NCHW only.</summary>
    private static bool Runs(string variant, PlanLayout layout) => layout != PlanLayout.Blocked || !variant.Contains("ibn", StringComparison.Ordinal);

    public static IEnumerable<TestCaseData> VariantsAndThreads() =>
        from v in Variants
        from layout in Layouts
        where Runs(v, layout)
        from t in new[] { 1, 2 }
        select new TestCaseData(v, t, layout).SetArgDisplayNames(v, $"{t} threads", layout.ToString());

    [TestCaseSource(nameof(VariantsAndThreads))]
    public void Plan_equals_the_reference_at_batch_2(string variant, int threads, PlanLayout layout)
    {
        Run naive = RunOf(variant); // the reference forward of the golden tests (batch 2, fixture input)
        OSNetPlan plan = OSNetPlan.Fuse(Build(variant), new PlanOptions { Threads = threads, Layout = layout });
        Assert.That(plan.Layout, Is.EqualTo(layout));
        Tensor x = Read(Manifest.GetProperty("input").GetProperty("file").GetString()!);
        var recorder = new ActivationRecorder(name => Stages.Contains(name));
        Tensor y = plan.Forward(x, recorder);
        var stages = recorder.Items.ToDictionary(p => p.Key, p => p.Value);
        foreach (var (name, expected) in naive.Activations)
        {
            long k = naive.Table.RowsOf(name).Single().Reduction;
            AssertClose($"{variant} plan {name}", stages[name], expected, k);
        }

        long kOut = naive.Table.Output.Reduction;
        AssertClose($"{variant} plan output", y, naive.Output, kOut);

        // Without a capture conv3 takes the residual add in its store: the same values within the rule.
        Tensor fused = plan.Forward(x);
        AssertClose($"{variant} plan output, residual fused", fused, naive.Output, kOut);

        // Steady state: a second forward reuses every buffer and gives the same bits; the first output is its own.
        Tensor yCopy = Copy(fused);
        Tensor y2 = plan.Forward(x);
        Assert.That(y2.Data, Is.EqualTo(yCopy.Data), "a second forward gives the same result");
        Assert.That(fused.Data, Is.EqualTo(yCopy.Data), "the returned feature is not a reused buffer");
    }

    [Test]
    public void Auto_picks_the_blocked_layout_only_where_it_is_fast_and_the_model_has_no_InstanceNorm()
    {
        Assert.That(OSNetPlan.Fuse(Build("osnet_x0_25")).Layout,
            Is.EqualTo(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? PlanLayout.Blocked : PlanLayout.Nchw));
        Assert.That(OSNetPlan.Fuse(Build("osnet_ibn_x1_0")).Layout, Is.EqualTo(PlanLayout.Nchw));
        var refused = Assert.Throws<NotSupportedException>(() => OSNetPlan.Fuse(Build("osnet_ibn_x1_0"), new PlanOptions { Layout = PlanLayout.Blocked }));
        Assert.That(refused!.Message, Does.Contain("InstanceNorm"));
    }

    /// <summary>
    /// Image by image (each image alone on one thread, the leftover N mod threads as one batch) gives the bits of the
    /// whole batch: every kernel computes an image's outputs with the same chain of operations in either case.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void Image_by_image_gives_the_bits_of_the_whole_batch(int threads)
    {
        OSNet model = Build("osnet_x0_25");
        OSNetPlan whole = OSNetPlan.Fuse(model, new PlanOptions { Threads = threads, Layout = PlanLayout.Blocked, Batch = PlanBatch.Whole });
        OSNetPlan images = OSNetPlan.Fuse(model, new PlanOptions { Threads = threads, Layout = PlanLayout.Blocked, Batch = PlanBatch.Images });
        Assert.That((whole.Batch, images.Batch), Is.EqualTo((PlanBatch.Whole, PlanBatch.Images)));
        for (int n = 1; n <= 5; n++)
        {
            Tensor x = Tensor.Random(70 + n, n, 3, 64, 32);
            Tensor expected = whole.Forward(x);
            Assert.That(images.Forward(x).Data, Is.EqualTo(expected.Data), $"batch {n} at {threads} threads");
            Tensor one = images.Forward(new Tensor([1, 3, 64, 32], x.Data[^(3 * 64 * 32)..]));
            Assert.That(one.Data, Is.EqualTo(expected.Data[^512..]), $"the last image of batch {n} alone");
        }
    }

    /// <summary>An image too small for a pooling window fails with the module's name, as the reference fails, in both layouts.</summary>
    [TestCaseSource(nameof(Layouts))]
    public void An_image_too_small_for_a_pooling_window_is_refused_naming_the_module(PlanLayout layout)
    {
        OSNet model = Build("osnet_x0_25");
        OSNetPlan plan = OSNetPlan.Fuse(model, new PlanOptions { Threads = 2, Layout = layout });
        foreach (int size in new[] { 1, 8 })
        {
            Tensor x = Tensor.Random(size, 2, 3, size, size);
            Assert.Throws<ArgumentException>(() => model.Forward(x), "the reference refuses it");
            var refused = Assert.Throws<ArgumentException>(() => plan.Forward(x));
            Assert.That(refused!.Message, Does.Match(@"^conv[23]\.2\.1: the map .* is smaller than the 2x2 pooling window"), "names the transition pool");
        }

        Assert.That(plan.Forward(Tensor.Random(3, 2, 3, 16, 16)).Shape, Is.EqualTo(new[] { 2, 512 }), "16x16 is large enough");
    }

    [Test]
    public void Auto_runs_batches_image_by_image_in_the_blocked_layout_only()
    {
        Assert.That(OSNetPlan.Fuse(Build("osnet_x0_25"), new PlanOptions { Layout = PlanLayout.Blocked }).Batch, Is.EqualTo(PlanBatch.Images));
        Assert.That(OSNetPlan.Fuse(Build("osnet_x0_25"), new PlanOptions { Layout = PlanLayout.Nchw }).Batch, Is.EqualTo(PlanBatch.Whole));
        var refused = Assert.Throws<NotSupportedException>(() =>
            OSNetPlan.Fuse(Build("osnet_x0_25"), new PlanOptions { Layout = PlanLayout.Nchw, Batch = PlanBatch.Images }));
        Assert.That(refused!.Message, Does.Contain("blocked layout"));
    }

    [TestCaseSource(nameof(Layouts))]
    public void Plan_reports_every_materialised_module_under_the_reference_names(PlanLayout layout)
    {
        const string variant = "osnet_x0_25";
        OSNet model = Build(variant);
        Tensor x = Tensor.Random(3, 1, 3, 64, 32);
        var reference = new ActivationRecorder();
        model.Forward(x, reference);
        var planned = new ActivationRecorder();
        OSNetPlan plan = OSNetPlan.Fuse(model, new PlanOptions { Threads = 2, Layout = layout });
        plan.Forward(x, planned);

        var referenceKeys = reference.Items.Select(p => p.Key).ToHashSet();
        var plannedKeys = planned.Items.Select(p => p.Key).ToList();
        Assert.That(plannedKeys, Is.Unique);
        Assert.That(plannedKeys.Where(k => !referenceKeys.Contains(k)), Is.Empty, "the plan reports only names the reference has");

        // What the plan does not report is exactly what its fused groups say they hide.
        var missing = referenceKeys.Except(plannedKeys).ToList();
        string hidden = string.Join("\n", plan.Fusions);
        foreach (string key in missing)
        {
            string name = key.Split('@')[0];
            string parent = name[..name.LastIndexOf('.')];
            Assert.That(hidden.Contains(name + ",", StringComparison.Ordinal) || hidden.Contains(name + " not", StringComparison.Ordinal)
                || hidden.Contains(parent + "'s children", StringComparison.Ordinal), $"{key} is neither reported nor listed as fused");
        }

        var table = Learn.Analysis.CostTable.For(model, 64, 32);
        var calls = new Dictionary<string, int>();
        foreach (var (key, value) in planned.Items)
        {
            string name = key.Split('@')[0];
            calls[name] = calls.GetValueOrDefault(name) + 1;
            long k = table.RowsOf(name).ElementAt(calls[name] - 1).Reduction;
            Close.Assert(value, reference[key], k, $"activation {key}");
        }
    }

    /// <summary>
    /// A steady-state forward (one thread, so every allocation is on this thread) allocates nothing that grows with the
    /// image or the batch: a batch of 4 at 4x the pixels allocates at most what a batch of 1 does plus its larger
    /// output, [N, 512] floats. Both sizes are ones where the router picks the same kernels (at 64x32 the stem runs
    /// im2col, at 128x64 and above the indirect kernel, whose fixed per-call cost differs by ~200 B: a choice, not growth).
    /// A full GC runs before the measured forward: under memory pressure the runtime then trims the shared array pool, so
    /// a buffer borrowed from it instead of kept by the plan is allocated again (.ci/run repeats this test with the
    /// high-memory threshold at 1%, where every full GC trims; CI once failed here on a loaded machine).
    /// </summary>
    [TestCaseSource(nameof(Layouts))]
    public void A_steady_state_forward_allocates_nothing_that_grows_with_the_image_or_the_batch(PlanLayout layout)
    {
        OSNetPlan plan = OSNetPlan.Fuse(Build("osnet_x0_25"), new PlanOptions { Threads = 1, Layout = layout });
        Tensor small = Tensor.Random(60, 1, 3, 128, 64), large = Tensor.Random(61, 4, 3, 256, 128);
        long Allocated(Tensor x)
        {
            plan.Forward(x);
            plan.Forward(x); // buffers for this shape exist now
            GC.Collect();
            GC.WaitForPendingFinalizers(); // the pool's trim runs on the finalizer thread after a full GC
            long before = GC.GetAllocatedBytesForCurrentThread();
            plan.Forward(x);
            return GC.GetAllocatedBytesForCurrentThread() - before;
        }

        long a1 = Allocated(small), a4 = Allocated(large);
        TestContext.Out.WriteLine($"allocated per forward: batch 1 at 128x64 {a1} B, batch 4 at 256x128 {a4} B");
        Assert.That(a4 - a1, Is.LessThanOrEqualTo((4 - 1) * 512 * sizeof(float)), $"only the output grows (batch 1 at 128x64 allocated {a1} B, batch 4 at 256x128 {a4} B)");
        if (layout == PlanLayout.Blocked)
        {
            // Its kernels pass their inputs to static lambdas (no closure per call) and its names are built once: on one
            // thread a forward allocates its output and a few small objects, under 512 B besides the output's floats.
            Assert.That(a1, Is.LessThanOrEqualTo((512 * sizeof(float)) + 512), "a blocked forward allocates little besides its output");
        }
    }

    [TestCaseSource(nameof(Layouts))]
    public void Concurrent_forwards_on_one_plan_give_the_same_features(PlanLayout layout)
    {
        OSNet model = Build("osnet_x0_25");
        OSNetPlan plan = OSNetPlan.Fuse(model, new PlanOptions { Threads = 2, Layout = layout });
        Tensor[] inputs = Enumerable.Range(0, 4).Select(i => Tensor.Random(50 + i, 2, 3, 64, 32)).ToArray();
        Tensor[] alone = inputs.Select(plan.Forward).ToArray();
        var together = new Tensor[inputs.Length * 3];
        Parallel.For(0, together.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => together[i] = plan.Forward(inputs[i % inputs.Length]));
        for (int i = 0; i < together.Length; i++)
        {
            Assert.That(together[i].Data, Is.EqualTo(alone[i % inputs.Length].Data), $"forward {i} run concurrently");
        }
    }

    public static IEnumerable<TestCaseData> CheckpointFiles =>
        from file in new[] { "osnet_x0_25.pth", "osnet_x0_25_legacy.pth", "osnet_x0_5_fp16.pth", "safetensors" }
        from layout in Layouts
        select new TestCaseData(file, layout);

    /// <summary>PyTorch's own checkpoint bytes (zip, legacy, fp16) and a safetensors file give the same features through the plan as through the reference.</summary>
    [TestCaseSource(nameof(CheckpointFiles))]
    public void Checkpoints_give_the_same_features_through_the_plan(string file, PlanLayout layout)
    {
        string variant = file == "safetensors" ? "osnet_x0_75" : file.StartsWith("osnet_x0_5", StringComparison.Ordinal) ? "osnet_x0_5" : "osnet_x0_25";
        OSNet model;
        if (file == "safetensors")
        {
            model = BuildFromCheckpoint(variant);
        }
        else
        {
            StateDict stateDict = Checkpoint.Load(Path.Combine(Root, file));
            model = OSNet.Create(variant, stateDict["classifier.weight"].Size(0));
            model.LoadStateDict(stateDict);
        }

        Tensor x = Read(Manifest.GetProperty("input").GetProperty("file").GetString()!);
        Tensor expected = model.Forward(x);
        Tensor y = OSNetPlan.Fuse(model, new PlanOptions { Threads = 2, Layout = layout }).Forward(x);
        AssertClose($"{file}: plan against reference", y, expected, CostTableK(model, x));
    }

    private static long CostTableK(OSNet model, Tensor x) => Learn.Analysis.CostTable.For(model, x.Size(2), x.Size(3), batch: x.Size(0)).Output.Reduction;
}
