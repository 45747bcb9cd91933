using Learn.Layers;
using Learn.Models;
using ConvGeometry = Learn.Ops.ConvGeometry;
using Learn.Ops.Fast;
using Learn.Ops.Fast.Blocked;
using Learn.Tensors;

namespace Learn.Engine;

/// <summary>
/// The plan's steps in the blocked layout (<see cref="PlanLayout.Blocked"/>): the same steps, fusions, names and buffer
/// roles as the NCHW ones, on NCHW16c maps (<see cref="BlockedLayout"/>). The stem reads the NCHW image and writes a
/// blocked map; everything after it stays blocked until the head.
/// </summary>
public sealed partial class OSNetPlan
{
    /// <summary>The first module of <paramref name="model"/> the blocked layout has no step for (named, with why), or null.</summary>
    private static string? BlockedLacks(OSNet model)
    {
        foreach (var (name, module) in model.NamedModules())
        {
            string? why = module switch
            {
                InstanceNorm2d => $"{name} (InstanceNorm, the IBN variant)",
                Conv2d conv when module == model.Conv1.Conv => conv.Groups != 1 || conv.Dilation != 1 ? $"{name} (a grouped or dilated stem)" : null,
                Conv2d conv when conv.KernelSize == 1 && (conv.Stride != 1 || conv.Padding != 0 || conv.Groups != 1 || conv.Dilation != 1) => $"{name} (a 1x1 conv with stride, padding or groups)",
                Conv2d conv when conv.KernelSize == 3 && !IsDepthwise3x3(conv) => $"{name} (a 3x3 conv that is not depthwise, stride 1, padding 1)",
                Conv2d conv when conv.KernelSize != 1 && conv.KernelSize != 3 && module != model.Conv1.Conv => $"{name} (a {conv.KernelSize}x{conv.KernelSize} conv after the stem)",
                MaxPool2d pool when pool.Options is not { Dilation: [1], CeilMode: false } => $"{name} (a dilated or ceil-mode max pool)",
                AvgPool2d pool when pool.Options is not { Padding: [0], CeilMode: false } => $"{name} (a padded or ceil-mode average pool)",
                _ => null,
            };
            if (why is not null)
            {
                return why;
            }
        }

        return null;
    }

    private static bool IsDepthwise3x3(Conv2d conv) =>
        conv.KernelSize == 3 && conv.Stride == 1 && conv.Padding == 1 && conv.Dilation == 1 && conv.Groups == conv.InChannels && conv.OutChannels == conv.InChannels;

    private BlockedNode BuildBlocked(Module module, Dictionary<Module, string> names)
    {
        string name = names[module];
        AddFusions(module, name);
        return module switch
        {
            ConvLayer { Norm: BatchNorm2d bn } layer => new BlockedConvNode(layer.Conv, bn, relu: true, [name + ".relu", name], "1x1 + BN (+ ReLU)"),
            Conv1x1Linear linear => new BlockedConvNode(linear.Conv, linear.Bn, relu: false, [name + ".bn", name], "1x1 + BN (+ ReLU)"),
            LightConv3x3 light => new BlockedLightConvNode(light, name),
            OSBlock block => new BlockedBlockNode(block, name, names, this),
            Sequential sequence => new BlockedSequenceNode(sequence.NamedChildren().Select(c => BuildBlocked(c.Value, names)).ToList(), name),
            MaxPool2d pool => new BlockedPoolNode(name, pool.Options.Kernel[0], pool.Options.Stride?[0] ?? pool.Options.Kernel[0], pool.Options.Padding[0], max: true),
            AvgPool2d pool => new BlockedPoolNode(name, pool.Options.Kernel[0], pool.Options.Stride?[0] ?? pool.Options.Kernel[0], 0, max: false),
            _ => throw new NotSupportedException($"the blocked OSNet plan has no step for {name} ({module.TypeName})"),
        };
    }

    private abstract class BlockedNode
    {
        public abstract BlockedMap Run(PlanRun run, BlockedMap x);
    }

    /// <summary>The stem conv + BN + ReLU from the NCHW image straight into a blocked map (<see cref="BlockedDirectConv"/>).</summary>
    private sealed class BlockedStemNode
    {
        private readonly BlockedDirectConv _conv;
        private readonly string _name;
        private readonly string[] _names; // built once: a forward allocates no names

