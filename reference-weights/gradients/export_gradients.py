#!/usr/bin/python3
"""Export the golden gradients: inputs, parameters, dL/dy and PyTorch autograd's dL/dx, dL/dw, dL/db.

Run with Debian's PyTorch (apt-get install -y python3-torch):

    /usr/bin/python3 reference-weights/gradients/export_gradients.py

Like ../export_fixtures.py: tensors are drawn in float32 from a per-case torch.Generator (seed = SEED +
crc32(op and arguments)), autograd runs in float64 on those values, and each gradient is rounded once to
float32 and stored. Rerunning yields byte-identical files (one thread, deterministic algorithms, sorted JSON,
no timestamps). The tolerance each gradient is held to is its reduction length K, computed here and written to
the manifest; README.md derives it.
"""

import json
import math
import os
import platform
import random
import re
import shutil
import sys
import warnings
import zlib

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20261128
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = "fixtures"  # relative to HERE

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
warnings.filterwarnings("ignore", message="Using padding=.same. with even kernel")


def dims(values):
    if isinstance(values, (list, tuple)):
        return "x".join(str(v) for v in values)
    return str(values)


def as_list(v, n):
    return list(v) if isinstance(v, (list, tuple)) else [v] * n


def randn(g, shape, scale=1.0):
    t = torch.randn(shape, generator=g, dtype=torch.float32)
    return t * np.float32(scale) if scale != 1.0 else t


def rand(g, shape, low, high):
    return torch.rand(shape, generator=g, dtype=torch.float32) * np.float32(high - low) + np.float32(low)


# ---------------------------------------------------------------------------------------------------
# Convolution cases: (spatial dims, kwargs). Names spell the parameters as in ../export_fixtures.py.

def conv_cases():
    c = []

    def conv(n, x, w, stride=1, padding=0, dilation=1, groups=1, mode="zeros", bias=True):
        c.append(("conv%dd" % n, dict(x=x, w=w, stride=stride, padding=padding, dilation=dilation,
                                       groups=groups, padding_mode=mode, bias=bias)))

    # --- conv2d ---
    conv(2, [2, 3, 7, 8], [4, 3, 3, 3], padding=1)                                # dense
    conv(2, [2, 6, 9, 10], [4, 3, 4, 3], stride=[3, 2], padding=[2, 1], dilation=[2, 3], groups=2)
    conv(2, [2, 12, 5, 7], [5, 12, 1, 1])                                         # pointwise
    conv(2, [1, 4, 7, 6], [3, 4, 1, 1], stride=2, bias=False)                     # pointwise, strided: skipped rows
    conv(2, [2, 5, 9, 10], [10, 1, 3, 3], padding=1, groups=5)                    # depthwise, multiplier 2
    conv(2, [1, 3, 7, 8], [9, 1, 3, 2], stride=2, padding=[2, 1], dilation=2, groups=3)  # depthwise x3, strided
    conv(2, [1, 4, 6, 5], [4, 1, 3, 3], padding=1, groups=4, bias=False)          # plain depthwise
    conv(2, [3, 9, 6, 7], [6, 3, 3, 3], padding=1, groups=3)                      # grouped
    conv(2, [1, 3, 9, 10], [2, 3, 3, 3], padding=[2, 3], dilation=[2, 3])         # dilated
    conv(2, [1, 2, 10, 11], [3, 2, 2, 2], stride=[3, 4], bias=False)              # stride > kernel: unused rows
    conv(2, [2, 3, 5, 4], [4, 3, 5, 4])                                           # kernel equal to the input
    conv(2, [1, 2, 9, 10], [3, 2, 4, 6], padding="same")                          # even kernel, same: pads (1,2),(2,3)
    conv(2, [1, 2, 9, 10], [3, 2, 4, 2], padding="same", dilation=[2, 3])         # even kernel, dilated
    conv(2, [2, 3, 9, 10], [4, 3, 4, 5], padding="valid")
    conv(2, [6, 9, 10], [4, 6, 4, 5], stride=[2, 3], padding=[1, 2])              # unbatched
    for mode in ("zeros", "reflect", "replicate", "circular"):
        conv(2, [2, 3, 9, 10], [4, 3, 4, 5], stride=[3, 2], padding=[2, 1], dilation=[2, 1], mode=mode)
        conv(2, [1, 4, 7, 6], [4, 2, 4, 2], padding="same", dilation=[1, 3], groups=2, mode=mode)
    conv(2, [1, 4, 5, 6], [8, 1, 3, 3], padding=[1, 2], groups=4, mode="reflect", bias=False)  # depthwise x2, reflect
    conv(2, [2, 2, 3, 4], [3, 2, 2, 3], padding=[3, 4], mode="circular")         # circular padding == size
    conv(2, [1, 2, 3, 4], [3, 2, 3, 3], padding=[2, 3], mode="reflect")          # reflect padding == size - 1
    conv(2, [1, 3, 4, 5], [2, 3, 2, 3], padding=[3, 5], mode="replicate")        # replicate padding > size
    conv(2, [2, 40, 6, 5], [12, 40, 3, 3], padding=1)                             # longer reductions

    # --- conv1d ---
    conv(1, [2, 5, 17], [4, 5, 3], stride=2, padding=1, dilation=3)
    conv(1, [3, 4, 11], [8, 1, 4], stride=3, padding=2, groups=4, bias=False)      # depthwise x2
    conv(1, [2, 3, 9], [4, 3, 4], padding=3, stride=2, mode="reflect")
    conv(1, [1, 2, 8], [2, 1, 6], padding="same", groups=2, mode="circular")
    conv(1, [6, 13], [3, 6, 5], padding=2, dilation=2, mode="replicate")          # unbatched

    # --- conv3d ---
    conv(3, [2, 3, 5, 6, 7], [4, 3, 2, 3, 4], stride=[2, 1, 3], padding=[1, 2, 0], dilation=[1, 2, 1])
    conv(3, [1, 4, 4, 5, 6], [6, 2, 3, 2, 3], padding=1, groups=2, dilation=[2, 1, 1])
    conv(3, [1, 3, 4, 4, 5], [6, 1, 2, 3, 3], stride=[1, 2, 2], padding=[1, 1, 0], groups=3)  # depthwise x2
    conv(3, [1, 2, 4, 5, 6], [3, 2, 2, 3, 3], stride=[1, 2, 1], padding=[1, 2, 3], mode="replicate")
    conv(3, [1, 2, 3, 4, 5], [2, 2, 2, 3, 4], padding="same", mode="circular")

    # --- conv2d sweep, drawn from a fixed seed, keeping only what PyTorch accepts ---
    rng = random.Random(SEED)
    drawn = 0
    while drawn < 12:
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
        pads = same_pads(d, k) if kind == "same" else [(p, p) for p in ([0, 0] if kind == "valid" else as_list(padding, 2))]
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


