namespace Learn.Ops.Fast;

/// <summary>What the fast convolution applies to each output value as it stores it (after the bias).</summary>
public enum Epilogue
{
    /// <summary>Store the convolution (plus bias) as is.</summary>
    None,

    /// <summary>Store max(0, value): a ReLU fused into the store, saving a pass over the output.</summary>
    Relu,
}
