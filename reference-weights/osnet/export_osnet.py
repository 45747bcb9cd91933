#!/usr/bin/python3
"""Golden fixtures for Learn's OSNet: run with /usr/bin/python3 (PyTorch 1.13) from the repository root,

    /usr/bin/python3 reference-weights/osnet/export_osnet.py

The network below is written from torchreid's architecture (Zhou et al., ICCV 2019; torchreid
models/osnet.py) with the same attribute names, so state_dict keys equal torchreid's. Weights are
NOT random bytes: every tensor is drawn from a counter-based integer generator (splitmix64 keyed by
FNV-1a of "<variant>/<key>") and mapped to small dyadic rationals, so that the C# tests regenerate
bit-identical weights without a checkpoint reader, and the values are exact in float16, float32 and
float64. Outputs are computed in float64 and stored as float32.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20191027          # seed of the weight generator and of the input
NUM_CLASSES = 16         # small classifier for the fixtures (torchreid's factory default is 1000)
HEIGHT, WIDTH, BATCH = 256, 128, 2


# ---------------------------------------------------------------------------------------------------
# OSNet (eval-mode semantics; ReLU is not in-place so that hooks see each layer's own output)
# ---------------------------------------------------------------------------------------------------
def norm2d(channels, instance):
    return nn.InstanceNorm2d(channels, affine=True) if instance else nn.BatchNorm2d(channels)


class ConvLayer(nn.Module):
    """k x k conv (no bias) -> BatchNorm (InstanceNorm in the IBN stem) -> ReLU."""

    def __init__(self, cin, cout, k, stride=1, padding=0, groups=1, IN=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, groups=groups, bias=False)
        self.bn = norm2d(cout, IN)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Conv1x1(ConvLayer):
    """1x1 conv -> BN -> ReLU."""

    def __init__(self, cin, cout, stride=1, groups=1):
        super().__init__(cin, cout, 1, stride=stride, groups=groups)


class Conv3x3(ConvLayer):
    """3x3 conv (padding 1) -> BN -> ReLU."""

    def __init__(self, cin, cout, stride=1, groups=1):
        super().__init__(cin, cout, 3, stride=stride, padding=1, groups=groups)


class Conv1x1Linear(nn.Module):
    """1x1 conv -> BN, no activation (the projection at the end of a block and the shortcut)."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class LightConv3x3(nn.Module):
    """1x1 conv (linear) then depthwise 3x3 conv -> BN -> ReLU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 1, bias=False)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, groups=cout, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """x * sigmoid(fc2(relu(fc1(avgpool(x))))), fc1/fc2 being 1x1 convs with bias, reduction 16."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1, bias=True)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1, bias=True)
        self.gate_activation = nn.Sigmoid()

    def forward(self, x):
        g = self.gate_activation(self.fc2(self.relu(self.fc1(self.global_avgpool(x)))))
        return x * g


class OSBlock(nn.Module):
    """Bottleneck with four streams of 1..4 LightConv3x3 sharing one gate; optional InstanceNorm on the sum."""

    def __init__(self, cin, cout, IN=False, bottleneck_reduction=4):
        super().__init__()
        mid = cout // bottleneck_reduction
        self.conv1 = Conv1x1(cin, mid)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(2)])
        self.conv2c = nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(3)])
        self.conv2d = nn.Sequential(*[LightConv3x3(mid, mid) for _ in range(4)])
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, cout)
        self.downsample = Conv1x1Linear(cin, cout) if cin != cout else None
        self.IN = nn.InstanceNorm2d(cout, affine=True) if IN else None

    def forward(self, x):
        x1 = self.conv1(x)
        streams = [self.conv2a(x1), self.conv2b(x1), self.conv2c(x1), self.conv2d(x1)]
        x2 = sum(self.gate(s) for s in streams)
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.conv3(x2) + shortcut
        if self.IN is not None:
            out = self.IN(out)
        return torch.relu(out)


