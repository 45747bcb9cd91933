using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Learn.Layers;
using Learn.Models;
using ConvGeometry = Learn.Ops.ConvGeometry;
using Learn.Ops.Fast;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;

namespace Learn.Engine;

/// <summary>
/// OSNet fused into an execution plan for inference (in the spirit of <c>torch.ao.quantization.fuse_modules</c> and
/// ONNX Runtime's graph optimisations): made once from a loaded <see cref="OSNet"/> by <see cref="Fuse"/>, then run
/// any number of times. The model itself stays the reference and is not changed.
/// </summary>
/// <remarks>
/// <para>What fusing does, once: every eval BatchNorm is folded into the conv before it (and the fc's BatchNorm1d into
/// its Linear); the GEMM weights are packed into the micro-kernel's panels; each ReLU goes into the store of the conv
/// before it; the block's residual add and final ReLU go into the store of <c>conv3</c>; the channel gate's two tiny
/// convs become vector loops and its multiply joins the accumulation of the four streams (<see cref="FusedGate"/>).
/// The weights are copied: later changes to the model (a new <see cref="Module.LoadStateDict"/>) need a new plan.</para>
/// <para>A forward is reentrant: each forward in flight takes its own set of buffers (a <see cref="PlanContext"/>),
/// kept by the plan for the next forward, so a steady-state forward at a fixed shape allocates only its output.
/// The thread count is the plan's (<see cref="PlanOptions.Threads"/>), not a process-wide setting.</para>
/// <para>Activations: <see cref="Forward(Tensor, IActivationSink)"/> reports outputs under the model's own module
/// names (<c>conv1</c>, <c>conv2.0.conv2a</c>, <c>conv2.0.gate@2</c> ...), copied, for every module whose output the
/// plan materialises. Inside a fused group the intermediate values do not exist (conv before BN, BN before ReLU);
/// <see cref="Fusions"/> lists each group and the names it hides. While capturing, conv3 and the residual add run
/// as two steps so that conv3's own output can be reported; the values are the same.</para>
/// </remarks>
public sealed partial class OSNetPlan
{
    private readonly ConcurrentBag<PlanContext> _contexts = [];
    private readonly List<Node> _features = [];
    private readonly BlockedStemNode? _blockedStem;
    private readonly List<BlockedNode> _blockedFeatures = [];
    private readonly FusedHead _head;
    private readonly List<string> _fusions = [];

