using System.Numerics;
using System.Runtime.CompilerServices;

namespace Learn.Ops.Fast;

/// <summary>
/// The one padded, width-phase-split copy of an input channel that the depthwise and indirect kernels read
/// (and only they): rows already padded by the padding mode and split into stride-many column phases, so the
/// input of a run of outputs under one kernel tap is one contiguous run of the copy, for any stride.
/// </summary>
internal static unsafe class PaddedPlane
{
    /// <summary>
    /// Copies one input channel x [D, H, W] into dst: dst[((q*dRows + pd)*hRows + ph)*rowLength + i] =
    /// xpad[pd, ph, i*sw + q] for q &lt; sw, pd &lt; dRows, ph &lt; hRows, i &lt; rowLength, the padding read as
    /// <paramref name="mode"/> says and zero past the padded width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fill(ConvGeometry g, int dRows, int hRows, int rowLength, PaddingMode mode, float* x, float* dst)
    {
        ConvAxis ad = g.Axes[0], ah = g.Axes[1], aw = g.Axes[2];
        int sw = aw.Stride, paddedW = aw.Input + aw.PadBefore + aw.PadAfter;
        int v = Vector<float>.Count;
        for (int q = 0; q < sw; q++)
        {
            for (int pd = 0; pd < dRows; pd++)
            {
                int id = PaddingModes.SourceIndex(pd - ad.PadBefore, ad.Input, mode);
                for (int ph = 0; ph < hRows; ph++, dst += rowLength)
                {
                    int ih = PaddingModes.SourceIndex(ph - ah.PadBefore, ah.Input, mode);
                    if (id < 0 || ih < 0)
                    {
                        new Span<float>(dst, rowLength).Clear();
                        continue;
                    }

                    float* src = x + ((((long)id * ah.Input) + ih) * aw.Input);
                    if (mode == PaddingMode.Zeros)
                    {
                        // i reads input column i*sw + q - padLeft: inside the row for i in [lo, hi), zero elsewhere.
                        int shift = aw.PadBefore - q;
                        int lo = Math.Clamp(shift <= 0 ? 0 : (shift + sw - 1) / sw, 0, rowLength);
                        int hi = Math.Clamp((aw.Input + shift + sw - 1) / sw, lo, rowLength);
                        for (int i = 0; i < lo; i++)
                        {
                            dst[i] = 0f;
                        }

                        float* from = src + ((lo * sw) - shift);
                        if (sw == 1)
                        {
                            int j = 0, count = hi - lo;
                            for (; j + v <= count; j += v)
                            {
                                *(Vector<float>*)(dst + lo + j) = *(Vector<float>*)(from + j);
                            }

                            for (; j < count; j++)
                            {
                                dst[lo + j] = from[j];
                            }
                        }
                        else
                        {
                            for (int i = lo; i < hi; i++, from += sw)
                            {
                                dst[i] = *from;
                            }
                        }

                        for (int i = hi; i < rowLength; i++)
                        {
                            dst[i] = 0f;
                        }

                        continue;
                    }

                    for (int i = 0; i < rowLength; i++)
                    {
                        int col = (i * sw) + q; // padded column
                        int iw = col >= paddedW ? -1 : PaddingModes.SourceIndex(col - aw.PadBefore, aw.Input, mode);
                        dst[i] = iw < 0 ? 0f : src[iw];
                    }
                }
            }
        }
    }
}