class OSNet(nn.Module):
    def __init__(self, num_classes, channels, IN=False, layers=(2, 2, 2), feature_dim=512):
        super().__init__()
        self.conv1 = ConvLayer(3, channels[0], 7, stride=2, padding=3, IN=IN)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = self.stage(layers[0], channels[0], channels[1], transition=True, IN=IN)
        self.conv3 = self.stage(layers[1], channels[1], channels[2], transition=True)
        self.conv4 = self.stage(layers[2], channels[2], channels[3], transition=False)
        self.conv5 = Conv1x1(channels[3], channels[3])
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(nn.Linear(channels[3], feature_dim), nn.BatchNorm1d(feature_dim), nn.ReLU())
        self.classifier = nn.Linear(feature_dim, num_classes)

    @staticmethod
    def stage(blocks, cin, cout, transition, IN=False):
        mods = [OSBlock(cin if i == 0 else cout, cout, IN=IN) for i in range(blocks)]
        if transition:  # halve the resolution between stages
            mods.append(nn.Sequential(Conv1x1(cout, cout), nn.AvgPool2d(2, stride=2)))
        return nn.Sequential(*mods)

    def forward(self, x):
        for name in ("conv1", "maxpool", "conv2", "conv3", "conv4", "conv5", "global_avgpool"):
            x = getattr(self, name)(x)
        return self.fc(x.flatten(1))  # eval mode: the 512-d feature


# ---------------------------------------------------------------------------------------------------
# The seeds' other modules (Learn.Models.DWConv, DepthwiseSeparableConv, DilatedMultiBranch)
# ---------------------------------------------------------------------------------------------------
class ConvBnAct(nn.Module):
    """conv (no bias, padding d*(k-1)/2) -> BN -> SiLU or ReLU; YOLOX's BaseConv shape."""

    def __init__(self, cin, cout, k, stride=1, groups=1, dilation=1, act="silu"):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, dilation * (k - 1) // 2, dilation, groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.SiLU() if act == "silu" else nn.ReLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class DWConv(nn.Module):
    """YOLO's depthwise conv + BN + SiLU, then pointwise conv + BN + SiLU."""

    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.dconv = ConvBnAct(cin, cin, k, stride, groups=cin)
        self.pconv = ConvBnAct(cin, cout, 1)

    def forward(self, x):
        return self.pconv(self.dconv(x))