def same_pads(dilation, kernel):
    """PyTorch's 'same': total d*(k-1), the odd cell after."""
    return [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for di, ki in zip(dilation, kernel)]


def source_index(i, size, mode):
    """The input cell padded coordinate i reads, or -1 for a zero (for counting terms only)."""
    if 0 <= i < size:
        return i
    if mode == "zeros":
        return -1
    if mode == "reflect":
        return -i if i < 0 else 2 * (size - 1) - i
    if mode == "replicate":
        return 0 if i < 0 else size - 1
    return i % size


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
    unbatched = x.dim() == n + 1
    # The module pads with F.pad(padding_mode) then runs a valid convolution; F.convNd has no padding_mode.
    module_type = {1: torch.nn.Conv1d, 2: torch.nn.Conv2d, 3: torch.nn.Conv3d}[n]
    m = module_type(a["x"][-n - 1], w_shape[0], w_shape[2:], bias=a["bias"], padding_mode=a["padding_mode"],
                    **kwargs).double()
    with torch.no_grad():
        m.weight.copy_(w.double())
        if b is not None:
            m.bias.copy_(b.double())
    xd = x.double().requires_grad_(True)
    # PyTorch 1.13's circular F.pad fails on unbatched input (pytorch/pytorch#104860): run a batch of one.
    y = m(xd.unsqueeze(0)).squeeze(0) if unbatched else m(xd)
    batch = 1 if unbatched else a["x"][0]
    positions = batch * math.prod(y.shape[-n:])
    # dL/dy scaled like the weights (1/sqrt of its reduction length) so that dL/dw is O(1), as a forward output is.
    dy = randn(g, list(y.shape), 1.0 / math.sqrt(positions))
    y.backward(dy.double())

    # K of each gradient: the most terms that add into one value.
    stride = as_list(a["stride"], n)
    dil = as_list(a["dilation"], n)
    k = w_shape[2:]
    if a["padding"] == "same":
        pads = same_pads(dil, k)
    else:
        pads = [(p, p) for p in ([0] * n if a["padding"] == "valid" else as_list(a["padding"], n))]
    k_dx = w_shape[0] // a["groups"]
    for axis in range(n):
        size = a["x"][-n + axis]
        out = y.shape[-n + axis]
        hits = [0] * size
        for o in range(out):
            for t in range(k[axis]):
                src = source_index(o * stride[axis] - pads[axis][0] + t * dil[axis], size, a["padding_mode"])
                if src >= 0:
                    hits[src] += 1
        k_dx *= max(max(hits), 1)

    tensors = {"input": x, "weight": w, "grad_output": dy}
    if b is not None:
        tensors["bias"] = b
    grads = {"grad_input": (xd.grad, k_dx), "grad_weight": (m.weight.grad, positions)}
    if b is not None:
        grads["grad_bias"] = (m.bias.grad, positions)
    args = {key: a[key] for key in ("stride", "padding", "dilation", "groups", "padding_mode", "bias")}
    return conv_name(op, a), args, tensors, grads


