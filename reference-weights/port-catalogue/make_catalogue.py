#!/usr/bin/python3
"""A catalogue of OSNet ports for `learn diff`: realistic porting bugs and correct ports, dumped as a port would.

    /usr/bin/python3 reference-weights/port-catalogue/make_catalogue.py     # a few seconds, rewrites this folder

Every port runs the network of ../osnet/export_osnet.py (torchreid's architecture and names) with the weights of
that script's generator (seed 20191027, num_classes 16: the same as ../osnet/osnet_x0_25.pth; the C# tests rebuild
them with FixtureWeights) on one generated image [1, 3, 64, 32]. A port is that model changed the way a port goes
wrong (a bug) or run another correct way (float32 eager, channels_last, float64 cast to float32, BatchNorm folded
into the conv), with forward hooks writing each module call's output as <key>.npy (keys as Learn's: name, name@2
...). Only the layers a case needs are kept (size budget): for a bug, its layer and the calls just before and after
it; for a correct port, every layer (x0_25 float32 eager) or a whole block per stage and the stage outputs. The manifest says, per case, which layer `learn diff` must name (null for a correct port).
Deterministic: no randomness beyond the seeded generator, one thread.
"""
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "osnet"))
import export_osnet as ref  # noqa: E402  (the network and the weight generator)

torch.set_num_threads(1)
INPUT_SHAPE = (1, 3, 64, 32)
STAGES = ["conv1", "maxpool", "conv2", "conv3", "conv4", "conv5", "global_avgpool", "fc"]
# The large-activation model: BatchNorm gains far from 1, as trained re-ID weights can have (values up to ~150).
LARGE_GAIN = {"conv1.bn.weight": 128.0}


def model_of(variant, gains=None):
    """The variant in float32, eval mode, generated weights; `gains` multiplies named tensors (exact: powers of 2)."""
    model = ref.build(variant).float().eval()
    with torch.no_grad():
        for key, factor in (gains or {}).items():
            model.state_dict()[key].mul_(factor)
    return model


def run(model, x, dtype=torch.float32, channels_last=False):
    """The forward pass with a hook on every module: [(key, is_composite, output as float32 numpy)] in call order."""
    records, counts, handles = [], {}, []
    for name, module in model.named_modules():
        if name == "":
            continue

        def hook(mod, inputs, output, name=name):
            counts[name] = counts.get(name, 0) + 1
            key = name if counts[name] == 1 else f"{name}@{counts[name]}"
            plain_chain = len(list(mod.children())) > 0 and not isinstance(mod, (ref.OSBlock, ref.ChannelGate))
            records.append((key, plain_chain, output.detach().contiguous().to(torch.float32).numpy().copy()))

        handles.append(module.register_forward_hook(hook))
    model = model.to(dtype)
    x = x.to(dtype)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return [("input", False, x.contiguous().to(torch.float32).numpy().copy())] + records


def fold_bn(model, prefix, use_var_not_std=False):
    """BatchNorm `prefix`.bn folded into the conv before it, as exporters do; the bug divides by var, not sqrt(var + eps)."""
    parent = model.get_submodule(prefix)
    conv = parent.conv2 if isinstance(parent, ref.LightConv3x3) else parent.conv
    bn = parent.bn
    with torch.no_grad():
        denom = bn.running_var if use_var_not_std else torch.sqrt(bn.running_var + bn.eps)
        scale = bn.weight / denom
        conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
        shift = bn.bias - bn.running_mean * scale
    parent.bn = BiasAdd(shift)
    return (f"{prefix}.conv2" if isinstance(parent, ref.LightConv3x3) else f"{prefix}.conv")  # no longer a separate output


class BiasAdd(nn.Module):
    """What is left of a BatchNorm folded into the conv: the shift (the fused layer's output is reported as `bn`)."""

    def __init__(self, shift):
        super().__init__()
        self.register_buffer("shift", shift.clone())

    def forward(self, x):
        return x + self.shift.reshape(1, -1, 1, 1)


def bump_largest(model, key, factor):
    w = model.state_dict()[key]
    with torch.no_grad():
        flat = w.view(-1)
        i = int(torch.argmax(flat.abs()))
        flat[i] *= factor


def set_child(model, path, module):
    parent, name = path.rsplit(".", 1)
    setattr(model.get_submodule(parent), name, module)


# ---------------------------------------------------------------------------------------------------
# The cases: name -> (variant, expected layer or None, what, how to make the port)
# ---------------------------------------------------------------------------------------------------
def case(variant, layer, what, change=None, dtype=torch.float32, channels_last=False, gains=None, dropped=(),
         keep=None, bgr=False, dump_input=False):
    return dict(variant=variant, layer=layer, what=what, change=change, dtype=dtype, channels_last=channels_last,
                gains=gains, dropped=list(dropped), keep=keep, bgr=bgr, dump_input=dump_input)


def eps(path, value=1e-3):
    def change(m):
        m.get_submodule(path).eps = value
    return change