class DepthwiseSeparableConv(nn.Module):
    """MobileNet: depthwise + BN + ReLU, pointwise + BN + ReLU."""

    def __init__(self, cin, cout, k=3, stride=1, dilation=1):
        super().__init__()
        self.depthwise = ConvBnAct(cin, cin, k, stride, groups=cin, dilation=dilation, act="relu")
        self.pointwise = ConvBnAct(cin, cout, 1, act="relu")

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class DilatedMultiBranch(nn.Module):
    """The request of seed 001: 1x1 separable compression; 5x5/7x7/9x9 separable branches dilated 5/7/9;
    the input as residual branch; concat; 1x1 separable fuse."""

    def __init__(self, cin, cout, mid=None):
        super().__init__()
        mid = mid or max(1, cin // 2)
        self.compress = DepthwiseSeparableConv(cin, mid, 1)
        self.branch5 = DepthwiseSeparableConv(mid, mid, 5, dilation=5)
        self.branch7 = DepthwiseSeparableConv(mid, mid, 7, dilation=7)
        self.branch9 = DepthwiseSeparableConv(mid, mid, 9, dilation=9)
        self.fuse = DepthwiseSeparableConv(3 * mid + cin, cout, 1)

    def forward(self, x):
        m = self.compress(x)
        return self.fuse(torch.cat([self.branch5(m), self.branch7(m), self.branch9(m), x], dim=1))


SEED_MODULES = {
    "dwconv_k5_s2": (lambda: DWConv(8, 12, 5, stride=2), [2, 8, 21, 18]),
    "dsconv_k3_s2": (lambda: DepthwiseSeparableConv(8, 12, 3, stride=2), [2, 8, 21, 18]),
    "dilated_multibranch": (lambda: DilatedMultiBranch(8, 12), [2, 8, 24, 20]),
}


VARIANTS = {
    "osnet_x1_0": dict(channels=[64, 256, 384, 512], IN=False),
    "osnet_x0_75": dict(channels=[48, 192, 288, 384], IN=False),
    "osnet_x0_5": dict(channels=[32, 128, 192, 256], IN=False),
    "osnet_x0_25": dict(channels=[16, 64, 96, 128], IN=False),
    "osnet_ibn_x1_0": dict(channels=[64, 256, 384, 512], IN=True),
}


# ---------------------------------------------------------------------------------------------------
# The weight generator (mirrored in C# by lib/Learn/Verification/OSNetFixtureWeights.cs)
# ---------------------------------------------------------------------------------------------------
MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & MASK
    return h


def splitmix64(key, n):
    """z_i = mix(base + (i + 1) * golden), i = 0..n-1, base = FNV-1a("<SEED>/<key>"): one stream per tensor."""
    base = np.uint64(fnv1a64(f"{SEED}/{key}"))
    with np.errstate(over="ignore"):
        z = base + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return z


def generated(key, shape):
    """The value of state_dict entry `key` (a "variant/name" string): dyadic rationals, exact in float16.

    weight of rank >= 2 (conv, linear): k * 2^(e-10), k uniform in [-1024, 1024),
        2^e the power of two nearest sqrt(3 / fan_in)   (variance ~ 1/fan_in: activations stay O(1))
    running_var, and rank-1 weight (BN/IN gamma): 0.5 + u * 2^-10, u uniform in [0, 1024)   -> [0.5, 1.5)
    running_mean and every bias: k * 2^-13   -> [-0.125, 0.125)
    """
    n = int(np.prod(shape))
    z = splitmix64(key, n)
    k = (z >> np.uint64(53)).astype(np.int64) - 1024      # [-1024, 1024)
    u = (z >> np.uint64(54)).astype(np.int64)             # [0, 1024)
    name = key.rsplit(".", 1)[-1]
    if name == "weight" and len(shape) >= 2:
        fan_in = n // shape[0]
        e = round(math.log2(math.sqrt(3.0 / fan_in)))
        v = k.astype(np.float64) * 2.0 ** (e - 10)
    elif name in ("running_var", "weight"):
        v = 0.5 + u.astype(np.float64) * 2.0 ** -10
    elif name in ("running_mean", "bias"):
        v = k.astype(np.float64) * 2.0 ** -13
    else:
        raise ValueError(f"no generator rule for {key}")
    return v.reshape(shape)


def build(variant, num_classes=NUM_CLASSES, model=None):
    """The variant in float64, eval mode, every parameter and buffer from the generator."""
    model = (model or OSNet(num_classes, **VARIANTS[variant])).double().eval()
    with torch.no_grad():
        for key, t in model.state_dict().items():
            if key.endswith("num_batches_tracked"):
                continue
            t.copy_(torch.from_numpy(generated(f"{variant}/{key}", tuple(t.shape))))
    return model


def generated_input(key="input", shape=(BATCH, 3, HEIGHT, WIDTH)):
    """An input: k * 2^-10, k uniform in [-1024, 1024) (the network's input is stream "input")."""
    z = splitmix64(key, int(np.prod(shape)))
    k = (z >> np.uint64(53)).astype(np.int64) - 1024
    return (k.astype(np.float64) * 2.0 ** -10).reshape(shape)


# ---------------------------------------------------------------------------------------------------
# What the fixtures record
# ---------------------------------------------------------------------------------------------------
STAGES = ["conv1", "maxpool", "conv2", "conv3", "conv4", "conv5", "global_avgpool", "fc"]
# Stage dumps kept per variant (size budget): every stage for the smallest width; the large early maps of
# the wide variants are left out (their later stages and outputs still check them end to end).
STAGES_KEPT = {
    "osnet_x0_25": STAGES,
    "osnet_x0_5": STAGES[1:],
    "osnet_x0_75": STAGES[3:],
    "osnet_x1_0": STAGES[3:],
    "osnet_ibn_x1_0": STAGES[1:],
}


def save_npy(path, array):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.save(path, np.ascontiguousarray(array, dtype="<f4"))


def call_keys(model):
    """Forward hooks on every submodule, keyed like Learn's ActivationRecorder: name, then name@2, name@3 ..."""
    records, counts, handles = [], {}, []
    for name, module in model.named_modules():
        if name == "":
            continue

        def hook(mod, inputs, output, name=name):
            counts[name] = counts.get(name, 0) + 1
            key = name if counts[name] == 1 else f"{name}@{counts[name]}"
            records.append((key, mod, inputs[0], output))

        handles.append(module.register_forward_hook(hook))
    return records, handles


def costs(variant):
    """Parameters and MACs the way the paper counts them, by PyTorch forward hooks at batch 1, 256x128.

    MACs: Conv2d out.numel() * (C_in/groups) * kh * kw, Linear out.numel() * in_features, at every call (the
    shared gate's fc1/fc2 count once per stream); BN, activations, pooling, the gate multiply and residual adds
    count nothing. The eval forward does not run the classifier, so neither its MACs nor its parameters count.
    """
    model = OSNet(NUM_CLASSES, **VARIANTS[variant]).eval()
    records, handles = call_keys(model)
    with torch.no_grad():
        model(torch.zeros(1, 3, HEIGHT, WIDTH))
    for h in handles:
        h.remove()
    macs_by_layer, shapes = {}, {}
    for key, mod, inp, out in records:
        shapes[key] = list(out.shape)
        name = key.split("@")[0]
        if isinstance(mod, nn.Conv2d):
            k = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            macs_by_layer[name] = macs_by_layer.get(name, 0) + out.numel() * k
        elif isinstance(mod, nn.Linear):
            macs_by_layer[name] = macs_by_layer.get(name, 0) + out.numel() * mod.in_features
    params = sum(p.numel() for p in model.parameters())
    used = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("classifier."))
    return dict(
        parameters=used,
        total_parameters=params,
        macs=sum(macs_by_layer.values()),
        macs_by_layer=macs_by_layer,
        output_shapes=shapes,
    )