# ---------------------------------------------------------------------------------------------------
# The other layers of an OSBlock, one at a time, and a whole OSBlock in training mode.

def layer_cases():
    c = []
    c.append(("batch_norm_train", dict(x=[2, 5, 4, 3], eps=1e-5)))
    c.append(("batch_norm_train", dict(x=[3, 4, 7, 1], eps=1e-3)))
    c.append(("relu", dict(x=[2, 3, 4, 5])))
    c.append(("sigmoid", dict(x=[2, 3, 4, 5])))
    c.append(("max_pool2d", dict(x=[2, 3, 9, 10], kernel_size=3, stride=2, padding=1)))   # OSNet's stem pooling
    c.append(("max_pool2d", dict(x=[1, 2, 7, 8], kernel_size=2, stride=1, padding=0)))    # overlapping windows
    c.append(("avg_pool2d", dict(x=[2, 3, 8, 6], kernel_size=2, stride=2, padding=0)))    # OSNet's transitions
    c.append(("avg_pool2d", dict(x=[1, 2, 7, 6], kernel_size=3, stride=2, padding=1)))
    c.append(("adaptive_avg_pool2d", dict(x=[2, 4, 5, 3], output_size=[1, 1])))           # the gate, the head
    c.append(("adaptive_avg_pool2d", dict(x=[1, 2, 7, 5], output_size=[3, 2])))
    c.append(("osblock", dict(x=[2, 32, 8, 4], cin=32, cout=64)))                        # with the 1x1 shortcut
    c.append(("osblock", dict(x=[2, 64, 6, 4], cin=64, cout=64)))                        # identity shortcut
    return c


