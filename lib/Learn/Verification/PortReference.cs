using Learn.Layers;

namespace Learn.Verification;

/// <summary>The reference side of <c>learn diff</c>: what <c>learn osnet --activations</c> writes.</summary>
public static class PortReference
{
    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="x"/> with every module call's output written to
    /// <paramref name="dump"/> (the input first, as <c>input</c>), then records each layer's float32 noise in the
    /// index (<see cref="NoiseProbe"/>, on the reference loops whatever implementation the model was set to).
    /// Returns the output. <paramref name="sink"/>, when given, receives the forward's calls instead of
    /// <paramref name="dump"/> and passes them on to it (e.g. to show progress). With <paramref name="plan"/> (the
    /// model fused, <c>--impl fast</c>) the forward runs the plan, whose fused groups' inner layers are not written.
    /// </summary>
    public static Tensors.Tensor Dump(Models.OSNet model, Tensors.Tensor x, ActivationDirectory dump, IActivationSink? sink = null, Engine.OSNetPlan? plan = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dump);
        dump.Record(OSNetGraph.InputKey, 1, x); // the image, so a port's input (BGR, normalisation) is compared too
        Tensors.Tensor y = plan?.Forward(x, sink ?? dump) ?? model.Forward(x, sink ?? dump);
        model.UseImplementation(Ops.Implementation.Naive);
        var noise = new Dictionary<string, double>(NoiseProbe.Measure(model, x, key =>
        {
            string file = Path.Combine(dump.Folder, key + ".npy");
            return File.Exists(file) ? IO.Npy.Read(file) : null;
        }), StringComparer.Ordinal)
        {
            [OSNetGraph.InputKey] = 0, // the input is given, not computed
        };
        dump.RecordNoise(noise);
        return y;
    }
}