def receptive_fields(variant="osnet_x0_25", size=640, thin=32):
    """Receptive fields measured by gradients (independent of any formula).

    For the measurement the network is made linear-positive so that no path cancels: conv weights 1/fan_in,
    BN the identity, ChannelGate the identity (its global context is not part of the local receptive field),
    and max pooling replaced by average pooling of the same geometry (a max routes the gradient to one tap).
    The input is ones, [1, 3, size, thin] for the height axis and [1, 3, thin, size] for the width axis. For
    output row i of a layer, the input rows with a nonzero gradient of sum(out[0, :, i, :]) are the field.
    """
    model = OSNet(NUM_CLASSES, **VARIANTS[variant]).double().eval()
    model.maxpool = nn.AvgPool2d(3, stride=2, padding=1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.fill_(1.0 / (m.weight[0].numel()))
                if m.bias is not None:
                    m.bias.zero_()
            if isinstance(m, ChannelGate):
                m.forward = lambda x: x
    targets = [
        n for n, m in model.named_modules()
        if n and ".gate" not in n and n not in ("global_avgpool", "fc", "classifier") and not n.startswith("fc.")
        and not isinstance(m, (nn.BatchNorm2d, nn.ReLU, nn.InstanceNorm2d))
    ]
    result = {n: {} for n in targets}
    for axis, shape in (("height", (1, 3, size, thin)), ("width", (1, 3, thin, size))):
        x = torch.ones(shape, dtype=torch.float64, requires_grad=True)
        outs = {}
        handles = [model.get_submodule(n).register_forward_hook(lambda m, i, o, n=n: outs.__setitem__(n, o)) for n in targets]
        model(x)
        for h in handles:
            h.remove()
        for n in targets:
            out = outs[n]
            length = out.shape[2] if axis == "height" else out.shape[3]
            rows = []
            for i in (length // 2, length // 2 + 1):
                sel = out[0, :, i, :] if axis == "height" else out[0, :, :, i]
                (g,) = torch.autograd.grad(sel.sum(), x, retain_graph=True)
                seen = g[0].abs().sum(dim=(0, 2) if axis == "height" else (0, 1)) > 0
                idx = torch.nonzero(seen).flatten()
                first, last = int(idx[0]), int(idx[-1])
                assert 0 < first and last < size - 1, f"{n}: field clipped at {axis} {first}..{last}; enlarge size"
                assert len(idx) == last - first + 1, f"{n}: field with holes"
                rows.append([i, first, last])
            result[n][axis] = rows
    return dict(variant=variant, input_shape=[1, 3, size, thin], input_shape_width=[1, 3, thin, size],
                note="gates identity, max pool replaced by average pool of the same geometry, weights positive",
                layers=result)


def same_checkpoint(path, expected):
    if not os.path.exists(path):
        return False
    old = torch.load(path)
    if old.keys() != expected.keys() or old["state_dict"].keys() != expected["state_dict"].keys():
        return False
    same = all(old[k] == v for k, v in expected.items() if k != "state_dict")
    return same and all(old["state_dict"][k].dtype == v.dtype and torch.equal(old["state_dict"][k], v)
                        for k, v in expected["state_dict"].items())


def stage_outputs(model, x):
    outs = {}
    handles = [model.get_submodule(n).register_forward_hook(lambda m, i, o, n=n: outs.__setitem__(n, o)) for n in STAGES]
    with torch.no_grad():
        y = model(x)
        logits = model.classifier(y)
    for h in handles:
        h.remove()
    assert torch.equal(outs["fc"], y)
    return outs, y, logits


def main():
    torch.set_num_threads(1)
    manifest = dict(
        generator="export_osnet.py",
        torch_version=torch.__version__,
        numpy_version=np.__version__,
        threads=1,
        compute_dtype="float64",
        stored_dtype="float32",
        seed=SEED,
        num_classes=NUM_CLASSES,
        input=dict(file="input.npy", shape=[BATCH, 3, HEIGHT, WIDTH]),
        weights=("every state_dict tensor from splitmix64 keyed by FNV-1a('<seed>/<variant>/<key>'); "
                 "see generated() in export_osnet.py and FixtureWeights.cs"),
        cost_convention=("MACs of Conv2d and Linear at every call (the shared gate counts once per stream), "
                         "batch 1, 3x256x128, classifier excluded; BN, activations, pooling, gate multiply and "
                         "adds count nothing; parameters exclude the classifier"),
        variants={},
    )
    x_np = generated_input()
    save_npy(os.path.join(HERE, "input.npy"), x_np)
    x = torch.from_numpy(x_np)
    for variant in VARIANTS:
        model = build(variant)
        sd = model.state_dict()
        entry = dict(
            channels=VARIANTS[variant]["channels"],
            instance_norm=VARIANTS[variant]["IN"],
            state_dict=[[k, list(t.shape)] for k, t in sd.items() if not k.endswith("num_batches_tracked")],
            checksums={k: [float(t.double().sum()), float((t.double() ** 2).sum())]
                       for k, t in sd.items() if not k.endswith("num_batches_tracked")},
        )
        entry.update(costs(variant))
        outs, y, logits = stage_outputs(model, x)
        entry["stages"] = {}
        for name in STAGES_KEPT[variant]:
            save_npy(os.path.join(HERE, variant, name + ".npy"), outs[name].numpy())
            entry["stages"][name] = dict(file=f"{variant}/{name}.npy", shape=list(outs[name].shape))
        entry["stage_shapes"] = {n: list(outs[n].shape) for n in STAGES}
        save_npy(os.path.join(HERE, variant, "output.npy"), y.numpy())
        save_npy(os.path.join(HERE, variant, "logits.npy"), logits.numpy())
        entry["output"] = dict(file=f"{variant}/output.npy", shape=list(y.shape))
        entry["logits"] = dict(file=f"{variant}/logits.npy", shape=list(logits.shape))
        # batch invariance of the ground truth itself: each sample alone gives the same feature
        with torch.no_grad():
            alone = torch.cat([model(x[i:i + 1]) for i in range(BATCH)])
        entry["pytorch_batch_invariance_max_abs"] = float((alone - y).abs().max())

        checkpoints = {}
        if variant == "osnet_x0_25":
            sd32 = {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}
            for k, v in sd32.items():
                if v.is_floating_point():
                    save_npy(os.path.join(HERE, variant, "weights", k + ".npy"), v.numpy())
            checkpoints["npy_dir"] = f"{variant}/weights"
            torch.save(sd32, os.path.join(HERE, "osnet_x0_25.pth"))
            checkpoints["zip"] = dict(file="osnet_x0_25.pth", layout="state_dict at top level, float32, with num_batches_tracked")
            legacy = {"state_dict": {"module." + k: v for k, v in sd32.items()}, "epoch": 60, "arch": variant}
            legacy_path = os.path.join(HERE, "osnet_x0_25_legacy.pth")
            # The legacy format names storages by object address, so its bytes change on every run: keep an
            # existing file whose content is the same, so that rerunning the script leaves the tree unchanged.
            if not same_checkpoint(legacy_path, legacy):
                torch.save(legacy, legacy_path, _use_new_zipfile_serialization=False)
            checkpoints["legacy"] = dict(file="osnet_x0_25_legacy.pth",
                                         layout="legacy (non-zip) format; {'state_dict': {'module.<key>': ...}, 'epoch': 60, 'arch': ...}, float32")
        if variant == "osnet_x0_5":
            sd16 = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
            for k, v in sd16.items():
                if v.is_floating_point():
                    assert torch.equal(v.double(), sd[k]), f"{k} is not exact in float16"
            torch.save(sd16, os.path.join(HERE, "osnet_x0_5_fp16.pth"))
            checkpoints["zip_fp16"] = dict(file="osnet_x0_5_fp16.pth", layout="state_dict at top level, float16 (exact: the generated values are dyadic)")
        entry["checkpoints"] = checkpoints
        manifest["variants"][variant] = entry
        print(variant, entry["parameters"], entry["macs"], "invariance", entry["pytorch_batch_invariance_max_abs"], flush=True)
    manifest["seed_modules"] = {}
    for name, (make, shape) in SEED_MODULES.items():
        model = build(name, model=make())
        records, handles = call_keys(model)
        x_seed = torch.from_numpy(generated_input(f"seeds/{name}/input", tuple(shape)))
        with torch.no_grad():
            y_seed = model(x_seed)
        for h in handles:
            h.remove()
        macs = 0
        for key, mod, inp, out in records:
            if isinstance(mod, nn.Conv2d):
                macs += out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        save_npy(os.path.join(HERE, "seeds", name + "_input.npy"), x_seed.numpy())
        save_npy(os.path.join(HERE, "seeds", name + "_output.npy"), y_seed.numpy())
        manifest["seed_modules"][name] = dict(
            input=dict(file=f"seeds/{name}_input.npy", shape=shape),
            output=dict(file=f"seeds/{name}_output.npy", shape=list(y_seed.shape)),
            state_dict=[[k, list(t.shape)] for k, t in model.state_dict().items() if not k.endswith("num_batches_tracked")],
            parameters=sum(p.numel() for p in model.parameters()),
            macs_batch=macs,
        )
    manifest["receptive_fields"] = receptive_fields()
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