def load_osnet_module():
    """The OSBlock of ../osnet/export_osnet.py (torchreid's definition), so both exports share one model."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("export_osnet", os.path.join(HERE, "..", "osnet", "export_osnet.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_layer(op, a, g):
    x = randn(g, a["x"], 2.0 if op == "batch_norm_train" else 1.0)
    xd = x.double().requires_grad_(True)
    tensors = {"input": x}
    params = {}
    if op == "batch_norm_train":
        c = a["x"][1]
        gamma = randn(g, [c], 0.5) + np.float32(1.0)
        beta = randn(g, [c], 0.5)
        m = torch.nn.BatchNorm2d(c, eps=a["eps"]).double().train()
        with torch.no_grad():
            m.weight.copy_(gamma.double())
            m.bias.copy_(beta.double())
        y = m(xd)
        tensors.update(weight=gamma, bias=beta)
        params = {"grad_weight": m.weight, "grad_bias": m.bias}
        name = "batchnorm2d_train_x%s_eps%g" % (dims(a["x"]), a["eps"])
        args = {"eps": a["eps"]}
        count = a["x"][0] * math.prod(a["x"][2:])
        k = {"grad_input": count, "grad_weight": count, "grad_bias": count}
    elif op in ("relu", "sigmoid"):
        y = F.relu(xd) if op == "relu" else torch.sigmoid(xd)
        name, args, k = "%s_x%s" % (op, dims(a["x"])), {}, {"grad_input": 1}
    elif op == "max_pool2d":
        kw = {key: a[key] for key in ("kernel_size", "stride", "padding")}
        y = F.max_pool2d(xd, **kw)
        name = "max_pool2d_x%s_k%s_s%s_p%s" % (dims(a["x"]), dims(a["kernel_size"]), dims(a["stride"]), dims(a["padding"]))
        # An input cell collects the gradient of every window it wins: at most ceil(k/s) per axis.
        k = {"grad_input": math.ceil(a["kernel_size"] / a["stride"]) ** 2}
        args = kw
    elif op == "avg_pool2d":
        kw = {key: a[key] for key in ("kernel_size", "stride", "padding")}
        y = F.avg_pool2d(xd, **kw)
        name = "avg_pool2d_x%s_k%s_s%s_p%s" % (dims(a["x"]), dims(a["kernel_size"]), dims(a["stride"]), dims(a["padding"]))
        k = {"grad_input": math.ceil(a["kernel_size"] / a["stride"]) ** 2}
        args = kw
    else:
        y = F.adaptive_avg_pool2d(xd, a["output_size"])
        name = "adaptive_avg_pool2d_x%s_o%s" % (dims(a["x"]), dims(a["output_size"]))
        k = {"grad_input": 4}  # at most two overlapping windows per axis
        args = {"output_size": a["output_size"]}
    dy = randn(g, list(y.shape))
    y.backward(dy.double())
    tensors["grad_output"] = dy
    grads = {"grad_input": (xd.grad, k["grad_input"])}
    for grad_name, p in params.items():
        grads[grad_name] = (p.grad, k[grad_name])
    return name, args, tensors, grads


def build_osblock(a, g):
    osnet = load_osnet_module()
    block = osnet.OSBlock(a["cin"], a["cout"]).double().train()
    x = randn(g, a["x"])
    # Parameters drawn like the forward fixtures: conv weights N(0, 1/fan_in), BN gamma around 1, biases small.
    with torch.no_grad():
        for key, p in sorted(block.named_parameters()):
            if key.endswith("bn.weight"):
                value = randn(g, list(p.shape), 0.5) + np.float32(1.0)
            elif p.dim() == 4:
                value = randn(g, list(p.shape), 1.0 / math.sqrt(p.shape[1] * p.shape[2] * p.shape[3]))
            else:
                value = randn(g, list(p.shape), 0.5)
            p.copy_(value.double())
            p.stored = value
    xd = x.double().requires_grad_(True)
    y = block(xd)
    n, _, h, w = y.shape
    dy = randn(g, list(y.shape), 1.0 / math.sqrt(n * h * w))
    y.backward(dy.double())
    tensors = {"input": x, "grad_output": dy}
    grads = {}
    # K for the whole block: the sum over the deepest path (conv1, four light convs, gate, conv3, shortcut) of each
    # layer's forward and backward reduction lengths, the network form of the rule (Tolerance.cs).
    positions = n * h * w
    mid = a["cout"] // 4
    path = (a["cin"] + positions) + (positions + positions)  # conv1 forward/dW, its BN's two reductions
    path += 4 * (mid + 9 + 2 * positions + positions)       # per light conv: 1x1, depthwise, dW of both, BN
    path += (h * w + mid + mid // 16 + mid) + (mid + 2 * positions)  # gate; conv3 forward and backward, its BN
    path += a["cin"] + 2 * positions                          # shortcut
    for key, p in sorted(block.named_parameters()):
        tensors["param." + key] = p.stored
        grads["grad." + key] = (p.grad, path)
    grads["grad_input"] = (xd.grad, path)
    name = "osblock_train_x%s_in%d_out%d" % (dims(a["x"]), a["cin"], a["cout"])
    return name, {"cin": a["cin"], "cout": a["cout"], "bottleneck_reduction": 4, "gate_reduction": 16, "eps": 1e-5}, tensors, grads


def build(op, a, g):
    if op.startswith("conv"):
        return build_conv(op, a, g)
    if op == "osblock":
        return build_osblock(a, g)
    return build_layer(op, a, g)


# ---------------------------------------------------------------------------------------------------

def save(path, tensor):
    array = np.ascontiguousarray(tensor.detach().numpy().astype("<f4"))
    np.save(path, array, allow_pickle=False)


def all_cases():
    return conv_cases() + layer_cases()


def main():
    out_dir = os.path.join(HERE, FIXTURES)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)  # stale cases must not survive a rename
    os.makedirs(out_dir)

    cases = []
    names = set()
    for op, a in all_cases():
        key = op + json.dumps(a, sort_keys=True)
        seed = (SEED + zlib.crc32(key.encode("utf-8"))) % (2 ** 31)
        g = torch.Generator().manual_seed(seed)
        name, args, tensors, grads = build(op, a, g)
        if name in names:
            sys.exit("duplicate case name " + name)
        names.add(name)
        case_dir = os.path.join(out_dir, name)
        os.makedirs(case_dir)
        inputs = {}
        for tensor_name, t in tensors.items():
            assert t.dtype == torch.float32, (name, tensor_name)
            rel = "%s/%s/%s.npy" % (FIXTURES, name, tensor_name)
            save(os.path.join(HERE, rel), t)
            inputs[tensor_name] = rel
        expected, shapes, lengths = {}, {}, {}
        for grad_name, (t, k) in grads.items():
            assert t is not None and t.dtype == torch.float64, (name, grad_name)
            rel = "%s/%s/%s.npy" % (FIXTURES, name, grad_name)
            save(os.path.join(HERE, rel), t.float())
            expected[grad_name] = rel
            shapes[grad_name] = list(t.shape)
            lengths[grad_name] = int(k)
        cases.append({"name": name, "op": op, "args": args, "seed": seed, "inputs": inputs,
                      "expected": expected, "expected_shape": shapes, "reduction_length": lengths})

    manifest = {
        "format": 1,
        "generator": "reference-weights/gradients/export_gradients.py",
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
        text = json.dumps(manifest, indent=1, sort_keys=True)
        text = re.sub(r"\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]",
                      lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
        f.write(text + "\n")
    print("wrote %d cases to %s" % (len(cases), out_dir))


if __name__ == "__main__":
    main()