def fold_all(model):
    """Every conv + BatchNorm pair folded correctly (an exporter's fused graph): returns the conv keys that vanish."""
    gone = []
    for name, module in list(model.named_modules()):
        if isinstance(module, (ref.ConvLayer, ref.Conv1x1Linear, ref.LightConv3x3)) and isinstance(module.bn, nn.BatchNorm2d):
            gone.append(fold_bn(model, name))
    return gone


CASES = {
    # --- correct ports: must pass ---
    "x0_25_eager_float32": case("osnet_x0_25", None, "PyTorch float32 eager", keep="all", dump_input=True),
    "x0_25_channels_last": case("osnet_x0_25", None, "PyTorch float32, channels_last", channels_last=True, keep="blocks", dump_input=True),
    "x0_25_float64_cast": case("osnet_x0_25", None, "computed in float64, dumped as float32", dtype=torch.float64, keep="blocks", dump_input=True),
    "x0_25_bn_folded": case("osnet_x0_25", None, "every BatchNorm folded into its conv (sqrt(var + eps)), as an exporter fuses them", change="fold_all", keep="blocks"),
    "x0_25_large_activations": case("osnet_x0_25", None, "BatchNorm gain x128 in the stem (values up to ~600); the reference uses the same weights", gains=LARGE_GAIN, keep="blocks"),
    "x1_0_eager_float32": case("osnet_x1_0", None, "PyTorch float32 eager", keep="late"),
    # --- bugs: must be named at `layer` ---
    "x0_25_bn_eps_stem": case("osnet_x0_25", "conv1.bn", "BatchNorm eps 1e-3 instead of 1e-5", eps("conv1.bn")),
    "x0_25_bn_eps_deep": case("osnet_x0_25", "conv3.0.conv2b.1.bn", "BatchNorm eps 1e-3 instead of 1e-5", eps("conv3.0.conv2b.1.bn")),
    "x1_0_bn_eps": case("osnet_x1_0", "conv2.0.conv2b.1.bn", "BatchNorm eps 1e-3 instead of 1e-5", eps("conv2.0.conv2b.1.bn")),
    "x0_25_bn_fold_var": case("osnet_x0_25", "conv2.1.conv2c.1.bn", "BatchNorm folded with var instead of sqrt(var + eps)", "fold_var:conv2.1.conv2c.1"),
    "x0_25_missing_relu": case("osnet_x0_25", "conv2.0.conv2b.0.relu", "a LightConv3x3 without its ReLU", lambda m: set_child(m, "conv2.0.conv2b.0.relu", nn.Identity())),
    "x0_25_missing_relu_deep": case("osnet_x0_25", "conv5.relu", "conv5 without its ReLU", lambda m: set_child(m, "conv5.relu", nn.Identity())),
    "x0_25_relu6": case("osnet_x0_25", "conv1.relu", "ReLU6 instead of ReLU (on the large-activation weights, where values exceed 6)", lambda m: set_child(m, "conv1.relu", nn.ReLU6()), gains=LARGE_GAIN),
    "x0_25_hard_sigmoid": case("osnet_x0_25", "conv3.1.gate.gate_activation", "hard sigmoid for the gate's sigmoid", lambda m: set_child(m, "conv3.1.gate.gate_activation", nn.Hardsigmoid())),
    "x0_25_flipped_depthwise": case("osnet_x0_25", "conv2.0.conv2a.conv2", "depthwise 3x3 kernel flipped (correlation vs convolution)", lambda m: m.get_submodule("conv2.0.conv2a.conv2").weight.data.copy_(m.get_submodule("conv2.0.conv2a.conv2").weight.data.flip(-1, -2))),
    "x0_25_reflect_padding": case("osnet_x0_25", "conv2.1.conv2d.2.conv2", "reflect instead of zero padding in a depthwise conv", lambda m: setattr(m.get_submodule("conv2.1.conv2d.2.conv2"), "padding_mode", "reflect")),
    "x0_25_reflect_padding_stem": case("osnet_x0_25", "conv1.conv", "reflect instead of zero padding in the 7x7 stem", lambda m: setattr(m.get_submodule("conv1.conv"), "padding_mode", "reflect")),
    "x0_25_transposed_1x1": case("osnet_x0_25", "conv3.0.conv2a.conv1", "a square 1x1 weight matrix transposed", lambda m: m.get_submodule("conv3.0.conv2a.conv1").weight.data.copy_(m.get_submodule("conv3.0.conv2a.conv1").weight.data.transpose(0, 1).clone())),
    "x1_0_transposed_1x1": case("osnet_x1_0", "conv4.1.conv2c.2.conv1", "a square 1x1 weight matrix transposed", lambda m: m.get_submodule("conv4.1.conv2c.2.conv1").weight.data.copy_(m.get_submodule("conv4.1.conv2c.2.conv1").weight.data.transpose(0, 1).clone())),
    "x0_25_max_transition": case("osnet_x0_25", "conv2.2.1", "max instead of average pooling in the conv2 transition", lambda m: set_child(m, "conv2.2.1", nn.MaxPool2d(2, stride=2))),
    "x0_25_bgr_input": case("osnet_x0_25", "input", "BGR instead of RGB input (the port dumps its input)", bgr=True, dump_input=True),
    "x0_25_bgr_input_undumped": case("osnet_x0_25", "conv1.conv", "BGR instead of RGB input (the port does not dump its input)", bgr=True),
    "x0_25_weight_1pct_stem": case("osnet_x0_25", "conv1.conv", "the largest stem weight off by 1%", lambda m: bump_largest(m, "conv1.conv.weight", 1.01)),
    "x0_25_weight_0.1pct": case("osnet_x0_25", "conv3.1.conv2c.1.conv1", "the largest weight of a 1x1 off by 0.1%", lambda m: bump_largest(m, "conv3.1.conv2c.1.conv1.weight", 1.001)),
    "x0_25_weight_0.1pct_depthwise": case("osnet_x0_25", "conv2.1.conv2b.1.conv2", "the largest weight of a depthwise 3x3 off by 0.1%", lambda m: bump_largest(m, "conv2.1.conv2b.1.conv2.weight", 1.001)),
    "x1_0_weight_0.1pct": case("osnet_x1_0", "conv4.0.conv2a.conv1", "the largest weight of a 1x1 (K = 128) off by 0.1%", lambda m: bump_largest(m, "conv4.0.conv2a.conv1.weight", 1.001)),
    "x1_0_weight_1pct_deep": case("osnet_x1_0", "conv4.1.conv1.conv", "the largest weight of a 1x1 (K = 512) off by 1%", lambda m: bump_largest(m, "conv4.1.conv1.conv.weight", 1.01)),
    "x0_25_fc_bias_dropped": case("osnet_x0_25", "fc.0", "the fc layer's bias dropped", lambda m: m.fc[0].bias.data.zero_()),
}


