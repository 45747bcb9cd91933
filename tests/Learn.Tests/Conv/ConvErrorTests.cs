using Learn.Ops;
using Learn.Tensors;

// Not "Learn.Tests.Conv": that namespace would hide Learn.Ops.Conv from every test written as Conv.Conv2d(...).
namespace Learn.Tests.Convolution;

/// <summary>
/// Every refusal of the convolution, with the message checked for the numbers that explain it. The messages
/// follow PyTorch 1.13's (shown above each test as PyTorch prints it) and add the numbers where PyTorch's
/// omit them. Boundary cases PyTorch accepts are checked to be accepted, so the checks are not too eager.
/// </summary>
public class ConvErrorTests
{
    private static ConvOptions Opt(int[]? stride = null, Padding? padding = null, int[]? dilation = null, int groups = 1,
        PaddingMode mode = PaddingMode.Zeros) => new()
        {
            Stride = stride ?? [1],
            Padding = padding ?? Padding.Valid,
            Dilation = dilation ?? [1],
            Groups = groups,
            PaddingMode = mode,
        };

    private static string Refusal(Func<object> call)
    {
        try
        {
            object result = call();
            Assert.Fail($"expected a refusal, but got {result}");
            return "";
        }
        catch (ArgumentException e)
        {
            Assert.That(e.Message, Does.Not.Contain('\n'), "one-line message");
            return e.Message;
        }
    }

