using Learn.Analysis;
using Learn.Layers;
using Learn.Tensors;

namespace Learn.Models;

/// <summary>
/// torchreid's <c>OSNet</c> (Zhou et al., "Omni-Scale Feature Learning for Person Re-Identification", ICCV 2019),
/// in eval mode. With channels c = [c0, c1, c2, c3] (x1.0: [64, 256, 384, 512]):
/// <code>
/// conv1    ConvLayer 3 -> c0, 7x7 stride 2 padding 3          (InstanceNorm instead of BN in the IBN variant)
/// maxpool  3x3 stride 2 padding 1
/// conv2    OSBlock(c0 -> c1), OSBlock(c1 -> c1), Sequential(Conv1x1(c1 -> c1), AvgPool2d(2, stride 2))
/// conv3    OSBlock(c1 -> c2), OSBlock(c2 -> c2), Sequential(Conv1x1(c2 -> c2), AvgPool2d(2, stride 2))
/// conv4    OSBlock(c2 -> c3), OSBlock(c3 -> c3)                 (no transition)
/// conv5    Conv1x1(c3 -> c3)
/// global_avgpool, flatten, fc = Sequential(Linear(c3 -> 512), BatchNorm1d(512), ReLU)  -> the 512-d feature
/// classifier Linear(512 -> num_classes)                         (training only; see <see cref="Logits"/>)
/// </code>
/// The IBN variant also puts an affine InstanceNorm2d at the end of both conv2 blocks. In eval mode torchreid's
/// <c>forward</c> returns the fc output (the re-ID feature), which is what <see cref="Module.Forward(Tensor)"/> returns.
/// </summary>
public sealed class OSNet : Module
{
    /// <summary>The five variants torchreid defines, in its order.</summary>
    public static IReadOnlyList<string> VariantNames { get; } = ["osnet_x1_0", "osnet_x0_75", "osnet_x0_5", "osnet_x0_25", "osnet_ibn_x1_0"];

    /// <summary>torchreid's factory default for <c>num_classes</c> (the ImageNet classes its pretrained weights use).</summary>
    public const int DefaultNumClasses = 1000;

    /// <summary>Builds OSNet with stage widths <paramref name="channels"/> and blocks per stage <paramref name="layers"/>.</summary>
    public OSNet(int numClasses, IReadOnlyList<int> channels, IReadOnlyList<int>? layers = null, bool instanceNorm = false, int featureDim = 512)
    {
        ArgumentNullException.ThrowIfNull(channels);
        layers ??= [2, 2, 2];
        if (channels.Count != 4 || layers.Count != 3)
        {
            throw new ArgumentException($"OSNet needs 4 channel widths and 3 stage depths, got {channels.Count} and {layers.Count}");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numClasses);
        Channels = channels.ToArray();
        NumClasses = numClasses;
        FeatureDim = featureDim;
        Conv1 = RegisterModule("conv1", new ConvLayer(3, channels[0], 7, stride: 2, padding: 3, instanceNorm: instanceNorm));
        Maxpool = RegisterModule("maxpool", new MaxPool2d(3, stride: 2, padding: 1));
        Conv2 = RegisterModule("conv2", Stage(layers[0], channels[0], channels[1], transition: true, instanceNorm));
        Conv3 = RegisterModule("conv3", Stage(layers[1], channels[1], channels[2], transition: true, instanceNorm: false));
        Conv4 = RegisterModule("conv4", Stage(layers[2], channels[2], channels[3], transition: false, instanceNorm: false));
        Conv5 = RegisterModule("conv5", new Conv1x1(channels[3], channels[3]));
        GlobalAvgPool = RegisterModule("global_avgpool", new AdaptiveAvgPool2d(1, 1));
        Fc = RegisterModule("fc", new Sequential(new Linear(channels[3], featureDim), new BatchNorm1d(featureDim), new ReLU()));
        Classifier = RegisterModule("classifier", new Linear(featureDim, numClasses));
    }

    /// <summary>Builds a named variant (<see cref="VariantNames"/>), as torchreid's factory functions do.</summary>
    /// <exception cref="ArgumentException">Unknown variant; the message lists the known ones.</exception>
    public static OSNet Create(string variant, int numClasses = DefaultNumClasses) => variant switch
    {
        "osnet_x1_0" => new OSNet(numClasses, [64, 256, 384, 512]),
        "osnet_x0_75" => new OSNet(numClasses, [48, 192, 288, 384]),
        "osnet_x0_5" => new OSNet(numClasses, [32, 128, 192, 256]),
        "osnet_x0_25" => new OSNet(numClasses, [16, 64, 96, 128]),
        "osnet_ibn_x1_0" => new OSNet(numClasses, [64, 256, 384, 512], instanceNorm: true),
        _ => throw new ArgumentException($"unknown OSNet variant '{variant}'; known: {string.Join(", ", VariantNames)}", nameof(variant)),
    };