def keep_keys(spec, records, dropped):
    """The keys a case dumps: see the module docstring. Plain chains (their output is their last child's) are left out."""
    keys = [k for k, chain, _ in records if k != "input" and not chain and k not in dropped]
    if spec["keep"] == "all":
        chosen = set(keys)
    elif spec["keep"] == "blocks":  # the stem, a whole block in the last two stages, the transitions and the head
        chosen = {k for k in keys if k.split(".")[0] in ("conv1", "maxpool", "conv5", "global_avgpool", "fc")
                  or k.startswith(("conv3.1.", "conv4.1.", "conv2.2.", "conv3.2."))}
    elif spec["keep"] == "late":  # the small maps of a wide variant
        chosen = {k for k in keys if k.startswith(("conv4.", "conv5", "global_avgpool", "fc"))}
    else:
        layer = spec["layer"]
        i = keys.index(layer) if layer in keys else 0
        chosen = set(keys[max(0, i - 4): i + 2])
    if spec["keep"] is not None:
        stages = STAGES[3:] if spec["keep"] == "late" else STAGES
        chosen |= {s for s in stages if s not in dropped}
    if spec["dump_input"]:
        chosen.add("input")
    return chosen


def main():
    x = torch.from_numpy(ref.generated_input("port-catalogue/input", INPUT_SHAPE)).float()
    ref.save_npy(os.path.join(HERE, "input.npy"), x.numpy())
    manifest = dict(
        script="reference-weights/port-catalogue/make_catalogue.py", torch=torch.__version__, threads=1,
        seed=ref.SEED, num_classes=ref.NUM_CLASSES, input=dict(file="input.npy", shape=list(INPUT_SHAPE)),
        weights="../osnet/export_osnet.py's generator (FixtureWeights in the tests); gains as listed per case",
        cases={})
    for name, spec in CASES.items():
        model = model_of(spec["variant"], spec["gains"])
        dropped = []
        change = spec["change"]
        if change == "fold_all":
            dropped = fold_all(model)
        elif isinstance(change, str) and change.startswith("fold_var:"):
            dropped = [fold_bn(model, change.split(":", 1)[1], use_var_not_std=True)]
        elif change is not None:
            with torch.no_grad():
                change(model)
        xin = x.flip(1) if spec["bgr"] else x
        records = run(model, xin, dtype=spec["dtype"], channels_last=spec["channels_last"])
        keys = keep_keys(spec, records, dropped)
        folder = os.path.join(HERE, name)
        if os.path.isdir(folder):
            for f in os.listdir(folder):
                os.remove(os.path.join(folder, f))
        largest = 0.0
        for key, _, value in records:
            largest = max(largest, float(np.abs(value).max()))
            if key in keys:
                ref.save_npy(os.path.join(folder, key + ".npy"), value)
        manifest["cases"][name] = dict(
            variant=spec["variant"], expected_layer=spec["layer"], what=spec["what"],
            gains=spec["gains"] or {}, layers=len(keys), largest_value=largest)
        print(f"{name}: {len(keys)} layers, largest |value| {largest:.3g}")
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
