using Learn.Ops;
using Learn.Tensors;

namespace Learn.Bench;

/// <summary>One benchmarked convolution: batch 1, float32, zero padding, seeded data shared by every peer.</summary>
public sealed class BenchCase
{
    private BenchCase(string key, string name, int[] input, int[] weight, int stride, int padding, int dilation, int groups)
    {
        Key = key;
        Name = name;
        InputShape = input;
        WeightShape = weight;
        Stride = [stride, stride];
        Padding = [padding, padding];
        Dilation = [dilation, dilation];
        Groups = groups;
        Input = Tensor.Random(1, input);
        Weight = Tensor.Random(2, weight);
        float scale = 1f / MathF.Sqrt(weight[1] * weight[2] * weight[3]);
        for (int i = 0; i < Weight.Length; i++)
        {
            Weight.Data[i] *= scale;
        }

        Bias = Tensor.Random(3, weight[0]);
        Options = new ConvOptions { Stride = Stride, Padding = Learn.Ops.Padding.Of(padding), Dilation = Dilation, Groups = groups };
        Geometry = ConvGeometry.Resolve(2, Input, Weight, Bias, Options);
        OutputShape = Geometry.OutputShape();
    }

    /// <summary>The cases of the table.</summary>
    public static IReadOnlyList<BenchCase> All { get; } =
    [
        new("depthwise", "depthwise 3x3, x=[1,64,64,32]", [1, 64, 64, 32], [64, 1, 3, 3], 1, 1, 1, 64),
        new("pointwise", "pointwise 1x1 64->256 at 64x32", [1, 64, 64, 32], [256, 64, 1, 1], 1, 0, 1, 1),
        new("grouped", "grouped 3x3 g=4 64->64 at 64x32", [1, 64, 64, 32], [64, 16, 3, 3], 1, 1, 1, 4),
        new("dilated", "dilated 3x3 d=2 64->64 at 64x32", [1, 64, 64, 32], [64, 64, 3, 3], 1, 2, 2, 1),
        new("stem", "stem 7x7 s2 3->64 at 256x128", [1, 3, 256, 128], [64, 3, 7, 7], 2, 3, 1, 1),
    ];

    /// <summary>OSNet's stem: 7x7, stride 2, padding 3, 3 -> <paramref name="cout"/> at 256x128.</summary>
    public static BenchCase Stem(int cout) =>
        new($"stem{cout}", $"stem 7x7 s2 3->{cout} at 256x128", [1, 3, 256, 128], [cout, 3, 7, 7], 2, 3, 1, 1);

    /// <summary>A 1x1 convolution <paramref name="cin"/> -> <paramref name="cout"/> on an h x w map (the stride experiment).</summary>
    public static BenchCase Pointwise(int cin, int cout, int h, int w) =>
        new($"pw{cin}-{cout}@{h}x{w}", $"1x1 {cin}->{cout} at {h}x{w}", [1, cin, h, w], [cout, cin, 1, 1], 1, 0, 1, 1);

    /// <summary>Short name, for BenchmarkDotNet's parameter column and --only.</summary>
    public string Key { get; }

    /// <summary>Row label.</summary>
    public string Name { get; }

    /// <summary>x: [1, C_in, H, W].</summary>
    public int[] InputShape { get; }

    /// <summary>w: [C_out, C_in/G, kh, kw].</summary>
    public int[] WeightShape { get; }

    /// <summary>y: [1, C_out, OH, OW].</summary>
    public int[] OutputShape { get; }

    /// <summary>(sh, sw).</summary>
    public int[] Stride { get; }

    /// <summary>(ph, pw), zeros, both sides.</summary>
    public int[] Padding { get; }

    /// <summary>(dh, dw).</summary>
    public int[] Dilation { get; }

    /// <summary>G.</summary>
    public int Groups { get; }

    /// <summary>Seeded uniform [-1, 1).</summary>
    public Tensor Input { get; }

    /// <summary>Seeded uniform, scaled by 1/sqrt(fan-in).</summary>
    public Tensor Weight { get; }

    /// <summary>Seeded uniform [-1, 1).</summary>
    public Tensor Bias { get; }

    /// <summary>The options for Learn.</summary>
    public ConvOptions Options { get; }

    /// <summary>The resolved geometry.</summary>
    public ConvGeometry Geometry { get; }

    /// <summary>Multiply-adds: outputs * (C_in/G) * kh * kw.</summary>
    public long Macs => Tensor.CountOf(OutputShape) * Geometry.ReductionLength;

    /// <inheritdoc />
    public override string ToString() => Name;
}