        public BlockedStemNode(ConvLayer layer, string name)
        {
            Conv2d conv = layer.Conv;
            var bn = (BatchNorm2d)layer.Norm;
            var (w, b) = BatchNormFolding.Fold(conv.Weight.Data, conv.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data, bn.Weight.Data, bn.Bias.Data, bn.Eps);
            _conv = new BlockedDirectConv(w, b, conv.OutChannels, conv.InChannels, conv.KernelSize, conv.Stride, conv.Padding);
            _name = name;
            _names = [name + ".relu", name];
        }

        /// <summary>The stem on images [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) of <paramref name="x"/>.</summary>
        public BlockedMap Run(PlanRun run, Tensor x, int first, int count)
        {
            int h = x.Size(2), w = x.Size(3);
            if (_conv.Out(h) < 1 || _conv.Out(w) < 1)
            {
                throw new ArgumentException($"{_name}: the image {x.ShapeString} is smaller than the stem's kernel");
            }

            BlockedMap y = run.NextBlocked(count, _conv.OutChannels, _conv.Out(h), _conv.Out(w));
            double t = run.Start();
            int image = x.Size(1) * h * w;
            _conv.Forward(x.Data, count, h, w, y.Data, relu: true, run.Threads, run.Context.Padded(_conv.PaddedLength(count, h, w)), first * image);
            run.Stop(t, _name, "stem conv + BN + ReLU", (long)y.N * y.H * y.W * y.C * _conv.Reduction, ((long)count * image) + y.Length);
            run.Report(_names, y);
            return y;
        }
    }

    /// <summary>A 1x1 conv with its BatchNorm folded (Conv1x1, Conv1x1Linear): <see cref="BlockedPointwise"/>.</summary>
    private sealed class BlockedConvNode : BlockedNode
    {
        private readonly BlockedPointwiseWeights _weights;
        private readonly bool _relu;
        private readonly string[] _names;
        private readonly string _kind;

        public BlockedConvNode(Conv2d conv, BatchNorm2d? bn, bool relu, string[] names, string kind)
        {
            float[] w = conv.Weight.Data, b = conv.Bias?.Data ?? [];
            if (bn is not null)
            {
                (w, b) = BatchNormFolding.Fold(conv.Weight.Data, conv.Bias?.Data, bn.RunningMean.Data, bn.RunningVar.Data, bn.Weight.Data, bn.Bias.Data, bn.Eps);
            }

            _weights = BlockedPointwiseWeights.Pack(w, b, conv.OutChannels, conv.InChannels);
            _relu = relu;
            _names = names;
            _kind = kind;
        }

        public int OutChannels => _weights.OutChannels;

        public string Name => _names[^1];

        public override BlockedMap Run(PlanRun run, BlockedMap x) => RunInto(run, x, run.NextBlocked(x.N, OutChannels, x.H, x.W));

        /// <summary>y = conv(x) with the epilogue: the node's ReLU, or (given) the residual added and then <paramref name="relu"/>.</summary>
        public BlockedMap RunInto(PlanRun run, BlockedMap x, BlockedMap y, BlockedMap? residual = null, bool? relu = null, string? kind = null)
        {
            if (x.C != _weights.InChannels)
            {
                throw new ArgumentException($"{Name}: expects {_weights.InChannels} channels, got [{x.N}, {x.C}, {x.H}, {x.W}]");
            }

            double t = run.Start();
            BlockedPointwise.Forward(_weights, x.Data, x.N, x.H * x.W, y.Data, relu ?? _relu, residual?.Data, run.Threads);
            run.Stop(t, Name, kind ?? _kind, (long)x.N * x.H * x.W * OutChannels * x.C, x.Length + y.Length + (residual?.Length ?? 0) + ((long)OutChannels * x.C));
            if (residual is null)
            {
                run.Report(_names, y);
            }

            return y;
        }
    }

    /// <summary>LightConv3x3: the 1x1 into a scratch map, then the depthwise 3x3 with BN folded and ReLU in its store.</summary>
    private sealed class BlockedLightConvNode : BlockedNode
    {
        private readonly BlockedPointwiseWeights _pointwise;
        private readonly float[] _depthwise;
        private readonly string _name, _conv1Name, _conv2Name;
        private readonly string[] _conv1Names, _names; // built once: a forward allocates no names