    /// <summary>Stage widths [c0, c1, c2, c3].</summary>
    public IReadOnlyList<int> Channels { get; }

    /// <summary>Classifier outputs.</summary>
    public int NumClasses { get; }

    /// <summary>Length of the feature vector (512).</summary>
    public int FeatureDim { get; }

    /// <summary>PyTorch <c>conv1</c>: the 7x7 stride-2 stem.</summary>
    public ConvLayer Conv1 { get; }

    /// <summary>PyTorch <c>maxpool</c>.</summary>
    public MaxPool2d Maxpool { get; }

    /// <summary>PyTorch <c>conv2</c>: two OSBlocks and a transition.</summary>
    public Sequential Conv2 { get; }

    /// <summary>PyTorch <c>conv3</c>: two OSBlocks and a transition.</summary>
    public Sequential Conv3 { get; }

    /// <summary>PyTorch <c>conv4</c>: two OSBlocks.</summary>
    public Sequential Conv4 { get; }

    /// <summary>PyTorch <c>conv5</c>: a 1x1 conv + BN + ReLU.</summary>
    public Conv1x1 Conv5 { get; }

    /// <summary>PyTorch <c>global_avgpool</c>.</summary>
    public AdaptiveAvgPool2d GlobalAvgPool { get; }

    /// <summary>PyTorch <c>fc</c>: Linear, BatchNorm1d, ReLU.</summary>
    public Sequential Fc { get; }

    /// <summary>PyTorch <c>classifier</c>.</summary>
    public Linear Classifier { get; }

    /// <summary>
    /// Selects the implementation of every convolution and pooling layer (<see cref="Conv2d.Implementation"/>,
    /// <see cref="MaxPool2d.Implementation"/>, ...): layer by layer, with nothing fused. For fast inference, fuse
    /// the loaded model into an execution plan instead (<see cref="Engine.OSNetPlan.Fuse"/>).
    /// </summary>
    public void UseImplementation(Ops.Implementation implementation)
    {
        foreach (var (_, module) in NamedModules())
        {
            switch (module)
            {
                case Conv2d conv:
                    conv.Implementation = implementation;
                    break;
                case MaxPool2d pool:
                    pool.Implementation = implementation;
                    break;
                case AvgPool2d pool:
                    pool.Implementation = implementation;
                    break;
                case AdaptiveAvgPool2d pool:
                    pool.Implementation = implementation;
                    break;
            }
        }
    }

    /// <summary>torchreid's <c>featuremaps</c>: the conv5 output [N, c3, H/16, W/16].</summary>
    public Tensor FeatureMaps(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        foreach (Module stage in new Module[] { Conv1, Maxpool, Conv2, Conv3, Conv4, Conv5 })
        {
            x = stage.Forward(x);
        }

        return x;
    }

    /// <summary>The classifier's output on the feature, [N, num_classes] (what training-mode forward returns for loss='softmax').</summary>
    public Tensor Logits(Tensor x) => Classifier.Forward(Forward(x));

    /// <summary>The eval-mode forward: the fc output, [N, 512].</summary>
    protected override Tensor ForwardCore(Tensor x)
    {
        Tensor v = GlobalAvgPool.Forward(FeatureMaps(x));
        return Fc.Forward(v.Reshape(v.Size(0), -1));
    }

    /// <inheritdoc />
    protected internal override Signal Trace(TraceContext context, string name, Signal input)
    {
        ArgumentNullException.ThrowIfNull(input);
        Signal s = input;
        foreach (Module stage in new Module[] { Conv1, Maxpool, Conv2, Conv3, Conv4, Conv5, GlobalAvgPool })
        {
            s = TraceChild(context, name, stage, s);
        }

        s = s with { Shape = [s.Shape[0], s.Shape[1] * s.Shape[2] * s.Shape[3]] }; // flatten
        return TraceChild(context, name, Fc, s);
    }

    private static Sequential Stage(int blocks, int inChannels, int outChannels, bool transition, bool instanceNorm)
    {
        var modules = new List<Module>();
        for (int i = 0; i < blocks; i++)
        {
            modules.Add(new OSBlock(i == 0 ? inChannels : outChannels, outChannels, instanceNorm));
        }

        if (transition)
        {
            modules.Add(new Sequential(new Conv1x1(outChannels, outChannels), new AvgPool2d(2, stride: 2)));
        }

        return new Sequential(modules.ToArray());
    }
}