    private OSNetPlan(OSNet model, PlanOptions options)
    {
        Options = options;
        var names = new Dictionary<Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, module) in model.NamedModules())
        {
            names[module] = name;
        }

        Module[] stages = [model.Conv1, model.Maxpool, model.Conv2, model.Conv3, model.Conv4, model.Conv5];
        string? blockedLacks = BlockedLacks(model);
        Layout = options.Layout != PlanLayout.Auto ? options.Layout
            : System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && blockedLacks is null ? PlanLayout.Blocked : PlanLayout.Nchw;
        if (Layout == PlanLayout.Blocked)
        {
            if (blockedLacks is not null)
            {
                throw new NotSupportedException($"the blocked layout has no step for {blockedLacks}");
            }

            _blockedStem = new BlockedStemNode((ConvLayer)model.Conv1, names[model.Conv1]);
            AddFusions(model.Conv1, names[model.Conv1]);
            foreach (Module stage in stages[1..])
            {
                _blockedFeatures.Add(BuildBlocked(stage, names));
            }
        }
        else
        {
            foreach (Module stage in stages)
            {
                _features.Add(Build(stage, names));
            }
        }

        Batch = options.Batch != PlanBatch.Auto ? options.Batch : Layout == PlanLayout.Blocked ? PlanBatch.Images : PlanBatch.Whole;
        if (Batch == PlanBatch.Images && Layout != PlanLayout.Blocked)
        {
            throw new NotSupportedException("running a batch image by image needs the blocked layout");
        }

        _head = new FusedHead(model, names[model.GlobalAvgPool], names[model.Fc]);
        _fusions.Add($"{names[model.Fc]} = Linear + BatchNorm1d + ReLU (BatchNorm folded, ReLU in the store); {names[model.Fc]}.0, {names[model.Fc]}.1 not materialised");
    }

    /// <summary>How the plan runs.</summary>
    public PlanOptions Options { get; }

    /// <summary>The layout the activations are kept in (<see cref="PlanOptions.Layout"/>, with Auto resolved).</summary>
    public PlanLayout Layout { get; }

    /// <summary>How a batch of images runs (<see cref="PlanOptions.Batch"/>, with Auto resolved).</summary>
    public PlanBatch Batch { get; }

    /// <summary>The fused groups, one line each: the module, what was fused, and the inner names not materialised.</summary>
    public IReadOnlyList<string> Fusions => _fusions;

    /// <summary>Fuses a loaded model into a plan; <paramref name="options"/> default to <see cref="PlanOptions"/>'s.</summary>
    public static OSNetPlan Fuse(OSNet model, PlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new OSNetPlan(model, options ?? new PlanOptions());
    }

    /// <summary>The eval-mode feature [N, 512] of images [N, 3, H, W] (a fresh tensor).</summary>
    public Tensor Forward(Tensor x) => Run(x, null, head: true);

    /// <summary>The same, reporting each materialised module output to <paramref name="sink"/> (copies, under the model's names).</summary>
    public Tensor Forward(Tensor x, IActivationSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        return Run(x, sink, head: true);
    }

    /// <summary>torchreid's <c>featuremaps</c>: the conv5 output [N, c3, H/16, W/16] (a fresh tensor).</summary>
    public Tensor FeatureMaps(Tensor x) => Run(x, null, head: false);

    /// <summary>
    /// Times each step of a forward on <paramref name="x"/>: <paramref name="rounds"/> forwards after 40 warm-up ones,
    /// each step's time summed over its calls in a forward (the shared gate runs four times per block), then the
    /// median over the forwards. For the per-layer table of docs/performance.md; a diagnostic, not a benchmark.
    /// <paramref name="clockMs"/> reads the time in ms (default: the wall clock). On a shared machine pass the
    /// calling thread's CPU clock with a 1-thread plan: a wall clock charges a step for the time the thread waited
    /// for a core, which biases long steps (a preemption falls into a 2 ms conv far more often than into a 0.1 ms one).
    /// </summary>
    public IReadOnlyList<PlanStepTime> Profile(Tensor x, int rounds = 21, Func<double>? clockMs = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        clockMs ??= static () => System.Diagnostics.Stopwatch.GetTimestamp() * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        // Warm up past tiered compilation: a method runs unoptimised for its first 30 calls, and a step called once
        // per forward (the head's fc loop) would otherwise be timed at tier 0 for a whole short profile.
        for (int r = 0; r < WarmUpForwards; r++)
        {
            Run(x, null, head: true);
        }

        Thread.Sleep(200); // tier-1 code is compiled in the background after a quiet 100 ms
        var samples = new List<List<PlanStepTime>>();
        for (int r = 0; r <= rounds; r++)
        {
            var steps = new List<PlanStepTime>();
            Run(x, null, head: true, new StepTimes(steps, clockMs));
            if (r > 0)
            {
                samples.Add(steps);
            }
        }

        return samples[0]
            .Select((s, i) => s with { Milliseconds = samples.Select(f => f[i].Milliseconds).Order().ElementAt(samples.Count / 2) })
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .Select(g => g.First() with { Milliseconds = g.Sum(s => s.Milliseconds), Macs = g.Sum(s => s.Macs), Bytes = g.Sum(s => s.Bytes) })
            .ToList();
    }

    /// <summary>Forwards <see cref="Profile"/> runs before it times: past the JIT's 30-call tier-up threshold.</summary>
    private const int WarmUpForwards = 40;

    private Tensor Run(Tensor x, IActivationSink? sink, bool head, StepTimes? profile = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.Size(1) != 3)
        {
            throw new ArgumentException($"OSNet takes images [N, 3, H, W], got {x.ShapeString}");
        }

        int n = x.Size(0);
        if (Batch == PlanBatch.Images && n > 1 && head && sink is null && profile is null)
        {
            return RunImages(x);
        }

        PlanContext context = RentContext();
        try
        {
            var run = new PlanRun(context, Options.Threads, sink, profile);
            if (_blockedStem is not null)
            {
                BlockedMap map = RunBlocked(run, x, 0, n);
                return head ? _head.Run(run, map) : map.ToTensor();
            }

            Tensor y = x;
            foreach (Node node in _features)
            {
                y = node.Run(run, y);
            }

            return head ? _head.Run(run, y) : new Tensor(y.Shape, (float[])y.Data.Clone());
        }
        finally
        {
            _contexts.Add(context);
        }
    }

    /// <summary>A buffer set from the plan's pool, or a new one; give it back with <c>_contexts.Add</c>.</summary>
    private PlanContext RentContext() => _contexts.TryTake(out PlanContext? context) ? context : new PlanContext();

    /// <summary>The blocked features of images [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of <paramref name="x"/>.</summary>
    private BlockedMap RunBlocked(PlanRun run, Tensor x, int first, int count)
    {
        BlockedMap map = _blockedStem!.Run(run, x, first, count);
        foreach (BlockedNode node in _blockedFeatures)
        {
            map = node.Run(run, map);
        }

        return map;
    }

    /// <summary>
    /// <see cref="PlanBatch.Images"/>: each thread takes the next image and runs it through the network alone, on one
    /// thread with its own buffers, its feature written into its row of the output; the N mod threads images left
    /// then run as one batch on every thread. Allocates per forward, not per image (one thread: only the output).
    /// </summary>
    private Tensor RunImages(Tensor x)
    {
        int n = x.Size(0), threads = Options.Threads, alone = n / threads * threads;
        var y = Tensor.Zeros(n, _head.OutFeatures);
        if (threads == 1)
        {
            RunImagesAlone(x, y, null, alone);
        }
        else if (alone > 0)
        {
            // One work item per thread; each takes images from the shared counter until none are left.
            var next = new StrongBox<int>(0);
            Parallelism.For(threads, threads, long.MaxValue, (plan: this, x, y, next, alone), static (a, start, end) =>
            {
                for (int i = start; i < end; i++)
                {
                    a.plan.RunImagesAlone(a.x, a.y, a.next, a.alone);
                }
            });
        }

        if (alone < n)
        {
            PlanContext context = RentContext();
            try
            {
                var run = new PlanRun(context, threads, null, null);
                _head.RunInto(run, RunBlocked(run, x, alone, n - alone), y, alone);
            }
            finally
            {
                _contexts.Add(context);
            }
        }

        return y;
    }

    /// <summary>Runs images below <paramref name="count"/> alone on this thread: all of them, or those it takes from <paramref name="next"/>.</summary>
    private void RunImagesAlone(Tensor x, Tensor y, StrongBox<int>? next, int count)
    {
        PlanContext context = RentContext();
        try
        {
            var run = new PlanRun(context, 1, null, null);
            for (int i = 0; i < count; i++)
            {
                int image = next is null ? i : Interlocked.Increment(ref next.Value) - 1;
                if (image >= count)
                {
                    break;
                }

                _head.RunInto(run, RunBlocked(run, x, image, 1), y, image);
            }
        }
        finally
        {
            _contexts.Add(context);
        }
    }

    /// <summary>Records the fused groups a module becomes, one line per group (none for a module run as it is).</summary>
    private void AddFusions(Module module, string name)
    {
        switch (module)
        {
            case ConvLayer { Norm: BatchNorm2d }:
                _fusions.Add($"{name} = {name}.conv + {name}.bn + {name}.relu (BatchNorm folded, ReLU in the store); {name}.conv, {name}.bn not materialised");
                break;
            case Conv1x1Linear:
                _fusions.Add($"{name} = {name}.conv + {name}.bn (BatchNorm folded); {name}.conv not materialised");
                break;
            case LightConv3x3:
                _fusions.Add($"{name} = {name}.conv1, then {name}.conv2 + {name}.bn + {name}.relu (BatchNorm folded, ReLU in the store); {name}.conv2, {name}.bn not materialised");
                break;
            case OSBlock block:
                _fusions.Add($"{name}.gate = pool + fc1 + relu + fc2 + sigmoid + multiply, accumulated into the stream sum; {name}.gate's children not materialised");
                if (block.IN is null)
                {
                    _fusions.Add($"{name} = relu({name}.conv3 + shortcut): the add and ReLU in {name}.conv3's store (not while capturing activations)");
                }

                break;
        }
    }

    /// <summary>OSBlock's four streams (conv2a .. conv2d) under their names, each a chain of nodes built by <paramref name="build"/>.</summary>
    private static List<(string Name, List<T> Chain)> Streams<T>(OSBlock block, Dictionary<Module, string> names, Func<Module, T> build) =>
        new Module[] { block.Conv2a, block.Conv2b, block.Conv2c, block.Conv2d }
            .Select(stream => (names[stream], stream is Sequential s ? s.NamedChildren().Select(c => build(c.Value)).ToList() : [build(stream)]))
            .ToList();

    private Node Build(Module module, Dictionary<Module, string> names)
    {
        string name = names[module];
        AddFusions(module, name);
        switch (module)
        {
            case ConvLayer layer when layer.Norm is BatchNorm2d bn:
                return new ConvNode(new FusedConv(layer.Conv, bn, relu: true), [name + ".relu", name]);
            case ConvLayer layer:
                return new InstanceNormConvNode(layer, name);
            case Conv1x1Linear linear:
                return new ConvNode(new FusedConv(linear.Conv, linear.Bn, relu: false), [name + ".bn", name]);
            case LightConv3x3 light:
                return new LightConvNode(light, name);
            case OSBlock block:
                return new BlockNode(block, name, names, this);
            case Sequential sequence:
                return new SequenceNode(sequence.NamedChildren().Select(c => Build(c.Value, names)).ToList(), name);
            case MaxPool2d pool when pool.Options is { Dilation: [1], CeilMode: false }:
                return new PoolNode(name, pool.Options.Kernel[0], pool.Options.Stride?[0] ?? pool.Options.Kernel[0], pool.Options.Padding[0], max: true);
            case AvgPool2d pool when pool.Options is { Padding: [0], CeilMode: false }:
                return new PoolNode(name, pool.Options.Kernel[0], pool.Options.Stride?[0] ?? pool.Options.Kernel[0], 0, max: false);
            default:
                throw new NotSupportedException($"the OSNet plan has no fused step for {name} ({module.TypeName})");
        }
    }

    /// <summary>Buffer roles inside a block (shared by all blocks: one block runs at a time within a forward).</summary>
    private static class Role
    {
        public const int OutA = 0, OutB = 1, X1 = 2, Pointwise = 3, StreamA = 4, StreamB = 5, Sum = 6, Shortcut = 7, Conv3 = 8,
            Gates = 9, Hidden = 10, Gated = 11;
    }

    /// <summary>Where a profiled forward records its steps, and the clock it reads.</summary>
    private sealed record StepTimes(List<PlanStepTime> Steps, Func<double> ClockMs);

    /// <summary>One forward in flight: its buffers, thread count, and activation sink with per-name call counts.</summary>
    private sealed class PlanRun(PlanContext context, int threads, IActivationSink? sink, StepTimes? profile)
    {
        private readonly Dictionary<string, int>? _calls = sink is null ? null : new(StringComparer.Ordinal);
        private int _toggle;

        public PlanContext Context { get; } = context;

        public int Threads { get; } = threads;

        public bool Capturing => sink is not null;

        /// <summary>True when this forward is being profiled.</summary>
        public bool Profiling => profile is not null;

        /// <summary>The profile clock's time in ms when profiling, else 0.</summary>
        public double Start() => profile is null ? 0 : profile.ClockMs();

        /// <summary>Records a step timed from <paramref name="start"/> when profiling.</summary>
        public void Stop(double start, string name, string kind, long macs, long floatsMoved)
        {
            if (profile is not null)
            {
                profile.Steps.Add(new PlanStepTime(name, kind, profile.ClockMs() - start, macs, 4 * floatsMoved));
            }
        }

        /// <summary>The next top-level output buffer: alternates, so a step never writes over its own input.</summary>
        public Tensor Next(int n, int c, int h, int w) => Context.Tensor4((_toggle ^= 1) == 1 ? Role.OutA : Role.OutB, n, c, h, w);

        /// <summary>The same for the blocked layout: the next top-level blocked map of logical shape [n, c, h, w].</summary>
        public BlockedMap NextBlocked(int n, int c, int h, int w) =>
            new(Context.Floats((_toggle ^= 1) == 1 ? Role.OutA : Role.OutB, BlockedLayout.Length(n, c, h, w)), n, c, h, w);

        /// <summary>A blocked map of logical shape [n, c, h, w] for <paramref name="role"/>.</summary>
        public BlockedMap Blocked(int role, int n, int c, int h, int w) => new(Context.Floats(role, BlockedLayout.Length(n, c, h, w)), n, c, h, w);

        /// <summary>Reports a blocked map under each name, converted to NCHW (only while capturing).</summary>
        public void Report(IEnumerable<string> names, BlockedMap value)
        {
            if (sink is not null)
            {
                foreach (string name in names)
                {
                    Record(name, value.ToTensor()); // the conversion is already a fresh copy
                }
            }
        }

        public void Report(string name, Tensor value)
        {
            if (sink is not null)
            {
                Record(name, new Tensor(value.Shape, (float[])value.Data.Clone()));
            }
        }

        private void Record(string name, Tensor copy)
        {
            _calls![name] = _calls.GetValueOrDefault(name) + 1;
            sink!.Record(name, _calls[name], copy);
        }

        public void Report(IEnumerable<string> names, Tensor value)
        {
            if (sink is not null) // enumerating an array as IEnumerable allocates its enumerator
            {
                foreach (string name in names)
                {
                    Report(name, value);
                }
            }
        }
    }

    private abstract class Node
    {
        public abstract Tensor Run(PlanRun run, Tensor x);
    }

    /// <summary>Times one fused conv: MACs from its geometry; floats moved = input + output + weights (+ residual).</summary>
    private static void RunConv(PlanRun run, FusedConv conv, Tensor x, Tensor y, string name, string kind, Tensor? residual = null, bool? relu = null)
    {
        double t = run.Start();
        conv.Run(x, y, run.Threads, residual, relu, run.Context);
        if (run.Profiling)
        {
            ConvGeometry g = conv.Geometry(x);
            long macs = (long)y.Length * g.ReductionLength;
            run.Stop(t, name, kind, macs, x.Length + y.Length + (residual?.Length ?? 0) + ((long)conv.OutChannels * g.ReductionLength));
        }
    }

    /// <summary>The pooled size [oh, ow] of a map (either layout), or the reference's kind of error when the window does not fit it.</summary>
    private static (int H, int W) Pooled(string name, int n, int c, int h, int w, int kernel, int stride, int padding)
    {
        int oh = BlockedPool.Out(h, kernel, stride, padding), ow = BlockedPool.Out(w, kernel, stride, padding);
        if (oh < 1 || ow < 1)
        {
            throw new ArgumentException($"{name}: the map [{n}, {c}, {h}, {w}] is smaller than the {kernel}x{kernel} pooling window (the image is too small)");
        }

        return (oh, ow);
    }

    private static Tensor Output(PlanRun run, FusedConv conv, Tensor x, int role)
    {
        ConvGeometry g = conv.Geometry(x);
        return run.Context.Tensor4(role, x.Size(0), conv.OutChannels, g.Axes[1].Output, g.Axes[2].Output);
    }

    private static Tensor Next(PlanRun run, FusedConv conv, Tensor x)
    {
        ConvGeometry g = conv.Geometry(x);
        return run.Next(x.Size(0), conv.OutChannels, g.Axes[1].Output, g.Axes[2].Output);
    }

    /// <summary>A fused conv (ConvLayer with BN, Conv1x1, Conv1x1Linear) into the next top-level buffer.</summary>
    private sealed class ConvNode(FusedConv conv, string[] names) : Node
    {
        public FusedConv Conv => conv;

        public string Name => names[^1];

        public override Tensor Run(PlanRun run, Tensor x) => RunInto(run, x, Next(run, conv, x));

        public Tensor RunInto(PlanRun run, Tensor x, Tensor y)
        {
            RunConv(run, conv, x, y, names[^1], conv.Geometry(x).Axes[2].Kernel == 1 ? "1x1 + BN (+ ReLU)" : "stem conv + BN + ReLU");
            run.Report(names, y);
            return y;
        }
    }

    /// <summary>The IBN stem: conv, then InstanceNorm (it depends on the conv's output statistics: no folding), then ReLU.</summary>
    private sealed class InstanceNormConvNode(ConvLayer layer, string name) : Node
    {
        private readonly FusedConv _conv = new(layer.Conv, null, relu: false);
        private readonly InstanceNorm2d _norm = (InstanceNorm2d)layer.Norm;

        public override Tensor Run(PlanRun run, Tensor x)
        {
            Tensor c = Next(run, _conv, x);
            RunConv(run, _conv, x, c, name, "stem conv");
            run.Report(name + ".conv", c);
            Tensor y = Ops.InstanceNorm.Forward(c, _norm.Weight, _norm.Bias, _norm.Eps); // the reference op (IBN variant only)
            run.Report(name + ".bn", y);
            FastElementwise.ReluInPlace(y.Data);
            run.Report([name + ".relu", name], y);
            return y;
        }
    }

    /// <summary>LightConv3x3: the 1x1 into a scratch buffer, then the depthwise 3x3 with BN folded and ReLU in its store.</summary>
    private sealed class LightConvNode(LightConv3x3 light, string name) : Node
    {
        private readonly FusedConv _pointwise = new(light.Conv1, null, relu: false);
        private readonly FusedConv _depthwise = new(light.Conv2, light.Bn, relu: true);

        public override Tensor Run(PlanRun run, Tensor x) => RunInto(run, x, Role.StreamA);

        public Tensor RunInto(PlanRun run, Tensor x, int role)
        {
            Tensor p = Output(run, _pointwise, x, Role.Pointwise);
            RunConv(run, _pointwise, x, p, name + ".conv1", "LightConv 1x1");
            run.Report(name + ".conv1", p);
            Tensor y = Output(run, _depthwise, p, role);
            RunConv(run, _depthwise, p, y, name + ".conv2", "LightConv depthwise 3x3 + BN + ReLU");
            run.Report([name + ".relu", name], y);
            return y;
        }
    }

    /// <summary>A Sequential of nodes (a stage, a transition, a stream); its own output reported under its name.</summary>
    private sealed class SequenceNode(List<Node> children, string name) : Node
    {
        public List<Node> Children => children;

        public string Name => name;

        public override Tensor Run(PlanRun run, Tensor x)
        {
            foreach (Node child in children)
            {
                x = child.Run(run, x);
            }

            run.Report(name, x);
            return x;
        }
    }

    /// <summary>Max or average pooling (<see cref="FastPool"/>) into the next top-level buffer.</summary>
    private sealed class PoolNode(string name, int kernel, int stride, int padding, bool max) : Node
    {
        public override Tensor Run(PlanRun run, Tensor x)
        {
            var (oh, ow) = Pooled(name, x.Size(0), x.Size(1), x.Size(2), x.Size(3), kernel, stride, padding);
            Tensor y = run.Next(x.Size(0), x.Size(1), oh, ow);
            double t = run.Start();
            if (max)
            {
                FastPool.MaxPool2d(x, kernel, stride, padding, y, run.Threads);
            }
            else
            {
                FastPool.AvgPool2d(x, kernel, stride, y, run.Threads);
            }

            run.Stop(t, name, max ? "max pool" : "avg pool", 0, x.Length + y.Length);

            run.Report(name, y);
            return y;
        }
    }

    /// <summary>
    /// OSBlock: conv1; each stream's LightConv3x3 chain, gated and accumulated into the sum as soon as it is done
    /// (the reference's values and summation order: gate(a) + gate(b) + gate(c) + gate(d)); then
    /// relu(conv3(sum) + shortcut) with the add and ReLU in conv3's store, or relu(IN(conv3(sum) + shortcut)).
    /// </summary>
    private sealed class BlockNode : Node
    {
        private readonly string _name;
        private readonly ConvNode _conv1;
        private readonly List<(string Name, List<LightConvNode> Chain)> _streams;
        private readonly FusedGate _gate;
        private readonly string _gateName;
        private readonly ConvNode _conv3;
        private readonly ConvNode? _downsample;
        private readonly InstanceNorm2d? _in;

        public BlockNode(OSBlock block, string name, Dictionary<Module, string> names, OSNetPlan plan)
        {
            _name = name;
            _conv1 = (ConvNode)plan.Build(block.Conv1, names);
            _streams = Streams(block, names, m => (LightConvNode)plan.Build(m, names));

            _gate = new FusedGate(block.Gate);
            _gateName = names[block.Gate];
            _conv3 = (ConvNode)plan.Build(block.Conv3, names);
            _downsample = block.Downsample is null ? null : (ConvNode)plan.Build(block.Downsample, names);
            _in = block.IN;
        }

        public override Tensor Run(PlanRun run, Tensor x)
        {
            PlanContext ctx = run.Context;
            Tensor x1 = _conv1.RunInto(run, x, Output(run, _conv1.Conv, x, Role.X1));
            int n = x1.Size(0), mid = x1.Size(1);
            Tensor sum = ctx.Tensor4(Role.Sum, n, mid, x1.Size(2), x1.Size(3));
            float[] gates = ctx.Floats(Role.Gates, n * mid), hidden = ctx.Floats(Role.Hidden, n * Math.Max(1, mid / 16));
            bool first = true;
            foreach (var (streamName, chain) in _streams)
            {
                Tensor s = x1;
                for (int i = 0; i < chain.Count; i++)
                {
                    s = chain[i].RunInto(run, s, i % 2 == 0 ? Role.StreamA : Role.StreamB);
                }

                if (chain.Count > 1)
                {
                    run.Report(streamName, s);
                }

                double t = run.Start();
                _gate.Gates(s, gates, hidden, run.Threads);
                if (run.Capturing)
                {
                    Tensor gated = ctx.Tensor4(Role.Gated, n, mid, s.Size(2), s.Size(3));
                    FastElementwise.GateAccumulate(s, gates, gated, first: true, run.Threads);
                    run.Report(_gateName, gated);
                }

                FastElementwise.GateAccumulate(s, gates, sum, first, run.Threads);
                run.Stop(t, _gateName, "gate + accumulate", 0, (2L * s.Length) + (first ? 1 : 2) * sum.Length);
                first = false;
            }

            Tensor shortcut = _downsample is null ? x : _downsample.RunInto(run, x, Output(run, _downsample.Conv, x, Role.Shortcut));
            ConvGeometry g3 = _conv3.Conv.Geometry(sum);
            Tensor y = run.Next(n, _conv3.Conv.OutChannels, g3.Axes[1].Output, g3.Axes[2].Output);
            if (_in is null && !run.Capturing)
            {
                RunConv(run, _conv3.Conv, sum, y, _conv3.Name, "1x1 + BN + residual + ReLU", residual: shortcut, relu: true); // in the store
                return y;
            }

            Tensor x3 = _conv3.RunInto(run, sum, ctx.Tensor4(Role.Conv3, n, y.Size(1), y.Size(2), y.Size(3)));
            if (_in is null)
            {
                FastElementwise.AddRelu(x3.Data, shortcut.Data, y.Data);
                run.Report(_name, y);
                return y;
            }

            for (int i = 0; i < y.Length; i++)
            {
                y.Data[i] = x3.Data[i] + shortcut.Data[i];
            }

            Tensor normed = Ops.InstanceNorm.Forward(y, _in.Weight, _in.Bias, _in.Eps); // the reference op (IBN variant only)
            run.Report(Module.Qualify(_name, "IN"), normed);
            FastElementwise.ReluInPlace(normed.Data);
            run.Report(_name, normed);
            return normed;
        }
    }

    /// <summary>The head: global average pool, then the fc (Linear with its BatchNorm1d folded, ReLU) as vector dot products.</summary>
    private sealed class FusedHead
    {
        private readonly string _poolName, _fcName, _stepName;
        private readonly string[] _fcNames; // built once: a forward allocates no names
        private readonly int _in, _out;
        private readonly float[] _wT, _b; // the folded weight transposed to [in, out]: the fc runs as vector multiply-adds over outputs

        public FusedHead(OSNet model, string poolName, string fcName)
        {
            _poolName = poolName;
            _fcName = fcName;
            _stepName = poolName + " + " + fcName;
            _fcNames = [fcName + ".2", fcName];
            if (model.Fc is not { Count: 3 } || model.Fc[0] is not Linear linear || model.Fc[1] is not BatchNorm1d bn || model.Fc[2] is not ReLU)
            {
                throw new NotSupportedException($"the OSNet plan expects fc = Linear, BatchNorm1d, ReLU");
            }

            (_in, _out) = (linear.InFeatures, linear.OutFeatures);
            var (w, b) = BatchNormFolding.Fold(linear.Weight.Data, linear.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data, bn.Weight.Data, bn.Bias.Data, bn.Eps);
            _b = b;
            _wT = new float[_in * _out];
            for (int o = 0; o < _out; o++)
            {
                for (int k = 0; k < _in; k++)
                {
                    _wT[(k * _out) + o] = w[(o * _in) + k];
                }
            }
        }

        public Tensor Run(PlanRun run, Tensor x)
        {
            int n = x.Size(0);
            if (x.Size(1) != _in)
            {
                throw new ArgumentException($"{_fcName}: expects {_in} channels, got {x.ShapeString}");
            }

            Tensor pooled = run.Context.Tensor4(Role.Gated, n, _in, 1, 1);
            double t = run.Start();
            FastPool.GlobalAvgPool(x, pooled);
            return Fc(run, pooled, t, x.Length);
        }

        /// <summary>The features' length.</summary>
        public int OutFeatures => _out;

        /// <summary>The same on a blocked map: the channel means straight from the blocks.</summary>
        public Tensor Run(PlanRun run, BlockedMap x)
        {
            var y = Tensor.Zeros(x.N, _out);
            RunInto(run, x, y, 0);
            return y;
        }

        /// <summary>The features of <paramref name="x"/>'s images into rows <paramref name="row"/>.. of <paramref name="y"/> [N, out].</summary>
        public void RunInto(PlanRun run, BlockedMap x, Tensor y, int row)
        {
            if (x.C != _in)
            {
                throw new ArgumentException($"{_fcName}: expects {_in} channels, got [{x.N}, {x.C}, {x.H}, {x.W}]");
            }

            Tensor pooled = run.Context.Tensor4(Role.Gated, x.N, _in, 1, 1);
            double t = run.Start();
            BlockedPool.ChannelMeans(x.Data, x.N, x.C, x.H, x.W, pooled.Data, run.Threads);
            Fc(run, pooled, t, x.Length, y, row);
        }

        private Tensor Fc(PlanRun run, Tensor pooled, double t, long inputLength)
        {
            var y = Tensor.Zeros(pooled.Size(0), _out);
            Fc(run, pooled, t, inputLength, y, 0);
            return y;
        }

        private void Fc(PlanRun run, Tensor pooled, double t, long inputLength, Tensor y, int row)
        {
            int n = pooled.Size(0);
            run.Report(_poolName, pooled);
            for (int s = 0; s < n; s++)
            {
                LinearRelu(pooled.Data.AsSpan(s * _in, _in), y.Data.AsSpan((row + s) * _out, _out));
            }

            run.Stop(t, _stepName, "head", (long)n * _in * _out, inputLength + _wT.Length);
            run.Report(_fcNames, y);
        }

        /// <summary>y = relu(b + W v): y starts as b and takes v[k] times row k of W^T, a vector of outputs at a time.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        private void LinearRelu(ReadOnlySpan<float> v, Span<float> y)
        {
            int width = System.Numerics.Vector<float>.Count;
            _b.CopyTo(y);
            for (int k = 0; k < _in; k++)
            {
                var vk = new System.Numerics.Vector<float>(v[k]);
                ReadOnlySpan<float> row = _wT.AsSpan(k * _out, _out);
                int o = 0;
                for (; o <= _out - width; o += width)
                {
                    Simd.Fma(new System.Numerics.Vector<float>(row[o..]), vk, new System.Numerics.Vector<float>(y[o..])).CopyTo(y[o..]);
                }

                for (; o < _out; o++)
                {
                    y[o] += row[o] * v[k];
                }
            }

            for (int o = 0; o < _out; o++)
            {
                y[o] = y[o] > 0 ? y[o] : 0;
            }
        }
    }
}

/// <summary>One step of a profiled forward (<see cref="OSNetPlan.Profile"/>).</summary>
/// <param name="Name">The module name (a fused group under its outer name).</param>
/// <param name="Kind">What the step computes.</param>
/// <param name="Milliseconds">Median time per forward, summed over the step's calls in one forward.</param>
/// <param name="Macs">Multiply-accumulates per forward.</param>
/// <param name="Bytes">Bytes the step must read and write at least once (inputs, outputs, weights).</param>
public sealed record PlanStepTime(string Name, string Kind, double Milliseconds, long Macs, long Bytes);
