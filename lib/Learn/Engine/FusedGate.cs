using System.Numerics;
using Learn.Models;
using Learn.Ops.Fast;
using Learn.Tensors;

namespace Learn.Engine;

/// <summary>
/// OSNet's channel gate as one step: g[n, c] = sigmoid(fc2(relu(fc1(mean_hw x[n, c])))), then the gated stream
/// accumulated into the block's sum (acc = x*g, or acc += x*g) in one pass. fc1 (C -> C/16) runs as C/16 vector dot
/// products, fc2 (C/16 -> C) as C/16 vector multiply-adds over a transposed copy of its weight made at fuse time.
/// </summary>
internal sealed class FusedGate
{
    private readonly int _channels, _hidden;
    private readonly float[] _w1, _b1, _w2T, _b2;

    public FusedGate(ChannelGate gate)
    {
        ArgumentNullException.ThrowIfNull(gate);
        _channels = gate.Fc1.InChannels;
        _hidden = gate.Fc1.OutChannels;
        _w1 = (float[])gate.Fc1.Weight.Data.Clone();              // [hidden, C]
        _b1 = (float[])gate.Fc1.Bias!.Data.Clone();
        _b2 = (float[])gate.Fc2.Bias!.Data.Clone();
        _w2T = new float[_hidden * _channels];                    // [hidden, C], from fc2's [C, hidden]
        for (int i = 0; i < _channels; i++)
        {
            for (int j = 0; j < _hidden; j++)
            {
                _w2T[(j * _channels) + i] = gate.Fc2.Weight.Data[(i * _hidden) + j];
            }
        }
    }

    /// <summary>
    /// The gate values of <paramref name="x"/> [N, C, H, W] into <paramref name="gates"/> [N*C], using
    /// <paramref name="hidden"/> [N*C/16] as scratch. The pooled means are split over up to <paramref name="threads"/>
    /// threads by plane; the two tiny convs run on the caller.
    /// </summary>
    public void Gates(Tensor x, float[] gates, float[] hidden, int threads = 1)
    {
        int n = x.Size(0), inner = x.Size(2) * x.Size(3);
        if (x.Size(1) != _channels)
        {
            throw new ArgumentException($"ChannelGate expects [N, {_channels}, H, W], got {x.ShapeString}");
        }

        float[] data = x.Data;
        Parallelism.For(threads, n * _channels, (long)x.Length * FastElementwise.ElementCost, (start, end) =>
        {
            for (int p = start; p < end; p++)
            {
                gates[p] = FastPool.Sum(data.AsSpan(p * inner, inner)) / inner; // the pooled mean, then overwritten by the gate
            }
        });

        FromMeans(gates, hidden, n);
    }

    /// <summary>
    /// The gate values from the pooled means: <paramref name="gates"/> [N*C] holds the means on entry and the gates on
    /// return; <paramref name="hidden"/> [N*C/16] is scratch.
    /// </summary>
    public void FromMeans(float[] gates, float[] hidden, int n)
    {
        int v = Vector<float>.Count;
        for (int s = 0; s < n; s++)
        {
            Span<float> pooled = gates.AsSpan(s * _channels, _channels);
            Span<float> h = hidden.AsSpan(s * _hidden, _hidden);
            for (int j = 0; j < _hidden; j++)
            {
                float a = _b1[j] + Simd.Dot(_w1.AsSpan(j * _channels, _channels), pooled);
                h[j] = a > 0 ? a : 0;
            }

            // pooled is no longer needed: the gate values overwrite it.
            Span<float> g = pooled;
            _b2.CopyTo(g);
            for (int j = 0; j < _hidden; j++)
            {
                var hj = new Vector<float>(h[j]);
                ReadOnlySpan<float> w = _w2T.AsSpan(j * _channels, _channels);
                int i = 0;
                for (; i <= _channels - v; i += v)
                {
                    Simd.Fma(new Vector<float>(w[i..]), hj, new Vector<float>(g[i..])).CopyTo(g[i..]);
                }

                for (; i < _channels; i++)
                {
                    g[i] += w[i] * h[j];
                }
            }

            for (int i = 0; i < _channels; i++)
            {
                g[i] = 1f / (1f + MathF.Exp(-g[i]));
            }
        }
    }
}
