namespace Learn.Analysis;

/// <summary>
/// What a layer costs: its learnable parameters and the multiply-accumulates (MACs) of one forward pass.
/// One MAC is one multiply and one add; GFLOP counts are 2*MACs. Costs add up along a network.
/// </summary>
/// <param name="Parameters">Learnable parameters (weights and biases).</param>
/// <param name="MultiplyAccumulates">Multiply-accumulates of one forward pass.</param>
public readonly record struct Cost(long Parameters, long MultiplyAccumulates)
{
    /// <summary>The cost of two layers applied one after the other.</summary>
    public static Cost operator +(Cost a, Cost b) =>
        new(a.Parameters + b.Parameters, a.MultiplyAccumulates + b.MultiplyAccumulates);

    /// <summary>Same as <c>+</c>, for languages without operator overloading.</summary>
    public static Cost Add(Cost a, Cost b) => a + b;
}