        public BlockedLightConvNode(LightConv3x3 light, string name)
        {
            _pointwise = BlockedPointwiseWeights.Pack(light.Conv1.Weight.Data, light.Conv1.Bias?.Data ?? [], light.Conv1.OutChannels, light.Conv1.InChannels);
            Conv2d dw = light.Conv2;
            var (w, b) = BatchNormFolding.Fold(dw.Weight.Data, dw.Bias?.Data, light.Bn.RunningMean.Data, light.Bn.RunningVar.Data, light.Bn.Weight.Data, light.Bn.Bias.Data, light.Bn.Eps);
            _depthwise = BlockedDepthwise.Pack(w, b, dw.OutChannels);
            (_name, _conv1Name, _conv2Name) = (name, name + ".conv1", name + ".conv2");
            (_conv1Names, _names) = ([_conv1Name], [name + ".relu", name]);
        }

        public override BlockedMap Run(PlanRun run, BlockedMap x) => RunInto(run, x, Role.StreamA);

        public BlockedMap RunInto(PlanRun run, BlockedMap x, int role)
        {
            if (x.C != _pointwise.InChannels)
            {
                throw new ArgumentException($"{_name}: expects {_pointwise.InChannels} channels, got [{x.N}, {x.C}, {x.H}, {x.W}]");
            }

            int c = _pointwise.OutChannels;
            BlockedMap p = run.Blocked(Role.Pointwise, x.N, c, x.H, x.W);
            double t = run.Start();
            BlockedPointwise.Forward(_pointwise, x.Data, x.N, x.H * x.W, p.Data, relu: false, residual: null, run.Threads);
            run.Stop(t, _conv1Name, "LightConv 1x1", (long)p.N * p.H * p.W * c * x.C, x.Length + p.Length + ((long)c * x.C));
            run.Report(_conv1Names, p);
            BlockedMap y = run.Blocked(role, x.N, c, x.H, x.W);
            t = run.Start();
            BlockedDepthwise.Forward(_depthwise, p.Data, p.N, c, p.H, p.W, y.Data, relu: true, run.Threads);
            run.Stop(t, _conv2Name, "LightConv depthwise 3x3 + BN + ReLU", (long)p.N * p.H * p.W * c * 9, p.Length + y.Length + (c * 10L));
            run.Report(_names, y);
            return y;
        }
    }

    /// <summary>A Sequential of blocked nodes; its own output reported under its name.</summary>
    private sealed class BlockedSequenceNode(List<BlockedNode> children, string name) : BlockedNode
    {
        private readonly string[] _names = [name];

        public override BlockedMap Run(PlanRun run, BlockedMap x)
        {
            foreach (BlockedNode child in children)
            {
                x = child.Run(run, x);
            }

            run.Report(_names, x);
            return x;
        }
    }

    /// <summary>Max or average pooling (<see cref="BlockedPool"/>) into the next top-level map.</summary>
    private sealed class BlockedPoolNode(string name, int kernel, int stride, int padding, bool max) : BlockedNode
    {
        private readonly string[] _names = [name];

        public override BlockedMap Run(PlanRun run, BlockedMap x)
        {
            var (oh, ow) = Pooled(name, x.N, x.C, x.H, x.W, kernel, stride, padding);
            BlockedMap y = run.NextBlocked(x.N, x.C, oh, ow);
            double t = run.Start();
            if (max)
            {
                BlockedPool.MaxPool(x.Data, x.N, x.C, x.H, x.W, kernel, stride, padding, y.Data, run.Threads);
            }
            else
            {
                BlockedPool.AvgPool(x.Data, x.N, x.C, x.H, x.W, kernel, stride, y.Data, run.Threads);
            }

            run.Stop(t, name, max ? "max pool" : "avg pool", 0, x.Length + y.Length);
            run.Report(_names, y);
            return y;
        }
    }

