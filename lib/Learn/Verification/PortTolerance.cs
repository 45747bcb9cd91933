namespace Learn.Verification;

/// <summary>
/// The per-layer rule that tells a port's float32 rounding from a bug (<c>learn diff</c>), beside the operator rule
/// <see cref="Tolerance"/>. Both modes judge each element by its own tolerance t and report the ratio |a - e| / t;
/// a layer diverges when some element's ratio exceeds 1. u = 2^-24.
/// <para><b>Isolated</b> (the layer recomputed by the reference from the port's own inputs, so only the layer's own
/// rounding can differ): for an output value y = sum of K terms x_k w_k (+ bias),</para>
/// <code>t = λ u ((√K + s) M + |y|),   M = Σ_k |x_k| |w_k| + |bias|,   λ = 8</code>
/// the probabilistic bound for a float32 sum of K terms in any order, λ u √K Σ|terms| (Higham and Mary, "A New
/// Approach to Probabilistic Rounding Error Analysis", SIAM J. Sci. Comput. 41(5), 2019: it fails with probability
/// at most 2 exp(-λ²/2) per value, 2.5e-14 for λ = 8), plus the final rounding of y; s = (number of summed inputs − 1)
/// covers the port's float32 sum of several inputs (OSBlock's conv3 is fed the sum of four gated streams). M is the
/// layer's own magnitude: the same op run on |x| with |w| (Conv2d, Linear, average pooling with K = the window);
/// BatchNorm: M = (|x| + |mean|) |γ| / sqrt(var + eps) + |β| with K = 1; the gate's product and OSBlock's
/// residual add: M = the magnitudes of the operands, K = 1; Sigmoid: M = 1, its range (implementations are accurate
/// in absolute terms only: ONNX Runtime's clamps its input and returns 1.5e-8 where the value is 2e-22). ReLU and max pooling are exact (t = 0). A chain
/// (Sequential, ConvLayer ...), a layer whose parts the port fused (BatchNorm folded into the conv), or a gate or
/// block whose parts were not dumped is re-run whole from its input under the propagated rule below.
/// <para><b>Propagated</b> (the port's dump against the reference run end to end; rounding from all earlier layers is
/// in it): <c>t = F noise_L + 2u|e|,  F = 8</c>, where noise_L is recorded per layer by the reference dump
/// (<see cref="NoiseProbe"/>): the largest deviation, at that layer, of the reference re-run with a simulated float32
/// rounding error injected into every computing layer's output (uniform in ±u(√K rms(y) + |y|), the same local
/// size as above with the layer's RMS for M). So the tolerance grows with what the layers before did (depth, gains,
/// magnitudes) as a real float32 port's error does, and F leaves room for a port whose rounding is a few times
/// larger than the simulated one (another summation order at every layer).</para>
/// </summary>
public static class PortTolerance
{
    /// <summary>λ of the isolated rule.</summary>
    public const double Lambda = 8;

    /// <summary>F of the propagated rule.</summary>
    public const double NoiseFactor = 8;

    /// <summary>float32's unit roundoff.</summary>
    public const double U = Tolerance.UnitRoundoff;

    /// <summary>The propagated rule's tolerance for an expected value <paramref name="expected"/> at a layer whose recorded noise is <paramref name="noise"/>.</summary>
    public static double Propagated(double noise, double expected) => NoiseFactor * noise + 2 * U * Math.Abs(expected);

    /// <summary>The isolated rule's tolerance for a value y with magnitude M, own reduction K and <paramref name="extraInputs"/> summed inputs beyond the first.</summary>
    public static double Isolated(double magnitude, long k, int extraInputs, double y) =>
        Lambda * U * ((Math.Sqrt(k) + extraInputs) * magnitude + Math.Abs(y));
}
