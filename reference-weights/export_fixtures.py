#!/usr/bin/python3
"""Export the golden fixtures: inputs, parameters and PyTorch's outputs for every case in CASES.

Run with Debian's PyTorch (apt-get install -y python3-torch):

    /usr/bin/python3 reference-weights/export_fixtures.py

Inputs and parameters are drawn in float32 from a per-case torch.Generator (seed = SEED + crc32(name)),
so adding a case never changes the others. They are cast to float64 for the computation, and PyTorch's
float64 output is rounded once to float32 and stored. Rerunning yields byte-identical files: no
timestamps, one thread, deterministic algorithms, sorted JSON.
"""

import json
import warnings
import math
import os
import platform
import random
import re
import shutil
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20261123
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = "fixtures"  # relative to HERE; one directory per case

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
# padding="same" with an even kernel: PyTorch warns that it pads a copy of the input; that is expected here.
warnings.filterwarnings("ignore", message="Using padding=.same. with even kernel")


# ---------------------------------------------------------------------------------------------------
# Naming: cases are named by their parameters, e.g. conv2d_x2x6x9x10_w4x3x4x5_s3x2_p2x1_d2x3_g2_zeros.

def dims(values):
    """(3, 2) -> '3x2'; 3 -> '3'; 'same' -> 'same'."""
    if isinstance(values, (list, tuple)):
        return "x".join(str(v) for v in values)
    return str(values)


# ---------------------------------------------------------------------------------------------------
# Case definitions. Each entry is (op, kwargs); the builders below draw tensors and compute outputs.