    /// <summary>OSBlock, as <see cref="BlockNode"/> does it, on blocked maps (no InstanceNorm: the blocked layout refuses IBN).</summary>
    private sealed class BlockedBlockNode : BlockedNode
    {
        private readonly string _name;
        private readonly BlockedConvNode _conv1;
        private readonly List<(string Name, List<BlockedLightConvNode> Chain)> _streams;
        private readonly FusedGate _gate;
        private readonly string _gateName;
        private readonly BlockedConvNode _conv3;
        private readonly BlockedConvNode? _downsample;

        public BlockedBlockNode(OSBlock block, string name, Dictionary<Module, string> names, OSNetPlan plan)
        {
            _name = name;
            _conv1 = (BlockedConvNode)plan.BuildBlocked(block.Conv1, names);
            _streams = Streams(block, names, m => (BlockedLightConvNode)plan.BuildBlocked(m, names));

            _gate = new FusedGate(block.Gate);
            _gateName = names[block.Gate];
            _conv3 = (BlockedConvNode)plan.BuildBlocked(block.Conv3, names);
            _downsample = block.Downsample is null ? null : (BlockedConvNode)plan.BuildBlocked(block.Downsample, names);
        }

        public override BlockedMap Run(PlanRun run, BlockedMap x)
        {
            PlanContext ctx = run.Context;
            BlockedMap x1 = _conv1.RunInto(run, x, run.Blocked(Role.X1, x.N, _conv1.OutChannels, x.H, x.W));
            int n = x1.N, mid = x1.C;
            BlockedMap sum = run.Blocked(Role.Sum, n, mid, x1.H, x1.W);
            float[] gates = ctx.Floats(Role.Gates, n * mid), hidden = ctx.Floats(Role.Hidden, n * Math.Max(1, mid / 16));
            bool first = true;
            foreach (var (streamName, chain) in _streams)
            {
                BlockedMap s = x1;
                for (int i = 0; i < chain.Count; i++)
                {
                    s = chain[i].RunInto(run, s, i % 2 == 0 ? Role.StreamA : Role.StreamB);
                }

                if (chain.Count > 1 && run.Capturing)
                {
                    run.Report([streamName], s);
                }

                double t = run.Start();
                BlockedPool.ChannelMeans(s.Data, n, mid, s.H, s.W, gates, run.Threads);
                _gate.FromMeans(gates, hidden, n);
                if (run.Capturing)
                {
                    BlockedMap gated = run.Blocked(Role.Gated, n, mid, s.H, s.W);
                    BlockedGate.Accumulate(s.Data, gates, n, mid, s.H, s.W, gated.Data, first: true, run.Threads);
                    run.Report([_gateName], gated);
                }

                BlockedGate.Accumulate(s.Data, gates, n, mid, s.H, s.W, sum.Data, first, run.Threads);
                run.Stop(t, _gateName, "gate + accumulate", 0, (2L * s.Length) + (first ? 1 : 2) * sum.Length);
                first = false;
            }

            BlockedMap shortcut = _downsample is null ? x : _downsample.RunInto(run, x, run.Blocked(Role.Shortcut, x.N, _downsample.OutChannels, x.H, x.W));
            BlockedMap y = run.NextBlocked(n, _conv3.OutChannels, sum.H, sum.W);
            if (!run.Capturing)
            {
                return _conv3.RunInto(run, sum, y, residual: shortcut, relu: true, kind: "1x1 + BN + residual + ReLU"); // in the store
            }

            BlockedMap x3 = _conv3.RunInto(run, sum, run.Blocked(Role.Conv3, n, y.C, y.H, y.W));
            FastElementwise.AddRelu(x3.Data, shortcut.Data, y.Data); // elementwise, so the layout does not matter
            run.Report([_name], y);
            return y;
        }
    }
}

/// <summary>A map of logical shape [N, C, H, W] held in the blocked layout (<see cref="BlockedLayout"/>).</summary>
internal readonly record struct BlockedMap(float[] Data, int N, int C, int H, int W)
{
    /// <summary>Floats the map occupies (its padding lanes included).</summary>
    public int Length => BlockedLayout.Length(N, C, H, W);

    /// <summary>A fresh NCHW tensor of the map's logical channels.</summary>
    public Tensor ToTensor()
    {
        var t = Tensor.Zeros(N, C, H, W);
        BlockedLayout.ToNchw(Data, N, C, H, W, t.Data);
        return t;
    }
}
