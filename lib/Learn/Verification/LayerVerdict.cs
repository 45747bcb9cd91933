using Learn.Tensors;

namespace Learn.Verification;

/// <summary>The verdict on one layer under a per-element tolerance: the worst element is the one with the largest error/tolerance ratio.</summary>
/// <param name="MaxAbsError">max |a - e|.</param>
/// <param name="WorstRatio">max |a - e| / t (0 when equal, infinity for a difference where t = 0 or NaN/Inf).</param>
/// <param name="WorstIndex">Flat index of the element with <paramref name="WorstRatio"/>.</param>
/// <param name="Port">The port's value there.</param>
/// <param name="Expected">The expected value there.</param>
/// <param name="ToleranceAtWorst">t there.</param>
/// <param name="Outside">How many elements have a ratio above 1.</param>
/// <param name="Shape">The layer's shape.</param>
public sealed record LayerVerdict(double MaxAbsError, double WorstRatio, int WorstIndex, float Port, float Expected, double ToleranceAtWorst, int Outside, IReadOnlyList<int> Shape)
{
    /// <summary>True when every element is within its tolerance.</summary>
    public bool Close => Outside == 0;

    /// <summary>The worst element's index in <see cref="Shape"/>, e.g. (0, 3, 4, 1).</summary>
    public string WorstAt
    {
        get
        {
            var index = new int[Shape.Count];
            int flat = Math.Max(0, WorstIndex);
            for (int d = Shape.Count - 1; d >= 0; d--)
            {
                index[d] = Shape[d] == 0 ? 0 : flat % Shape[d];
                flat = Shape[d] == 0 ? 0 : flat / Shape[d];
            }

            return "(" + string.Join(", ", index) + ")";
        }
    }

    /// <summary>Compares <paramref name="port"/> with <paramref name="expected"/> (same shape) under the per-element tolerance <paramref name="tolerance"/>.</summary>
    public static LayerVerdict Of(Tensor port, Tensor expected, Func<int, double> tolerance)
    {
        ArgumentNullException.ThrowIfNull(port);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(tolerance);
        if (!port.SameShape(expected))
        {
            throw new ArgumentException($"shape {port.ShapeString} against {expected.ShapeString}");
        }

        double maxAbs = 0, worst = -1, tolAtWorst = 0;
        int worstIndex = 0, outside = 0;
        for (int i = 0; i < port.Length; i++)
        {
            double a = port.Data[i], e = expected.Data[i];
            double abs = a == e ? 0 : Math.Abs(a - e); // a == e admits equal infinities
            if (double.IsNaN(abs))
            {
                abs = double.PositiveInfinity;
            }

            double t = tolerance(i);
            double ratio = abs == 0 ? 0 : t > 0 ? abs / t : double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, abs);
            if (ratio > 1)
            {
                outside++;
            }

            if (ratio > worst)
            {
                worst = ratio;
                worstIndex = i;
                tolAtWorst = t;
            }
        }

        return new LayerVerdict(maxAbs, Math.Max(0, worst), worstIndex,
            port.Length == 0 ? 0 : port.Data[worstIndex], expected.Length == 0 ? 0 : expected.Data[worstIndex], tolAtWorst, outside, port.Shape);
    }
}
