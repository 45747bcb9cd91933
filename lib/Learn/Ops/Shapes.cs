using Learn.Tensors;

namespace Learn.Ops;

/// <summary>The shape check every backward shares: dL/dy must have the forward output's shape.</summary>
internal static class Shapes
{
    public static void CheckSame(Tensor x, Tensor gradOutput, string op)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (!x.SameShape(gradOutput))
        {
            throw new ArgumentException($"{op} backward: grad_output of size {gradOutput.ShapeString} does not match the output of size {x.ShapeString}");
        }
    }

    public static void CheckOutput(int[] expected, Tensor gradOutput, string op)
    {
        ArgumentNullException.ThrowIfNull(gradOutput);
        if (!gradOutput.Shape.SequenceEqual(expected))
        {
            throw new ArgumentException($"{op} backward: grad_output of size {gradOutput.ShapeString} does not match the output of size {Tensor.Format(expected)}");
        }
    }
}
