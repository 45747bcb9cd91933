using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static Learn.Ops.Fast.Simd;

namespace Learn.Ops.Fast.Blocked;

/// <summary>
/// A 1x1 convolution's weights [C_out, C_in] and bias, packed once for <see cref="BlockedPointwise"/>:
/// zero-padded to whole blocks of 16 on both sides, so padding channels stay 0.
/// </summary>
/// <remarks>
/// Layout (as MLAS packs NCHWc filters): the output blocks in groups of <see cref="BlockedPointwise.GroupBlocks"/>
/// (the last group may be smaller), each group one contiguous run of <c>[C_in padded][blocks in group][16]</c>: for
/// every input channel k, the weights of the group's output channels are consecutive vectors, read in order by the
/// micro-kernel as k advances.
/// </remarks>
internal sealed class BlockedPointwiseWeights
{
    private BlockedPointwiseWeights(int outChannels, int inChannels, float[] weights, float[] bias)
    {
        OutChannels = outChannels;
        InChannels = inChannels;
        Weights = weights;
        Bias = bias;
    }

    /// <summary>C_out (logical).</summary>
    public int OutChannels { get; }

    /// <summary>C_in (logical).</summary>
    public int InChannels { get; }

    /// <summary>The packed weights (layout private to <see cref="BlockedPointwise"/>).</summary>
    internal float[] Weights { get; }

    /// <summary>The bias padded to whole blocks (zeros past C_out).</summary>
    internal float[] Bias { get; }

    /// <summary>Packs <paramref name="w"/> [C_out, C_in] (a 1x1 conv's weight, groups 1) and an optional bias.</summary>
    public static BlockedPointwiseWeights Pack(ReadOnlySpan<float> w, ReadOnlySpan<float> bias, int outChannels, int inChannels)
    {
        const int B = BlockedLayout.Block, G = BlockedPointwise.GroupBlocks;
        if (w.Length != outChannels * inChannels || (bias.Length != 0 && bias.Length != outChannels))
        {
            throw new ArgumentException($"pointwise weights: expected [{outChannels}, {inChannels}] and a bias of {outChannels}, got {w.Length} and {bias.Length}");
        }

        int mb = BlockedLayout.Blocks(outChannels), kp = BlockedLayout.Blocks(inChannels) * B;
        var packed = new float[mb * B * kp];
        for (int co = 0; co < outChannels; co++)
        {
            int block = co / B, group = block / G, inGroup = Math.Min(G, mb - (group * G));
            int at = (group * G * kp * B) + ((block % G) * B) + (co % B); // k = 0 of this output channel
            for (int ci = 0; ci < inChannels; ci++)
            {
                packed[at + (ci * inGroup * B)] = w[(co * inChannels) + ci];
            }
        }

        var b = new float[mb * B];
        bias.CopyTo(b);
        return new BlockedPointwiseWeights(outChannels, inChannels, packed, b);
    }
}

/// <summary>
/// 1x1 convolution (stride 1, no padding, groups 1) on blocked maps (<see cref="BlockedLayout"/>):
/// <c>y[n, co, p] = act(b[co] + sum over ci of w[co, ci] * x[n, ci, p] (+ r[n, co, p]))</c> over the positions p,
/// the sum taken in ci order from the bias, then the residual, then the ReLU.
/// </summary>
/// <remarks>
/// The loop structure of ONNX Runtime's MLAS NCHWc pointwise kernel: a micro-kernel holds a tile of
/// <see cref="TilePositions"/> positions x <see cref="GroupBlocks"/> output blocks (24 vectors of 16) in registers,
/// starts it from the bias, and for each input channel k broadcasts x[k] of each position and multiply-adds it with
/// the group's weight vectors for k; the residual and ReLU are applied as the tile is stored, one contiguous vector
/// per (block, position). Work items are (image, band of positions, group of output blocks), groups innermost so a
/// band's inputs are read from memory once and then from the caches by the other groups. Within an item the input
/// channels go in passes of 64 (as MLAS batches them), so the group's weights for a pass stay in L1 across the band's
/// tiles. Every output is one fused multiply-add chain in ci order, whichever item computes it: bit-identical for any
/// thread count.
/// </remarks>
internal static unsafe class BlockedPointwise
{
    /// <summary>Output blocks per micro-kernel tile (and per weight group): 4 vectors of 16 channels.</summary>
    internal const int GroupBlocks = 4;