def conv_cases():
    c = []

    def conv(n, x, w, stride=1, padding=0, dilation=1, groups=1, mode="zeros", bias=True):
        c.append(("conv%dd" % n, dict(x=x, w=w, stride=stride, padding=padding, dilation=dilation,
                                       groups=groups, padding_mode=mode, bias=bias)))

    # --- conv2d: the asymmetric everything case, and its variations ---
    # (With a 4x5 kernel, dilation (2, 3) spans 7x13 > the padded 13x12, which PyTorch refuses: see the error tests.)
    conv(2, [2, 6, 9, 10], [4, 3, 4, 3], stride=[3, 2], padding=[2, 1], dilation=[2, 3], groups=2)
    conv(2, [2, 6, 9, 10], [4, 3, 4, 5], stride=[3, 2], padding=[2, 1], dilation=[1, 2], groups=2)
    conv(2, [2, 6, 9, 10], [4, 3, 4, 5], stride=[3, 2], padding=[2, 1], dilation=[1, 2], groups=2, bias=False)
    conv(2, [1, 3, 5, 5], [2, 3, 3, 3])                                           # the textbook case
    conv(2, [2, 13, 5, 6], [7, 13, 2, 3], stride=[1, 2], padding=[0, 1])          # channels not multiples of 8
    conv(2, [3, 9, 6, 7], [6, 3, 3, 3], padding=1, groups=3)                      # grouped
    conv(2, [2, 5, 9, 10], [10, 1, 3, 3], padding=1, groups=5)                    # depthwise, multiplier 2
    conv(2, [1, 3, 7, 8], [9, 1, 3, 2], stride=2, padding=[2, 1], dilation=2, groups=3)  # depthwise x3, strided
    conv(2, [1, 4, 6, 5], [4, 1, 3, 3], padding=1, groups=4, bias=False)          # plain depthwise
    conv(2, [2, 12, 5, 7], [5, 12, 1, 1])                                         # pointwise
    conv(2, [3, 4, 1, 1], [6, 4, 1, 1])                                           # 1x1 images, pointwise
    conv(2, [2, 3, 1, 1], [5, 3, 3, 3], padding=1)                                # 1x1 images, 3x3 kernel
    conv(2, [1, 2, 1, 1], [3, 2, 1, 1], stride=2, padding=[1, 0])                 # 1x1 image, stride > size
    conv(2, [6, 9, 10], [4, 6, 4, 5], stride=[2, 3], padding=[1, 2])              # unbatched
    conv(2, [1, 3, 8, 11], [2, 3, 2, 2], stride=[3, 4])                           # stride > kernel, floor bites
    conv(2, [2, 3, 9, 10], [4, 3, 4, 5], padding="valid")
    conv(2, [1, 2, 9, 10], [3, 2, 4, 2], padding="same", dilation=[2, 3])         # even kernel, dilated: pads (3,3),(1,2)
    conv(2, [1, 2, 9, 10], [3, 2, 4, 6], padding="same")                          # even kernel: pads (1,2),(2,3)
    for mode in ("zeros", "reflect", "replicate", "circular"):
        conv(2, [2, 3, 9, 10], [4, 3, 4, 5], stride=[3, 2], padding=[2, 1], dilation=[2, 1], mode=mode)
        conv(2, [1, 4, 7, 6], [4, 2, 4, 2], padding="same", dilation=[1, 3], groups=2, mode=mode)
    conv(2, [1, 4, 5, 6], [8, 1, 3, 3], padding=[1, 2], groups=4, mode="reflect", bias=False)  # depthwise x2, reflect
    conv(2, [2, 2, 3, 4], [3, 2, 2, 3], padding=[3, 4], mode="circular")         # circular padding == size
    conv(2, [1, 2, 3, 4], [3, 2, 3, 3], padding=[2, 3], mode="reflect")          # reflect padding == size - 1
    conv(2, [1, 3, 4, 5], [2, 3, 2, 3], padding=[3, 5], mode="replicate")        # replicate padding > size
    conv(2, [1, 40, 6, 5], [12, 40, 3, 3], padding=1)                             # a longer reduction: K = 360

    # --- conv1d ---
    conv(1, [2, 5, 17], [4, 5, 3], stride=2, padding=1, dilation=3)
    conv(1, [3, 4, 11], [8, 1, 4], stride=3, padding=2, groups=4, bias=False)      # depthwise x2
    conv(1, [6, 13], [3, 6, 5], padding=2, dilation=2)                            # unbatched
    conv(1, [1, 3, 10], [2, 3, 4], padding="same", dilation=3)                    # pads (4,5)
    conv(1, [2, 3, 9], [6, 3, 1], padding="valid")
    for mode in ("reflect", "replicate", "circular"):
        conv(1, [2, 3, 9], [4, 3, 4], padding=3, stride=2, mode=mode)
        conv(1, [1, 2, 8], [2, 1, 6], padding="same", groups=2, mode=mode)

    # --- conv3d ---
    conv(3, [2, 3, 5, 6, 7], [4, 3, 2, 3, 4], stride=[2, 1, 3], padding=[1, 2, 0], dilation=[1, 2, 1])
    conv(3, [1, 4, 4, 5, 6], [6, 2, 3, 2, 3], padding=1, groups=2, dilation=[2, 1, 1])
    conv(3, [1, 3, 4, 4, 5], [6, 1, 2, 3, 3], stride=[1, 2, 2], padding=[1, 1, 0], groups=3)  # depthwise x2
    conv(3, [3, 5, 6, 4], [2, 3, 3, 2, 2], padding="same", dilation=[1, 2, 1], bias=False)  # unbatched, even
    for mode in ("reflect", "replicate", "circular"):
        conv(3, [1, 2, 4, 5, 6], [3, 2, 2, 3, 3], stride=[1, 2, 1], padding=[1, 2, 3], mode=mode)
    conv(3, [1, 2, 3, 4, 5], [2, 2, 2, 3, 4], padding="same", mode="circular")

    # --- conv2d sweep: random combinations of everything above, drawn from a fixed seed ---
    rng = random.Random(SEED)
    drawn = 0
    while drawn < 16:
        groups = rng.choice([1, 1, 2, 3])
        cin, cout = groups * rng.randint(1, 3), groups * rng.randint(1, 3)
        size = [rng.randint(1, 12), rng.randint(1, 12)]
        k = [rng.randint(1, 5), rng.randint(1, 5)]
        d = [rng.choice([1, 1, 2, 3]), rng.choice([1, 1, 2, 3])]
        kind = rng.choice(["int", "pair", "pair", "same", "valid"])
        stride = 1 if kind == "same" else [rng.randint(1, 3), rng.randint(1, 3)]
        padding = {"int": rng.randint(0, 3), "pair": [rng.randint(0, 3), rng.randint(0, 3)],
                   "same": "same", "valid": "valid"}[kind]
        mode = rng.choice(["zeros", "reflect", "replicate", "circular"])
        batch = rng.choice([[], [1], [2], [3]])
        # Keep only what PyTorch accepts: the kernel fits, reflect padding < size, circular padding <= size.
        if kind == "same":
            pads = [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for di, ki in zip(d, k)]
        else:
            p = [0, 0] if kind == "valid" else as_list(padding, 2)
            pads = [(pi, pi) for pi in p]
        if any(n + a + b < di * (ki - 1) + 1 for n, (a, b), di, ki in zip(size, pads, d, k)):
            continue
        if mode == "reflect" and any(max(ab) >= n for n, ab in zip(size, pads)):
            continue
        if mode == "circular" and any(max(ab) > n for n, ab in zip(size, pads)):
            continue
        conv(2, batch + [cin] + size, [cout, cin // groups] + k, stride=stride, padding=padding, dilation=d,
             groups=groups, mode=mode, bias=rng.random() < 0.7)
        drawn += 1
    return c


def other_cases():
    c = []
    # Normalisation (eval mode: running statistics for BatchNorm; per-instance statistics for InstanceNorm).
    c.append(("batch_norm", dict(x=[4, 6], eps=1e-5)))             # BatchNorm1d, 2-D input
    c.append(("batch_norm", dict(x=[3, 5, 7], eps=1e-5)))          # BatchNorm1d, 3-D input
    c.append(("batch_norm", dict(x=[2, 5, 4, 3], eps=1e-5)))       # BatchNorm2d
    c.append(("batch_norm", dict(x=[2, 3, 1, 1], eps=1e-3)))       # BatchNorm2d, 1x1 images, larger eps
    c.append(("instance_norm", dict(x=[2, 3, 5, 6], eps=1e-5)))
    c.append(("instance_norm", dict(x=[4, 3, 7], eps=1e-5)))       # unbatched
    c.append(("instance_norm", dict(x=[1, 2, 2, 3], eps=1e-3)))
    # Element-wise.
    for op in ("relu", "silu", "sigmoid"):
        c.append((op, dict(x=[2, 3, 4, 5])))
        c.append((op, dict(x=[2, 9], extremes=True)))              # saturation, underflow, signed zero
    # Pooling.
    c.append(("max_pool2d", dict(x=[2, 3, 9, 10], kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)))
    c.append(("max_pool2d", dict(x=[1, 2, 9, 10], kernel_size=[3, 2], stride=[2, 1], padding=[1, 0],
                                 dilation=[2, 3], ceil_mode=False)))
    c.append(("max_pool2d", dict(x=[2, 3, 8, 8], kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)))
    # ceil_mode: on H the extra window would start in the right padding and is dropped; on W it is kept.
    c.append(("max_pool2d", dict(x=[1, 2, 5, 8], kernel_size=[2, 3], stride=[3, 2], padding=[1, 1],
                                 dilation=1, ceil_mode=True)))
    c.append(("max_pool2d", dict(x=[1, 2, 5, 8], kernel_size=[2, 3], stride=[3, 2], padding=[1, 1],
                                 dilation=1, ceil_mode=False)))
    c.append(("max_pool2d", dict(x=[3, 7, 6], kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=True)))
    for cip in (True, False):
        c.append(("avg_pool2d", dict(x=[2, 3, 9, 10], kernel_size=3, stride=2, padding=1, ceil_mode=False,
                                     count_include_pad=cip)))
        c.append(("avg_pool2d", dict(x=[1, 2, 5, 8], kernel_size=[2, 3], stride=[3, 2], padding=[1, 1],
                                     ceil_mode=True, count_include_pad=cip)))
        c.append(("avg_pool2d", dict(x=[1, 2, 6, 7], kernel_size=[4, 3], stride=[3, 3], padding=[2, 1],
                                     ceil_mode=True, count_include_pad=cip)))
        # ceil_mode's last window runs past the padded input on both axes: the divisor counts input and
        # padding cells only (incpad 2 per axis here, excpad 1).
        c.append(("avg_pool2d", dict(x=[2, 3, 6, 6], kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                     count_include_pad=cip)))
    c.append(("avg_pool2d", dict(x=[2, 3, 8, 6], kernel_size=2, stride=2, padding=0, ceil_mode=False,
                                 count_include_pad=True)))
    c.append(("adaptive_avg_pool2d", dict(x=[2, 3, 7, 5], output_size=[3, 2])))
    c.append(("adaptive_avg_pool2d", dict(x=[1, 4, 6, 9], output_size=[1, 1])))
    c.append(("adaptive_avg_pool2d", dict(x=[1, 2, 5, 7], output_size=[4, 3])))
    c.append(("adaptive_avg_pool2d", dict(x=[2, 3, 2], output_size=[5, 4])))    # unbatched, upsampling
    # Linear, concat, add.
    c.append(("linear", dict(x=[3, 10], w=[7, 10], bias=True)))
    c.append(("linear", dict(x=[2, 4, 6], w=[5, 6], bias=False)))
    c.append(("linear", dict(x=[13], w=[9, 13], bias=True)))
    c.append(("linear", dict(x=[2, 96], w=[10, 96], bias=True)))
    c.append(("cat", dict(xs=[[2, 3, 4, 5], [2, 1, 4, 5], [2, 5, 4, 5]], dim=1)))
    c.append(("cat", dict(xs=[[1, 2, 3, 3], [1, 7, 3, 3]], dim=1)))
    c.append(("add", dict(xs=[[2, 3, 4, 5], [2, 3, 4, 5]])))
    return c


# ---------------------------------------------------------------------------------------------------
# Builders: each returns (name, args for the manifest, {tensor name: float32 tensor}, output float32,
# reduction length K for the tolerance rule).

def randn(g, shape, scale=1.0):
    t = torch.randn(shape, generator=g, dtype=torch.float32)
    return t * np.float32(scale) if scale != 1.0 else t


def rand(g, shape, low, high):
    return torch.rand(shape, generator=g, dtype=torch.float32) * np.float32(high - low) + np.float32(low)


def as_list(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


def conv_name(op, a):
    name = "%s_x%s_w%s_s%s_p%s_d%s_g%d_%s" % (op, dims(a["x"]), dims(a["w"]), dims(a["stride"]),
                                              dims(a["padding"]), dims(a["dilation"]), a["groups"],
                                              a["padding_mode"])
    return name if a["bias"] else name + "_nobias"


def build_conv(op, a, g):
    n = int(op[4])
    w_shape = a["w"]
    fan_in = w_shape[1] * math.prod(w_shape[2:])
    x = randn(g, a["x"])
    w = randn(g, w_shape, 1.0 / math.sqrt(fan_in))
    b = randn(g, [w_shape[0]], 0.5) if a["bias"] else None
    kwargs = dict(stride=a["stride"], padding=a["padding"], dilation=a["dilation"], groups=a["groups"])
    if a["padding_mode"] == "zeros":
        fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
        y = fn(x.double(), w.double(), None if b is None else b.double(), **kwargs)
    else:
        # F.convNd has no padding_mode; the module pads with F.pad(mode) and then runs a valid convolution.
        module_type = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[n]
        m = module_type(a["x"][-n - 1], w_shape[0], w_shape[2:], bias=a["bias"], padding_mode=a["padding_mode"],
                        **kwargs).double()
        with torch.no_grad():
            m.weight.copy_(w.double())
            if b is not None:
                m.bias.copy_(b.double())
            if x.dim() == n + 1 and a["padding_mode"] == "circular":
                # PyTorch 1.13's circular F.pad needs a batch dimension and fails on unbatched input
                # ("Invalid padding size", pytorch/pytorch#104860); an unbatched conv is a batch of one.
                y = m(x.double().unsqueeze(0)).squeeze(0)
            else:
                y = m(x.double())
    tensors = {"input": x, "weight": w}
    if b is not None:
        tensors["bias"] = b
    args = {k: a[k] for k in ("stride", "padding", "dilation", "groups", "padding_mode", "bias")}
    return conv_name(op, a), args, tensors, y, fan_in


def build_batch_norm(a, g):
    x = randn(g, a["x"], 2.0)
    c = a["x"][1]
    mean = randn(g, [c], 0.5)
    var = rand(g, [c], 0.25, 2.0)
    weight = randn(g, [c], 0.5) + np.float32(1.0)
    bias = randn(g, [c], 0.5)
    module = {2: torch.nn.BatchNorm1d, 3: torch.nn.BatchNorm1d, 4: torch.nn.BatchNorm2d}[len(a["x"])]
    m = module(c, eps=a["eps"]).double().eval()
    with torch.no_grad():
        m.running_mean.copy_(mean.double())
        m.running_var.copy_(var.double())
        m.weight.copy_(weight.double())
        m.bias.copy_(bias.double())
        y = m(x.double())
    name = "%s_x%s_eps%g" % (module.__name__.lower(), dims(a["x"]), a["eps"])
    tensors = {"input": x, "running_mean": mean, "running_var": var, "weight": weight, "bias": bias}
    # Eval-mode batch norm is element-wise: no reduction behind a value.
    return name, {"eps": a["eps"], "module": module.__name__}, tensors, y, 1


def build_instance_norm(a, g):
    x = randn(g, a["x"], 2.0) + np.float32(0.5)
    c = a["x"][-3]
    weight = randn(g, [c], 0.5) + np.float32(1.0)
    bias = randn(g, [c], 0.5)
    m = torch.nn.InstanceNorm2d(c, eps=a["eps"], affine=True).double().eval()
    with torch.no_grad():
        m.weight.copy_(weight.double())
        m.bias.copy_(bias.double())
        y = m(x.double())
    name = "instancenorm2d_x%s_eps%g_affine" % (dims(a["x"]), a["eps"])
    tensors = {"input": x, "weight": weight, "bias": bias}
    # Mean and variance reduce over the H*W plane.
    return name, {"eps": a["eps"], "affine": True}, tensors, y, a["x"][-1] * a["x"][-2]


EXTREMES = [-100.0, -30.0, -10.0, -1e-3, -0.0, 0.0, 1e-3, 10.0, 30.0, 100.0]


def build_elementwise(op, a, g):
    x = randn(g, a["x"], 3.0)
    name = "%s_x%s" % (op, dims(a["x"]))
    if a.get("extremes"):
        flat = x.flatten()
        flat[:len(EXTREMES)] = torch.tensor(EXTREMES, dtype=torch.float32)
        x = flat.reshape(a["x"])
        name += "_extremes"
    fn = {"relu": F.relu, "silu": F.silu, "sigmoid": torch.sigmoid}[op]
    return name, {}, {"input": x}, fn(x.double()), 1


def build_max_pool(a, g):
    x = randn(g, a["x"])
    kw = {k: a[k] for k in ("kernel_size", "stride", "padding", "dilation", "ceil_mode")}
    y = F.max_pool2d(x.double(), **kw)
    name = "max_pool2d_x%s_k%s_s%s_p%s_d%s_%s" % (dims(a["x"]), dims(a["kernel_size"]), dims(a["stride"]),
                                                   dims(a["padding"]), dims(a["dilation"]),
                                                   "ceil" if a["ceil_mode"] else "floor")
    return name, kw, {"input": x}, y, math.prod(as_list(a["kernel_size"], 2))


def build_avg_pool(a, g):
    x = randn(g, a["x"])
    kw = {k: a[k] for k in ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")}
    y = F.avg_pool2d(x.double(), **kw)
    name = "avg_pool2d_x%s_k%s_s%s_p%s_%s_%s" % (dims(a["x"]), dims(a["kernel_size"]), dims(a["stride"]),
                                                  dims(a["padding"]), "ceil" if a["ceil_mode"] else "floor",
                                                  "incpad" if a["count_include_pad"] else "excpad")
    return name, kw, {"input": x}, y, math.prod(as_list(a["kernel_size"], 2))


def build_adaptive(a, g):
    x = randn(g, a["x"])
    y = F.adaptive_avg_pool2d(x.double(), a["output_size"])
    h, w = a["x"][-2:]
    oh, ow = a["output_size"]
    # Largest window: ceil((o+1)*I/O) - floor(o*I/O) maximised over o, per axis.
    span = lambda i, o: max(-(-(k + 1) * i // o) - (k * i // o) for k in range(o))
    name = "adaptive_avg_pool2d_x%s_o%s" % (dims(a["x"]), dims(a["output_size"]))
    return name, {"output_size": a["output_size"]}, {"input": x}, y, span(h, oh) * span(w, ow)


def build_linear(a, g):
    x = randn(g, a["x"])
    w = randn(g, a["w"], 1.0 / math.sqrt(a["w"][1]))
    b = randn(g, [a["w"][0]], 0.5) if a["bias"] else None
    y = F.linear(x.double(), w.double(), None if b is None else b.double())
    tensors = {"input": x, "weight": w}
    if b is not None:
        tensors["bias"] = b
    name = "linear_x%s_w%s%s" % (dims(a["x"]), dims(a["w"]), "" if a["bias"] else "_nobias")
    return name, {"bias": a["bias"]}, tensors, y, a["w"][1]


def build_cat(a, g):
    xs = [randn(g, s) for s in a["xs"]]
    y = torch.cat([x.double() for x in xs], dim=a["dim"])
    name = "cat_dim%d_%s" % (a["dim"], "_".join("x" + dims(s) for s in a["xs"]))
    return name, {"dim": a["dim"]}, {"input%d" % i: x for i, x in enumerate(xs)}, y, 1


def build_add(a, g):
    xs = [randn(g, s) for s in a["xs"]]
    y = xs[0].double() + xs[1].double()
    name = "add_%s" % "_".join("x" + dims(s) for s in a["xs"])
    return name, {}, {"input0": xs[0], "input1": xs[1]}, y, 1


def build(op, a, g):
    if op.startswith("conv"):
        return build_conv(op, a, g)
    return {
        "batch_norm": build_batch_norm, "instance_norm": build_instance_norm,
        "max_pool2d": build_max_pool, "avg_pool2d": build_avg_pool, "adaptive_avg_pool2d": build_adaptive,
        "linear": build_linear, "cat": build_cat, "add": build_add,
    }.get(op, lambda a, g: build_elementwise(op, a, g))(a, g)


# ---------------------------------------------------------------------------------------------------

def save(path, tensor):
    array = np.ascontiguousarray(tensor.detach().numpy().astype("<f4"))
    np.save(path, array, allow_pickle=False)


def main():
    out_dir = os.path.join(HERE, FIXTURES)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)  # stale cases must not survive a rename
    os.makedirs(out_dir)

    cases = []
    names = set()
    for op, a in conv_cases() + other_cases():
        # The name is known only after building; the seed comes from the op and its arguments so that it does
        # not depend on the case's position in the list.
        key = op + json.dumps(a, sort_keys=True)
        seed = (SEED + zlib.crc32(key.encode("utf-8"))) % (2 ** 31)
        g = torch.Generator().manual_seed(seed)
        name, args, tensors, y, k = build(op, a, g)
        if name in names:
            sys.exit("duplicate case name " + name)
        names.add(name)
        assert y.dtype == torch.float64, name
        case_dir = os.path.join(out_dir, name)
        os.makedirs(case_dir)
        files = {}
        for tensor_name, t in tensors.items():
            assert t.dtype == torch.float32, (name, tensor_name)
            rel = "%s/%s/%s.npy" % (FIXTURES, name, tensor_name)
            save(os.path.join(HERE, rel), t)
            files[tensor_name] = rel
        expected = "%s/%s/expected.npy" % (FIXTURES, name)
        save(os.path.join(HERE, expected), y.float())
        cases.append({
            "name": name,
            "op": op,
            "args": args,
            "seed": seed,
            "inputs": files,
            "expected": expected,
            "expected_shape": list(y.shape),
            "reduction_length": int(k),
        })

    manifest = {
        "format": 1,
        "generator": "reference-weights/export_fixtures.py",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "seed": SEED,
        "input_dtype": "float32",
        "compute_dtype": "float64",
        "stored_dtype": "float32",
        "threads": torch.get_num_threads(),
        "cases": cases,
    }
    with open(os.path.join(HERE, "manifest.json"), "w", encoding="utf-8", newline="\n") as f:
        text = json.dumps(manifest, indent=1)
        # Short lists of numbers on one line: "stride": [3, 2].
        text = re.sub(r"\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]",
                      lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
        f.write(text + "\n")
    print("wrote %d cases to %s" % (len(cases), out_dir))


if __name__ == "__main__":
    main()
