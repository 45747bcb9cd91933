using Learn.Tensors;

namespace Learn.Ops;

/// <summary>Shape checks shared by the per-channel layers (normalisation parameters).</summary>
internal static class Channelwise
{
    /// <summary>Refuses a per-channel parameter that is not a vector of <paramref name="channels"/> values.</summary>
    public static void CheckParameter(Tensor? parameter, int channels, string name, Tensor input)
    {
        if (parameter is not null && (parameter.Rank != 1 || parameter.Length != channels))
        {
            throw new ArgumentException(
                $"{name} should have {channels} elements (one per channel of input {input.ShapeString}), but got {name} of size {parameter.ShapeString}");
        }
    }
}