    /// <summary>Positions per micro-kernel tile: 6 x 4 = 24 accumulators + 4 weight vectors of the 32 zmm registers.</summary>
    internal const int TilePositions = 6;

    private const int Block = BlockedLayout.Block;

    // Input channels per pass over a band, in blocks: a group's weights for 64 channels are 16 KiB, which stay in L1
    // while every tile of the band uses them, instead of streaming 64 KiB+ (C_in >= 256) from L2 for each tile of 6
    // positions. Between passes the partial sums wait in y; the chain of multiply-adds is the same, so is the result.
    // Measured: up to 1.3x hot on C_in >= 256, equal elsewhere; 8 blocks (32 KiB) was no better.
    private const int ChunkBlocks = 4;

    // Inputs of one band (all C_in): the band is re-read from L2 by each group (a broadcast float feeds 4 FMAs,
    // so that is cheap), and long bands give long sequential runs per input block for the hardware prefetchers
    // when the map comes from memory. Measured: equal or slightly faster cold than 16 KiB bands (before the passes
    // over 64 channels) and equal to fixed 48-position bands (after).
    private const int BandBytes = 128 * 1024;

    /// <summary>
    /// y = act(conv1x1(x) + b [+ residual]) for <paramref name="batch"/> images of <paramref name="positions"/> positions;
    /// x, y and residual are blocked maps of C_in, C_out and C_out channels.
    /// </summary>
    public static void Forward(BlockedPointwiseWeights w, float[] x, int batch, int positions, float[] y, bool relu, float[]? residual, int threads)
    {
        ArgumentNullException.ThrowIfNull(w);
        int kb = BlockedLayout.Blocks(w.InChannels), mb = BlockedLayout.Blocks(w.OutChannels);
        long inLength = (long)batch * kb * positions * Block, outLength = (long)batch * mb * positions * Block;
        if (x.Length < inLength || y.Length < outLength || (residual is not null && residual.Length < outLength))
        {
            throw new ArgumentException($"blocked pointwise: needs {inLength} input and {outLength} output floats, got {x.Length} and {y.Length}{(residual is null ? "" : $" (residual {residual.Length})")}");
        }

        if (batch == 0 || positions == 0 || mb == 0)
        {
            return;
        }

        int band = Math.Max(TilePositions, BandBytes / (kb * Block * sizeof(float)) / TilePositions * TilePositions);
        band = Math.Min(band, positions);
        int bands = (positions + band - 1) / band, groups = (mb + GroupBlocks - 1) / GroupBlocks;
        int workers = threads <= 0 ? Parallelism.Threads : threads;
        while (workers > 1 && batch * bands * groups < 4 * workers && band > TilePositions)
        {
            // Few items (a small map, few output groups): narrower bands, so every worker gets a share. Any band
            // width gives the same results (each output's chain of multiply-adds does not depend on it).
            band = Math.Max(TilePositions, (band / 2) + TilePositions - 1) / TilePositions * TilePositions;
            bands = (positions + band - 1) / band;
        }

        long macs = (long)batch * positions * kb * mb * Block * Block;
        Parallelism.For(threads, batch * bands * groups, macs, (w, x, positions, kb, mb, band, bands, groups, y, relu, residual), static (a, start, end) =>
            Items(start, end, a.w, a.x, a.positions, a.kb, a.mb, a.band, a.bands, a.groups, a.y, a.relu, a.residual));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Items(int start, int end, BlockedPointwiseWeights w, float[] x, int positions, int kb, int mb, int band, int bands, int groups, float[] y, bool relu, float[]? residual)
    {
        int kp = kb * Block, blockStride = positions * Block;
        fixed (float* px = x, py = y, pr = residual, pw = w.Weights, pb = w.Bias)
        {
            for (int item = start; item < end; item++)
            {
                int g = item % groups, rest = item / groups;
                int p0 = rest % bands * band, n = rest / bands;
                int count = Math.Min(band, positions - p0), ob0 = g * GroupBlocks;
                float* xs = px + ((((long)n * kb * positions) + p0) * Block);
                float* ws = pw + ((long)ob0 * kp * Block);
                long at = ((((long)n * mb) + ob0) * positions + p0) * Block;
                float* rs = pr == null ? null : pr + at;
                switch (Math.Min(GroupBlocks, mb - ob0))
                {
                    case 4: Band<Four>(count, xs, blockStride, kb, ws, pb + (ob0 * Block), py + at, rs, relu); break;
                    case 3: Band<Three>(count, xs, blockStride, kb, ws, pb + (ob0 * Block), py + at, rs, relu); break;
                    case 2: Band<Two>(count, xs, blockStride, kb, ws, pb + (ob0 * Block), py + at, rs, relu); break;
                    default: Band<One>(count, xs, blockStride, kb, ws, pb + (ob0 * Block), py + at, rs, relu); break;
                }
            }
        }
    }

    /// <summary>
    /// The tiles of one band for one group of TOb output blocks (whole tiles of 6 positions, then the tail), in
    /// passes over <see cref="ChunkBlocks"/> input blocks: the first starts from the bias, the last adds the residual
    /// and applies the ReLU.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Band<TOb>(int count, float* x, int blockStride, int blocks, float* w, float* bias, float* y, float* residual, bool relu)
        where TOb : struct, ICount
    {
        for (int k0 = 0; k0 < blocks; k0 += ChunkBlocks)
        {
            int kc = Math.Min(ChunkBlocks, blocks - k0);
            bool last = k0 + kc == blocks;
            float* xc = x + ((long)k0 * blockStride), wc = w + (k0 * Block * TOb.Value * Block);
            float* start = k0 == 0 ? bias : null, res = last ? residual : null;
            bool act = last && relu;
            int p = 0;
            for (; p + TilePositions <= count; p += TilePositions)
            {
                Tile<Six, TOb>(xc + (p * Block), blockStride, kc, wc, start, y + (p * Block), res == null ? null : res + (p * Block), act);
            }

            float* xt = xc + (p * Block), yt = y + (p * Block), rt = res == null ? null : res + (p * Block);
            switch (count - p)
            {
                case 5: Tile<Five, TOb>(xt, blockStride, kc, wc, start, yt, rt, act); break;
                case 4: Tile<Four, TOb>(xt, blockStride, kc, wc, start, yt, rt, act); break;
                case 3: Tile<Three, TOb>(xt, blockStride, kc, wc, start, yt, rt, act); break;
                case 2: Tile<Two, TOb>(xt, blockStride, kc, wc, start, yt, rt, act); break;
                case 1: Tile<One, TOb>(xt, blockStride, kc, wc, start, yt, rt, act); break;
                default: break;
            }
        }
    }

    /// <summary>
    /// The micro-kernel: y[j, p] = act(bias[j] + sum over k of w[k, j] * x[k, p] (+ residual[j, p])) for the TP
    /// positions p and TOb output blocks j, every (p, j) a vector of 16 output channels held in a register. TP and
    /// TOb are compile-time counts: the JIT drops the unused accumulators, so one body serves every tail shape. With
    /// <paramref name="bias"/> null the sums continue from y (a later pass over the input channels).
    /// x, y and residual advance <paramref name="blockStride"/> floats (a whole plane of one block) per block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TP, TOb>(float* x, int blockStride, int blocks, float* w, float* bias, float* y, float* residual, bool relu)
        where TP : struct, ICount
        where TOb : struct, ICount
    {
        Vector512<float> b0 = bias != null ? Vector512.Load(bias) : default;
        Vector512<float> b1 = TOb.Value > 1 && bias != null ? Vector512.Load(bias + 16) : default;
        Vector512<float> b2 = TOb.Value > 2 && bias != null ? Vector512.Load(bias + 32) : default;
        Vector512<float> b3 = TOb.Value > 3 && bias != null ? Vector512.Load(bias + 48) : default;
        Vector512<float> a00 = b0;
        Vector512<float> a01 = b1;
        Vector512<float> a02 = b2;
        Vector512<float> a03 = b3;
        Vector512<float> a10 = b0;
        Vector512<float> a11 = b1;
        Vector512<float> a12 = b2;
        Vector512<float> a13 = b3;
        Vector512<float> a20 = b0;
        Vector512<float> a21 = b1;
        Vector512<float> a22 = b2;
        Vector512<float> a23 = b3;
        Vector512<float> a30 = b0;
        Vector512<float> a31 = b1;
        Vector512<float> a32 = b2;
        Vector512<float> a33 = b3;
        Vector512<float> a40 = b0;
        Vector512<float> a41 = b1;
        Vector512<float> a42 = b2;
        Vector512<float> a43 = b3;
        Vector512<float> a50 = b0;
        Vector512<float> a51 = b1;
        Vector512<float> a52 = b2;
        Vector512<float> a53 = b3;
        if (bias == null)
        {
            // A later chunk of the input channels: continue each sum from where the previous chunk stored it.
            a00 = Vector512.Load(y);

            if (TOb.Value > 1)
            {
                a01 = Vector512.Load(y + blockStride);
            }

            if (TOb.Value > 2)
            {
                a02 = Vector512.Load(y + (2 * blockStride));
            }

            if (TOb.Value > 3)
            {
                a03 = Vector512.Load(y + (3 * blockStride));
            }

            if (TP.Value > 1)
            {
                a10 = Vector512.Load(y + 16);
            }

            if (TP.Value > 1 && TOb.Value > 1)
            {
                a11 = Vector512.Load(y + blockStride + 16);
            }

            if (TP.Value > 1 && TOb.Value > 2)
            {
                a12 = Vector512.Load(y + (2 * blockStride) + 16);
            }

            if (TP.Value > 1 && TOb.Value > 3)
            {
                a13 = Vector512.Load(y + (3 * blockStride) + 16);
            }

            if (TP.Value > 2)
            {
                a20 = Vector512.Load(y + 32);
            }

            if (TP.Value > 2 && TOb.Value > 1)
            {
                a21 = Vector512.Load(y + blockStride + 32);
            }

            if (TP.Value > 2 && TOb.Value > 2)
            {
                a22 = Vector512.Load(y + (2 * blockStride) + 32);
            }

            if (TP.Value > 2 && TOb.Value > 3)
            {
                a23 = Vector512.Load(y + (3 * blockStride) + 32);
            }

            if (TP.Value > 3)
            {
                a30 = Vector512.Load(y + 48);
            }

            if (TP.Value > 3 && TOb.Value > 1)
            {
                a31 = Vector512.Load(y + blockStride + 48);
            }

            if (TP.Value > 3 && TOb.Value > 2)
            {
                a32 = Vector512.Load(y + (2 * blockStride) + 48);
            }

            if (TP.Value > 3 && TOb.Value > 3)
            {
                a33 = Vector512.Load(y + (3 * blockStride) + 48);
            }

            if (TP.Value > 4)
            {
                a40 = Vector512.Load(y + 64);
            }

            if (TP.Value > 4 && TOb.Value > 1)
            {
                a41 = Vector512.Load(y + blockStride + 64);
            }

            if (TP.Value > 4 && TOb.Value > 2)
            {
                a42 = Vector512.Load(y + (2 * blockStride) + 64);
            }

            if (TP.Value > 4 && TOb.Value > 3)
            {
                a43 = Vector512.Load(y + (3 * blockStride) + 64);
            }

            if (TP.Value > 5)
            {
                a50 = Vector512.Load(y + 80);
            }

            if (TP.Value > 5 && TOb.Value > 1)
            {
                a51 = Vector512.Load(y + blockStride + 80);
            }

            if (TP.Value > 5 && TOb.Value > 2)
            {
                a52 = Vector512.Load(y + (2 * blockStride) + 80);
            }

            if (TP.Value > 5 && TOb.Value > 3)
            {
                a53 = Vector512.Load(y + (3 * blockStride) + 80);
            }
        }

        for (int kb = 0; kb < blocks; kb++, x += blockStride)
        {
            float* xk = x; // input channel kb*16 + lane of the tile's positions: xk[0], xk[16], ... (constant offsets, no index arithmetic)
            for (int lane = 0; lane < Block; lane++, xk++, w += TOb.Value * Block)
            {
                Vector512<float> w0 = Vector512.Load(w);
                Vector512<float> w1 = TOb.Value > 1 ? Vector512.Load(w + 16) : default;
                Vector512<float> w2 = TOb.Value > 2 ? Vector512.Load(w + 32) : default;
                Vector512<float> w3 = TOb.Value > 3 ? Vector512.Load(w + 48) : default;
                Vector512<float> x0 = Vector512.Create(xk[0]);
                a00 = Fma(x0, w0, a00);
                if (TOb.Value > 1)
                {
                    a01 = Fma(x0, w1, a01);
                }

                if (TOb.Value > 2)
                {
                    a02 = Fma(x0, w2, a02);
                }

                if (TOb.Value > 3)
                {
                    a03 = Fma(x0, w3, a03);
                }

                if (TP.Value > 1)
                {
                    Vector512<float> x1 = Vector512.Create(xk[16]);
                    a10 = Fma(x1, w0, a10);
                    if (TOb.Value > 1)
                    {
                        a11 = Fma(x1, w1, a11);
                    }

                    if (TOb.Value > 2)
                    {
                        a12 = Fma(x1, w2, a12);
                    }

                    if (TOb.Value > 3)
                    {
                        a13 = Fma(x1, w3, a13);
                    }
                }

                if (TP.Value > 2)
                {
                    Vector512<float> x2 = Vector512.Create(xk[32]);
                    a20 = Fma(x2, w0, a20);
                    if (TOb.Value > 1)
                    {
                        a21 = Fma(x2, w1, a21);
                    }

                    if (TOb.Value > 2)
                    {
                        a22 = Fma(x2, w2, a22);
                    }

                    if (TOb.Value > 3)
                    {
                        a23 = Fma(x2, w3, a23);
                    }
                }

                if (TP.Value > 3)
                {
                    Vector512<float> x3 = Vector512.Create(xk[48]);
                    a30 = Fma(x3, w0, a30);
                    if (TOb.Value > 1)
                    {
                        a31 = Fma(x3, w1, a31);
                    }

                    if (TOb.Value > 2)
                    {
                        a32 = Fma(x3, w2, a32);
                    }

                    if (TOb.Value > 3)
                    {
                        a33 = Fma(x3, w3, a33);
                    }
                }

                if (TP.Value > 4)
                {
                    Vector512<float> x4 = Vector512.Create(xk[64]);
                    a40 = Fma(x4, w0, a40);
                    if (TOb.Value > 1)
                    {
                        a41 = Fma(x4, w1, a41);
                    }

                    if (TOb.Value > 2)
                    {
                        a42 = Fma(x4, w2, a42);
                    }

                    if (TOb.Value > 3)
                    {
                        a43 = Fma(x4, w3, a43);
                    }
                }

                if (TP.Value > 5)
                {
                    Vector512<float> x5 = Vector512.Create(xk[80]);
                    a50 = Fma(x5, w0, a50);
                    if (TOb.Value > 1)
                    {
                        a51 = Fma(x5, w1, a51);
                    }

                    if (TOb.Value > 2)
                    {
                        a52 = Fma(x5, w2, a52);
                    }

                    if (TOb.Value > 3)
                    {
                        a53 = Fma(x5, w3, a53);
                    }
                }
            }
        }

        Store(a00, y, residual, 0, relu);

        if (TOb.Value > 1)
        {
            Store(a01, y + blockStride, residual, blockStride, relu);
        }

        if (TOb.Value > 2)
        {
            Store(a02, y + (2 * blockStride), residual, (2 * blockStride), relu);
        }

        if (TOb.Value > 3)
        {
            Store(a03, y + (3 * blockStride), residual, (3 * blockStride), relu);
        }

        if (TP.Value > 1)
        {
            Store(a10, y + 16, residual, 16, relu);
        }

        if (TP.Value > 1 && TOb.Value > 1)
        {
            Store(a11, y + blockStride + 16, residual, blockStride + 16, relu);
        }

        if (TP.Value > 1 && TOb.Value > 2)
        {
            Store(a12, y + (2 * blockStride) + 16, residual, (2 * blockStride) + 16, relu);
        }

        if (TP.Value > 1 && TOb.Value > 3)
        {
            Store(a13, y + (3 * blockStride) + 16, residual, (3 * blockStride) + 16, relu);
        }

        if (TP.Value > 2)
        {
            Store(a20, y + 32, residual, 32, relu);
        }

        if (TP.Value > 2 && TOb.Value > 1)
        {
            Store(a21, y + blockStride + 32, residual, blockStride + 32, relu);
        }

        if (TP.Value > 2 && TOb.Value > 2)
        {
            Store(a22, y + (2 * blockStride) + 32, residual, (2 * blockStride) + 32, relu);
        }

        if (TP.Value > 2 && TOb.Value > 3)
        {
            Store(a23, y + (3 * blockStride) + 32, residual, (3 * blockStride) + 32, relu);
        }

        if (TP.Value > 3)
        {
            Store(a30, y + 48, residual, 48, relu);
        }

        if (TP.Value > 3 && TOb.Value > 1)
        {
            Store(a31, y + blockStride + 48, residual, blockStride + 48, relu);
        }

        if (TP.Value > 3 && TOb.Value > 2)
        {
            Store(a32, y + (2 * blockStride) + 48, residual, (2 * blockStride) + 48, relu);
        }

        if (TP.Value > 3 && TOb.Value > 3)
        {
            Store(a33, y + (3 * blockStride) + 48, residual, (3 * blockStride) + 48, relu);
        }

        if (TP.Value > 4)
        {
            Store(a40, y + 64, residual, 64, relu);
        }

        if (TP.Value > 4 && TOb.Value > 1)
        {
            Store(a41, y + blockStride + 64, residual, blockStride + 64, relu);
        }

        if (TP.Value > 4 && TOb.Value > 2)
        {
            Store(a42, y + (2 * blockStride) + 64, residual, (2 * blockStride) + 64, relu);
        }

        if (TP.Value > 4 && TOb.Value > 3)
        {
            Store(a43, y + (3 * blockStride) + 64, residual, (3 * blockStride) + 64, relu);
        }

        if (TP.Value > 5)
        {
            Store(a50, y + 80, residual, 80, relu);
        }

        if (TP.Value > 5 && TOb.Value > 1)
        {
            Store(a51, y + blockStride + 80, residual, blockStride + 80, relu);
        }

        if (TP.Value > 5 && TOb.Value > 2)
        {
            Store(a52, y + (2 * blockStride) + 80, residual, (2 * blockStride) + 80, relu);
        }

        if (TP.Value > 5 && TOb.Value > 3)
        {
            Store(a53, y + (3 * blockStride) + 80, residual, (3 * blockStride) + 80, relu);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> sum, float* y, float* residual, int offset, bool relu)
    {
        if (residual != null)
        {
            sum += Vector512.Load(residual + offset);
        }

        if (relu)
        {
            sum = Vector512.Max(sum, Vector512<float>.Zero);
        }

        Vector512.Store(sum, y);
    }

    /// <summary>A count known when the JIT compiles a generic instantiation (tile sizes of the micro-kernel).</summary>
    private interface ICount
    {
        static abstract int Value { get; }
    }

    private struct One : ICount
    {
        public static int Value => 1;
    }

    private struct Two : ICount
    {
        public static int Value => 2;
    }

    private struct Three : ICount
    {
        public static int Value => 3;
    }

    private struct Four : ICount
    {
        public static int Value => 4;
    }

    private struct Five : ICount
    {
        public static int Value => 5;
    }

    private struct Six : ICount
    {
        public static int Value => 6;
    }
}