    // PyTorch: Given groups=2, weight of size [4, 2, 3, 3], expected input[1, 5, 8, 8] to have 4 channels, but got 5 channels instead
    [Test]
    public void Input_channels_not_matching_groups_times_weight_channels()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 5, 8, 8), Tensor.Zeros(4, 2, 3, 3), options: Opt(groups: 2)));
        Assert.That(m, Does.Contain("groups=2").And.Contain("[4, 2, 3, 3]").And.Contain("[1, 5, 8, 8]")
            .And.Contain("4 channels").And.Contain("got 5 channels"));
    }

    // PyTorch: Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[5, 3, 3, 3]] instead
    [Test]
    public void Output_channels_not_divisible_by_groups()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 6, 8, 8), Tensor.Zeros(5, 3, 3, 3), options: Opt(groups: 2)));
        Assert.That(m, Does.Contain("groups=2").And.Contain("divisible by 2").And.Contain("[5, 3, 3, 3]"));
    }

    // PyTorch: Calculated padded input size per channel: (13 x 12). Kernel size: (7 x 13). Kernel size can't be greater than actual input size
    // (This is the shape STYLE.md quotes as a fixture name; with dilation (2, 3) the 4x5 kernel spans 7x13.)
    [Test]
    public void Dilated_kernel_larger_than_padded_input()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(2, 6, 9, 10), Tensor.Zeros(4, 3, 4, 5),
            options: Opt(stride: [3, 2], padding: Padding.Of(2, 1), dilation: [2, 3], groups: 2)));
        Assert.That(m, Does.Contain("(13 x 12)").And.Contain("(7 x 13)").And.Contain("Kernel size can't be greater than actual input size"));
    }

    // PyTorch: Calculated padded input size per channel: (3 x 4). Kernel size: (4 x 2). ...
    [TestCase(new[] { 1, 1, 3, 4 }, new[] { 1, 1, 4, 2 }, "(3 x 4)", "(4 x 2)")]
    [TestCase(new[] { 1, 1, 0, 5 }, new[] { 1, 1, 1, 1 }, "(0 x 5)", "(1 x 1)")]
    [TestCase(new[] { 2, 3, 7 }, new[] { 1, 3, 8 }, "(7)", "(8)")]
    [TestCase(new[] { 1, 1, 2, 3, 4 }, new[] { 1, 1, 1, 4, 1 }, "(2 x 3 x 4)", "(1 x 4 x 1)")]
    public void Kernel_larger_than_input(int[] x, int[] w, string padded, string kernel)
    {
        int dims = w.Length - 2;
        string m = Refusal(() => Run(dims, Tensor.Zeros(x), Tensor.Zeros(w), null, Opt()));
        Assert.That(m, Does.Contain(padded).And.Contain(kernel));
    }

    // Kernel exactly as large as the padded input gives one output, as in PyTorch.
    [Test]
    public void Kernel_as_large_as_padded_input_is_accepted()
    {
        Tensor y = Conv.Conv2d(Tensor.Zeros(1, 1, 3, 4), Tensor.Zeros(1, 1, 5, 2), options: Opt(padding: Padding.Of(1, 0)));
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 1, 3 }));
    }

    // PyTorch: padding='same' is not supported for strided convolutions
    [Test]
    public void Same_padding_with_stride()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), options: Opt(stride: [1, 2], padding: Padding.Same)));
        Assert.That(m, Does.Contain("padding='same'").And.Contain("strided").And.Contain("1,2"));
    }

    // PyTorch: non-positive stride is not supported
    [TestCase(new[] { 1, 0 }, "1,0")]
    [TestCase(new[] { -1 }, "-1,-1")]
    public void Non_positive_stride(int[] stride, string shown)
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), options: Opt(stride: stride)));
        Assert.That(m, Does.Contain("non-positive stride").And.Contain(shown));
    }

    // PyTorch: dilation should be greater than zero, but got [0, 1]
    [TestCase(new[] { 0, 1 }, "0,1")]
    [TestCase(new[] { -2 }, "-2")]
    public void Non_positive_dilation(int[] dilation, string shown)
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), options: Opt(dilation: dilation)));
        Assert.That(m, Does.Contain("dilation should be greater than zero").And.Contain(shown));
    }

    // PyTorch: non-positive groups is not supported
    [TestCase(0)]
    [TestCase(-1)]
    public void Non_positive_groups(int groups)
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), options: Opt(groups: groups)));
        Assert.That(m, Does.Contain("non-positive groups").And.Contain($"groups={groups}"));
    }

    // PyTorch: negative padding is not supported
    [Test]
    public void Negative_padding()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), options: Opt(padding: Padding.Of(-1, 0))));
        Assert.That(m, Does.Contain("negative padding").And.Contain("-1,0"));
    }

    // PyTorch: Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 5]
    [TestCase(2, new[] { 5, 5 }, new[] { 1, 1, 3, 3 }, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [5, 5]")]
    [TestCase(2, new[] { 1, 1, 1, 5, 5 }, new[] { 1, 1, 3, 3 }, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [1, 1, 1, 5, 5]")]
    [TestCase(1, new[] { 1, 1, 5, 5 }, new[] { 1, 1, 3 }, "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [1, 1, 5, 5]")]
    [TestCase(3, new[] { 1, 5, 5 }, new[] { 1, 1, 3, 3, 3 }, "Expected 4D (unbatched) or 5D (batched) input to conv3d, but got input of size: [1, 5, 5]")]
    public void Wrong_input_rank(int dims, int[] x, int[] w, string message)
    {
        Assert.That(Refusal(() => Run(dims, Tensor.Zeros(x), Tensor.Zeros(w), null, Opt())), Is.EqualTo(message));
    }

    // PyTorch gives a confusing stride message here; the weight's rank is what is wrong.
    [TestCase(2, new[] { 1, 1, 3 }, "Expected 4-dimensional weight for conv2d, but got weight of size [1, 1, 3]")]
    [TestCase(1, new[] { 1, 1, 3, 3 }, "Expected 3-dimensional weight for conv1d, but got weight of size [1, 1, 3, 3]")]
    public void Wrong_weight_rank(int dims, int[] w, string message)
    {
        int[] x = dims == 2 ? [1, 1, 5, 5] : [1, 1, 5];
        Assert.That(Refusal(() => Run(dims, Tensor.Zeros(x), Tensor.Zeros(w), null, Opt())), Is.EqualTo(message));
    }

    // PyTorch: Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size [0, 1, 3, 3] instead
    [Test]
    public void Zero_output_channels()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(0, 1, 3, 3)));
        Assert.That(m, Does.Contain("at least 1 at dimension 0").And.Contain("[0, 1, 3, 3]"));
    }

    // PyTorch: kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 3
    [Test]
    public void Zero_kernel_size()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 0, 3)));
        Assert.That(m, Does.Contain("kernel size should be greater than zero").And.Contain("(0 x 3)"));
    }

    // PyTorch: Given weight of size [2, 1, 3, 3], expected bias to be 1-dimensional with 2 elements, but got bias of size [3] instead
    [TestCase(new[] { 3 }, "[3]")]
    [TestCase(new[] { 1, 2 }, "[1, 2]")]
    public void Bias_that_does_not_fit(int[] bias, string shown)
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(2, 1, 3, 3), Tensor.Zeros(bias)));
        Assert.That(m, Does.Contain("[2, 1, 3, 3]").And.Contain("1-dimensional with 2 elements").And.Contain($"bias of size {shown}"));
    }

    // PyTorch: Padding size should be less than the corresponding input dimension, but got: padding (4, 4) at dimension 3 of input 4
    [Test]
    public void Reflect_padding_not_smaller_than_input()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 4), Tensor.Zeros(1, 1, 3, 3),
            options: Opt(padding: Padding.Of(1, 4), mode: PaddingMode.Reflect)));
        Assert.That(m, Does.Contain("Padding size should be less than the corresponding input dimension")
            .And.Contain("padding (4, 4) at dimension 3").And.Contain("[1, 1, 5, 4]"));
    }

    // 'same' resolves to (4, 4) for a 9-tap kernel; PyTorch refuses it in reflect mode on a length-4 input.
    [Test]
    public void Reflect_same_padding_not_smaller_than_input()
    {
        string m = Refusal(() => Conv.Conv1d(Tensor.Zeros(1, 1, 4), Tensor.Zeros(1, 1, 9),
            options: Opt(padding: Padding.Same, mode: PaddingMode.Reflect)));
        Assert.That(m, Does.Contain("padding (4, 4) at dimension 2").And.Contain("[1, 1, 4]"));
    }

    [Test]
    public void Reflect_padding_of_size_minus_one_is_accepted()
    {
        Tensor y = Conv.Conv2d(Tensor.Zeros(1, 1, 5, 4), Tensor.Zeros(1, 1, 3, 3), options: Opt(padding: Padding.Of(4, 3), mode: PaddingMode.Reflect));
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 11, 8 }));
    }

    // PyTorch: Padding value causes wrapping around more than once.
    [Test]
    public void Circular_padding_larger_than_input()
    {
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 4, 4), Tensor.Zeros(1, 1, 3, 3),
            options: Opt(padding: Padding.Of(5, 1), mode: PaddingMode.Circular)));
        Assert.That(m, Does.Contain("wrapping around more than once").And.Contain("padding (5, 5) at dimension 2").And.Contain("[1, 1, 4, 4]"));
    }

    [Test]
    public void Circular_padding_equal_to_input_is_accepted()
    {
        Tensor y = Conv.Conv1d(Tensor.Zeros(1, 1, 4), Tensor.Zeros(1, 1, 3), options: Opt(padding: Padding.Of(4), mode: PaddingMode.Circular));
        Assert.That(y.Shape, Is.EqualTo(new[] { 1, 1, 10 }));
    }

    // PyTorch: expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but got stride=[1, 1, 1]
    [TestCase("stride")]
    [TestCase("padding")]
    [TestCase("dilation")]
    public void List_of_the_wrong_length(string what)
    {
        ConvOptions options = what switch
        {
            "stride" => Opt(stride: [1, 1, 1]),
            "padding" => Opt(padding: Padding.Of(1, 1, 1)),
            _ => Opt(dilation: [1, 1, 1]),
        };
        string m = Refusal(() => Conv.Conv2d(Tensor.Zeros(1, 1, 5, 5), Tensor.Zeros(1, 1, 3, 3), options: options));
        Assert.That(m, Is.EqualTo(
            $"expected {what} to be a single integer value or a list of 2 values to match the convolution dimensions, but got {what}=[1, 1, 1]"));
    }

    // PyTorch: padding_mode must be one of {'replicate', 'circular', 'zeros', 'reflect'}, but got padding_mode='mirror'
    [Test]
    public void Unknown_padding_mode()
    {
        string m = Refusal(() => PaddingModes.Parse("mirror"));
        Assert.That(m, Does.Contain("zeros, reflect, replicate, circular").And.Contain("'mirror'"));
    }

    [TestCase("1,x")]
    [TestCase("full")]
    [TestCase("")]
    public void Unparseable_padding(string text)
    {
        string m = Refusal(() => Padding.Parse(text));
        Assert.That(m, Does.Contain("padding").And.Contain($"'{text}'"));
    }

    private static Tensor Run(int dims, Tensor x, Tensor w, Tensor? b, ConvOptions options) => dims switch
    {
        1 => Conv.Conv1d(x, w, b, options),
        2 => Conv.Conv2d(x, w, b, options),
        _ => Conv.Conv3d(x, w, b, options),
    };
}
