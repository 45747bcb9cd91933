using System.Text.Json;
using Learn.Analysis;
using Learn.Models;
using static Learn.Tests.Models.OSNetFixtures;

namespace Learn.Tests.Analysis;

/// <summary>
/// Receptive fields from the trace against fields measured in PyTorch by gradients (export_osnet.py,
/// receptive_fields(): the input rows with a nonzero gradient of one output row, two rows per layer).
/// </summary>
[TestFixture]
public class ReceptiveFieldTests
{
    [Test]
    public void Every_layer_matches_the_gradient_measured_field_on_both_axes()
    {
        JsonElement rf = Manifest.GetProperty("receptive_fields");
        OSNet model = OSNet.Create(rf.GetProperty("variant").GetString()!);
        int[] hShape = Shape(rf.GetProperty("input_shape")), wShape = Shape(rf.GetProperty("input_shape_width"));
        CostTable tall = CostTable.For(model, hShape[2], hShape[3]), wide = CostTable.For(model, wShape[2], wShape[3]);
        int checkedLayers = 0;
        foreach (JsonProperty layer in rf.GetProperty("layers").EnumerateObject())
        {
            CheckAxis(layer.Name, tall.RowsOf(layer.Name).First().Height, layer.Value.GetProperty("height"));
            CheckAxis(layer.Name, wide.RowsOf(layer.Name).First().Width, layer.Value.GetProperty("width"));
            checkedLayers++;
        }

        Assert.That(checkedLayers, Is.GreaterThan(100));
    }

    [Test]
    public void The_four_streams_see_3_5_7_9_cells_of_their_input()
    {
        // In conv2 the input grid has jump 4 and field 11 (stem + maxpool); each lite 3x3 adds 2 cells of 4 pixels.
        CostTable table = CostTable.For(OSNet.Create("osnet_x1_0"), 256, 128);
        ReceptiveField input = table.RowsOf("conv2.0.conv1").Single().Height;
        Assert.That((input.Size, input.Jump), Is.EqualTo((11L, 4L)));
        string[] streams = ["conv2a", "conv2b", "conv2c", "conv2d"];
        for (int depth = 1; depth <= 4; depth++)
        {
            ReceptiveField f = table.RowsOf($"conv2.0.{streams[depth - 1]}").Single().Height;
            Assert.That(f.Size, Is.EqualTo(input.Size + 2 * depth * input.Jump), streams[depth - 1]);
            Assert.That((f.Size - input.Size) / input.Jump + 1, Is.EqualTo(2 * depth + 1), "cells of the block input");
            Assert.That(f.Start, Is.EqualTo(input.Start), "streams stay centred");
        }

        Assert.That(table.RowsOf("conv5").Single().Height.Size, Is.EqualTo(471));
    }

    [Test]
    public void Formula_on_a_hand_worked_example()
    {
        // 7x7 stride 2 padding 3: size 7, jump 2, cell 0 centred on pixel 0; then 3x3 s2 p1: 7 + 2*2 = 11, jump 4, still 0.
        ReceptiveField a = ReceptiveField.Input.Through(7, 2, 3);
        Assert.That(a, Is.EqualTo(new ReceptiveField(7, 2, 0)));
        ReceptiveField b = a.Through(3, 2, 1);
        Assert.That(b, Is.EqualTo(new ReceptiveField(11, 4, 0)));
        // 2x2 average pooling, stride 2: centre between two cells.
        Assert.That(b.Through(2, 2, 0), Is.EqualTo(new ReceptiveField(15, 8, 2)));
        // dilation 2, kernel 3: span 5.
        Assert.That(ReceptiveField.Input.Through(3, 1, 2, dilation: 2), Is.EqualTo(new ReceptiveField(5, 1, 0)));
        // [-2, 0] and [-1, 3] merge into [-2, 3]: 6 cells centred on 0.5; a window inside another changes nothing.
        Assert.That(ReceptiveField.Union(new ReceptiveField(3, 1, -1), new ReceptiveField(5, 1, 1)), Is.EqualTo(new ReceptiveField(6, 1, 0.5)));
        Assert.That(ReceptiveField.Union(new ReceptiveField(3, 1, 0), new ReceptiveField(5, 1, 1)), Is.EqualTo(new ReceptiveField(5, 1, 1)));
        Assert.Throws<ArgumentException>(() => ReceptiveField.Union(new ReceptiveField(3, 1, 0), new ReceptiveField(3, 2, 0)));
    }

    private static void CheckAxis(string name, ReceptiveField field, JsonElement measured)
    {
        foreach (JsonElement row in measured.EnumerateArray())
        {
            int i = row[0].GetInt32(), first = row[1].GetInt32(), last = row[2].GetInt32();
            Assert.That(field.Size, Is.EqualTo(last - first + 1), $"{name}: size");
            Assert.That(field.First(i), Is.EqualTo(first), $"{name}: first input cell of output {i}");
        }
    }
}
