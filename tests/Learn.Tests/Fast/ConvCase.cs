using System.Globalization;
using System.Text;
using Learn.Ops;
using Learn.Tensors;

namespace Learn.Tests.Fast;

/// <summary>
/// One convolution to run both ways, named by its parameters (x1x4x9x10_w6x2x3x3_s2,1_p1_d1,2_g2_zeros) so a
/// failure says which shape broke. Weights are scaled by 1/sqrt(K), as PyTorch initialises them, which is
/// the magnitude the tolerance rule assumes.
/// </summary>
public sealed record ConvCase(int[] InputShape, int[] WeightShape, bool Bias, ConvOptions Options, int Seed)
{
    public int SpatialDims => WeightShape.Length - 2;

    public Tensor Input() => Tensor.Random(Seed, InputShape);

    public Tensor Weight()
    {
        Tensor w = Tensor.Random(Seed + 1, WeightShape);
        int k = 1;
        for (int i = 1; i < WeightShape.Length; i++)
        {
            k *= WeightShape[i];
        }

        float scale = 1f / MathF.Sqrt(k);
        for (int i = 0; i < w.Length; i++)
        {
            w.Data[i] *= scale;
        }

        return w;
    }

    public Tensor? BiasTensor() => Bias ? Tensor.Random(Seed + 2, WeightShape[0]) : null;

    /// <summary>K = (C_in/G) * prod(kernel), the reduction length behind each output.</summary>
    public int ReductionLength => WeightShape.Skip(1).Aggregate(1, (a, b) => a * b);

    public Tensor Run(Implementation impl) => SpatialDims switch
    {
        1 => Conv.Conv1d(Input(), Weight(), BiasTensor(), Options, impl),
        2 => Conv.Conv2d(Input(), Weight(), BiasTensor(), Options, impl),
        _ => Conv.Conv3d(Input(), Weight(), BiasTensor(), Options, impl),
    };

    public override string ToString()
    {
        var s = new StringBuilder();
        s.Append('x').Append(string.Join("x", InputShape));
        s.Append("_w").Append(string.Join("x", WeightShape));
        s.Append("_s").Append(IntList.Format(Options.Stride));
        s.Append("_p").Append(Options.Padding);
        s.Append("_d").Append(IntList.Format(Options.Dilation));
        s.Append("_g").Append(Options.Groups.ToString(CultureInfo.InvariantCulture));
        s.Append('_').Append(Options.PaddingMode.Name());
        if (!Bias)
        {
            s.Append("_nobias");
        }

        return s.ToString();
    }
}
