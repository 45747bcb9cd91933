using Learn.Ops;
using Learn.Tensors;

namespace Learn.Tests.Golden;

/// <summary>
/// One torchreid OSBlock in training mode, forward and backward, composed from the library's reference layers
/// and their backwards (conv, training-mode batch norm, ReLU, adaptive average pooling, sigmoid): dL/dx and
/// dL/dparameter for every state_dict key, given dL/dy. Each forward step records how to send its gradient back;
/// the backward replays the record in reverse, adding where a tensor was used more than once (the four streams
/// read conv1's output, the shared gate runs four times, the input feeds conv1 and the shortcut).
/// </summary>
public sealed class OSBlockGradients
{
    private readonly Func<string, Tensor> _param;
    private readonly List<Action> _backward = [];
    private readonly Dictionary<Tensor, Tensor> _grads = new(ReferenceEqualityComparer.Instance);

    private OSBlockGradients(Func<string, Tensor> param) => _param = param;

    /// <summary>Gradient of every parameter, by state_dict key.</summary>
    public Dictionary<string, Tensor> Parameters { get; } = [];

    /// <summary>Runs forward and backward; returns dL/dx, with <see cref="Parameters"/> filled.</summary>
    public static (Tensor Input, Dictionary<string, Tensor> Parameters) Run(Tensor x, Tensor gradOutput, int cin, int cout, Func<string, Tensor> param)
    {
        var block = new OSBlockGradients(param);
        Tensor y = block.Forward(x, cin, cout);
        block._grads[y] = gradOutput;
        for (int i = block._backward.Count - 1; i >= 0; i--)
        {
            block._backward[i]();
        }

        return (block.GradOf(x), block.Parameters);
    }

    private Tensor Forward(Tensor x, int cin, int cout)
    {
        int mid = cout / 4;
        Tensor x1 = Relu(BatchNorm(Conv(x, "conv1.conv"), "conv1.bn"));
        Tensor a = Light(x1, "conv2a", mid);
        Tensor b = Light(Light(x1, "conv2b.0", mid), "conv2b.1", mid);
        Tensor c = x1;
        for (int i = 0; i < 3; i++)
        {
            c = Light(c, $"conv2c.{i}", mid);
        }

        Tensor d = x1;
        for (int i = 0; i < 4; i++)
        {
            d = Light(d, $"conv2d.{i}", mid);
        }

        Tensor x2 = Add(Add(Gate(a), Gate(b)), Add(Gate(c), Gate(d)));
        Tensor x3 = BatchNorm(Conv(x2, "conv3.conv"), "conv3.bn");
        Tensor shortcut = cin == cout ? x : BatchNorm(Conv(x, "downsample.conv"), "downsample.bn");
        return Relu(Add(x3, shortcut));
    }

    private Tensor Light(Tensor x, string prefix, int mid) =>
        Relu(BatchNorm(Conv(Conv(x, prefix + ".conv1"), prefix + ".conv2", new ConvOptions { Padding = Padding.Of(1), Groups = mid }), prefix + ".bn"));

    private Tensor Gate(Tensor x)
    {
        int n = x.Size(0), channels = x.Size(1), plane = x.Size(2) * x.Size(3);
        Tensor pooled = AdaptiveAvgPool(x);
        Tensor g = Sigmoid(Conv(Relu(Conv(pooled, "gate.fc1", bias: true)), "gate.fc2", bias: true));
        var y = Tensor.Zeros(x.Shape);
        for (int i = 0; i < x.Length; i++)
        {
            y.Data[i] = x.Data[i] * g.Data[i / plane];
        }

        _backward.Add(() =>
        {
            Tensor dy = GradOf(y);
            var dx = Tensor.Zeros(x.Shape);
            var dg = new double[n * channels];
            for (int i = 0; i < x.Length; i++)
            {
                dx.Data[i] = dy.Data[i] * g.Data[i / plane];
                dg[i / plane] += (double)dy.Data[i] * x.Data[i];
            }

            Accumulate(x, dx);
            Accumulate(g, new Tensor(g.Shape, dg.Select(v => (float)v).ToArray()));
        });
        return y;
    }

    private Tensor Conv(Tensor x, string name, ConvOptions? options = null, bool bias = false)
    {
        options ??= ConvOptions.Default;
        Tensor w = _param(name + ".weight");
        Tensor y = Learn.Ops.Conv.Conv2d(x, w, bias ? _param(name + ".bias") : null, options);
        _backward.Add(() =>
        {
            ConvGradients grads = ConvBackward.Conv2d(x, w, GradOf(y), bias, options);
            Accumulate(x, grads.Input);
            AccumulateParameter(name + ".weight", grads.Weight);
            if (bias)
            {
                AccumulateParameter(name + ".bias", grads.Bias!);
            }
        });
        return y;
    }

    private Tensor BatchNorm(Tensor x, string name)
    {
        Tensor gamma = _param(name + ".weight"), beta = _param(name + ".bias");
        Tensor y = BatchNormTraining.Forward(x, gamma, beta);
        _backward.Add(() =>
        {
            BatchNormGradients grads = BatchNormTraining.Backward(x, gamma, beta, GradOf(y));
            Accumulate(x, grads.Input);
            AccumulateParameter(name + ".weight", grads.Weight);
            AccumulateParameter(name + ".bias", grads.Bias);
        });
        return y;
    }

    private Tensor Relu(Tensor x)
    {
        Tensor y = Learn.Ops.Relu.Forward(x);
        _backward.Add(() => Accumulate(x, ReluBackward.Backward(x, GradOf(y))));
        return y;
    }

    private Tensor Sigmoid(Tensor x)
    {
        Tensor y = Learn.Ops.Sigmoid.Forward(x);
        _backward.Add(() => Accumulate(x, SigmoidBackward.Backward(x, GradOf(y))));
        return y;
    }

    private Tensor AdaptiveAvgPool(Tensor x)
    {
        Tensor y = AdaptiveAvgPool2d.Forward(x, 1, 1);
        _backward.Add(() => Accumulate(x, AdaptiveAvgPool2dBackward.Backward(x, GradOf(y))));
        return y;
    }

    private Tensor Add(Tensor a, Tensor b)
    {
        var y = Tensor.Zeros(a.Shape);
        for (int i = 0; i < y.Length; i++)
        {
            y.Data[i] = a.Data[i] + b.Data[i];
        }

        _backward.Add(() =>
        {
            Accumulate(a, GradOf(y));
            Accumulate(b, GradOf(y));
        });
        return y;
    }

    private Tensor GradOf(Tensor t) => _grads.TryGetValue(t, out Tensor? g) ? g : Tensor.Zeros(t.Shape);

    private void Accumulate(Tensor t, Tensor grad) => _grads[t] = Sum(_grads.GetValueOrDefault(t), grad);

    private void AccumulateParameter(string key, Tensor grad) => Parameters[key] = Sum(Parameters.GetValueOrDefault(key), grad);

    private static Tensor Sum(Tensor? a, Tensor b)
    {
        if (a is null)
        {
            return b.Clone();
        }

        var s = Tensor.Zeros(a.Shape);
        for (int i = 0; i < s.Length; i++)
        {
            s.Data[i] = a.Data[i] + b.Data[i];
        }

        return s;
    }
}
