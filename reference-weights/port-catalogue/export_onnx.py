#!/usr/bin/python3
"""ONNX exports of the port catalogue for `learn diff-onnx`: every bug of make_catalogue.py, and the correct ports
an export can differ in, exported by torch.onnx.

    /usr/bin/python3 reference-weights/port-catalogue/export_onnx.py     # about a minute, rewrites ./onnx

Each case of ../port-catalogue/make_catalogue.py (same variant, same change, same weights and gains) is exported by
torch.onnx (opset 13, constant folding on) at input [1, 3, 64, 32] with a dynamic batch axis:
  osnet_x0_25  as users export (training=EVAL): every BatchNorm folded into the conv before it, so a bug in the conv
               or its BatchNorm is named at the fused boundary, under the BatchNorm's name (the mapping rule:
               a conv followed by a BatchNorm in its module is named as that BatchNorm).
  osnet_x1_0   with training=PRESERVE: BatchNorm stays a node of its own, so the raw checkpoint tensors are the
               initializers and the weights file can be rebuilt from the seeded generator (below).
What an export cannot differ in is not exported: float32 eager, channels_last, float64 cast and BN folded are one
and the same ONNX graph (the correct export); x0_25_bgr_input_undumped is the same export as x0_25_bgr_input.
BGR input is a preprocessing bug: the network is right and its input is wrong. It is exported the one way a graph
can carry it, the channel swap baked in before the network (x[:, [2, 1, 0]] at the root scope), and is named at
`input` (the value conv1 reads, compared with the reference's image).
Extra cases: x0_25_baked_batch (view(1, -1) for flatten: batch 1 passes, batch 2 fails at the Reshape), and three
bad inputs: not_osnet.onnx (a small conv net), renamed_node.onnx (one node's scope renamed to a module OSNet does not
have: a mapping gap, not guessed) and unscoped.onnx (the correct export with node names as old exporters wrote them,
Conv_0 ...: refused, named).

Size: the weights are stored once per variant as ONNX external data (offset, length); a tensor a bug changes stays
inline in its graph. osnet_x0_25.weights (the folded tensors) is committed. osnet_x1_0.weights (8.7 MB) is not: it
is the generator's state_dict tensors (../osnet/export_osnet.py, FixtureWeights in C#) concatenated in the order the
manifest lists, and the manifest records its SHA-256; the tests write it with OSNetFixtureWeights and check the hash
before using it. This script writes it to a temporary folder only to check the exports.
Deterministic: seeded weights, one thread, fixed opset; rerun gives the same bytes.
"""
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "onnx")
sys.path.insert(0, os.path.join(HERE, "..", "osnet"))
sys.path.insert(0, HERE)
import export_osnet as ref  # noqa: E402
import make_catalogue as cat  # noqa: E402  (the cases: variant, change, gains, expected layer)

torch.set_num_threads(1)
INPUT_SHAPE = (1, 3, 64, 32)
FOLDED = {"osnet_x0_25": True, "osnet_x1_0": False}
COMMITTED_WEIGHTS = {"osnet_x0_25": True, "osnet_x1_0": False}
# Correct ports whose export is the correct export itself (the graph cannot tell them apart): not exported.
SAME_GRAPH = {"x0_25_channels_last", "x0_25_float64_cast", "x0_25_bn_folded", "x0_25_bgr_input_undumped"}


def weights_name(variant):
    return variant + ".weights"


def baked_batch(model):
    """The feature flattened with view(1, -1), a fixed shape: the export's Reshape bakes batch size 1 in."""
    def forward(x):
        for name in ("conv1", "maxpool", "conv2", "conv3", "conv4", "conv5", "global_avgpool"):
            x = getattr(model, name)(x)
        return model.fc(x.view(1, -1))
    model.forward = forward


def bgr(model):
    """The preprocessing's channel swap baked into the graph, before the network (root scope)."""
    network = model.forward

    def forward(x):
        return network(x[:, [2, 1, 0]])
    model.forward = forward


def fused_name(model, layer):
    """Where a folded export names `layer`: a conv followed by a BatchNorm in its module is the BatchNorm's output."""
    if layer is None or layer == "input" or "." not in layer:
        return layer
    parent_name, child = layer.rsplit(".", 1)
    children = list(model.get_submodule(parent_name).named_children())
    for (name, module), (next_name, next_module) in zip(children, children[1:]):
        if name == child and isinstance(module, nn.Conv2d) and isinstance(next_module, nn.BatchNorm2d):
            return f"{parent_name}.{next_name}"
    return layer


def make_model(spec):
    """The catalogue's port as a model (make_catalogue.main's steps), in float32."""
    model = cat.model_of(spec["variant"], spec["gains"])
    change = spec["change"]
    if isinstance(change, str) and change.startswith("fold_var:"):
        cat.fold_bn(model, change.split(":", 1)[1], use_var_not_std=True)
    elif change is not None and change != "fold_all":
        with torch.no_grad():
            change(model)
    return model


def export(model, path, folded):
    x = torch.from_numpy(ref.generated_input("port-catalogue/input", INPUT_SHAPE)).float()
    training = torch.onnx.TrainingMode.EVAL if folded else torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model, x, path, opset_version=13, do_constant_folding=True, input_names=["input"],
                      output_names=["feature"], dynamic_axes={"input": {0: "batch"}, "feature": {0: "batch"}},
                      training=training)


def externalize(proto, shared, location):
    """Every initializer whose bytes are in `shared` (bytes -> (offset, length)) becomes external data; returns inline bytes."""
    inline = 0
    for t in proto.graph.initializer:
        raw = numpy_helper.to_array(t).tobytes()
        if raw in shared:
            offset, length = shared[raw]
            for field in ("raw_data", "float_data", "int64_data", "int32_data", "double_data"):
                t.ClearField(field)
            t.data_location = onnx.TensorProto.EXTERNAL
            del t.external_data[:]
            for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
        else:
            inline += len(raw)
    return inline


def shared_weights(variant, folder):
    """Writes `variant`.weights into `folder`; returns (bytes -> (offset, length), its manifest entry)."""
    shared, keys = {}, []
    path = os.path.join(folder, weights_name(variant))
    if FOLDED[variant]:
        # The folded tensors of the correct export (no generator makes them: committed).
        scratch = os.path.join(folder, "correct-scratch.onnx")
        export(make_model(cat.CASES[prefix(variant) + "_eager_float32"]), scratch, True)
        tensors = [(t.name, numpy_helper.to_array(t).tobytes()) for t in onnx.load(scratch).graph.initializer]
        os.remove(scratch)
    else:
        # The generator's raw state_dict tensors, in state_dict order: OSNetFixtureWeights writes the same.
        model = cat.model_of(variant)
        tensors = [(k, v.detach().numpy().astype(np.float32).tobytes()) for k, v in model.state_dict().items()
                   if v.dtype == torch.float32]
    with open(path, "wb") as w:
        for name, raw in tensors:
            if len(raw) >= 64 and raw not in shared:
                shared[raw] = (w.tell(), len(raw))
                keys.append(name)
                w.write(raw)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    entry = dict(file=weights_name(variant), bytes=os.path.getsize(path), sha256=digest,
                 committed=COMMITTED_WEIGHTS[variant])
    if not COMMITTED_WEIGHTS[variant]:
        entry["keys"] = keys  # state_dict keys, in file order, each written whole as float32 little-endian
        entry["writer"] = "OSNetFixtureWeights.For(model, variant, seed), these keys in this order"
    return shared, entry


def prefix(variant):
    return variant[len("osnet_"):]


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    check = tempfile.mkdtemp(prefix="export-onnx-")  # where the uncommitted weights live while the exports are checked
    try:
        manifest = dict(script="reference-weights/port-catalogue/export_onnx.py", torch=torch.__version__,
                        onnx=onnx.__version__, input="../input.npy", opset=13, seed=ref.SEED,
                        num_classes=ref.NUM_CLASSES, weights={}, cases={})
        shared = {}
        for variant in FOLDED:
            folder = OUT if COMMITTED_WEIGHTS[variant] else check
            shared[variant], manifest["weights"][variant] = shared_weights(variant, folder)
            if folder == OUT:
                shutil.copy(os.path.join(OUT, weights_name(variant)), check)
        cases = [(name, spec, None) for name, spec in cat.CASES.items() if name not in SAME_GRAPH]
        cases.append(("x0_25_baked_batch", cat.case("osnet_x0_25", None, "view(1, -1) for flatten: batch 1 passes, batch 2 fails"), baked_batch))
        for name, spec, extra in cases:
            variant = spec["variant"]
            model = make_model(spec)
            if spec["bgr"]:
                bgr(model)
            if extra is not None:
                extra(model)
            folded = FOLDED[variant]
            expected = "input" if spec["bgr"] else fused_name(model, spec["layer"]) if folded else spec["layer"]
            path = os.path.join(OUT, name + ".onnx")
            export(model, path, folded)
            proto = onnx.load(path)
            inline = externalize(proto, shared[variant], weights_name(variant))
            onnx.save(proto, path)
            shutil.copy(path, check)
            onnx.checker.check_model(os.path.join(check, name + ".onnx"))
            manifest["cases"][name] = dict(
                variant=variant, expected_layer=expected, catalogue_layer=spec["layer"], what=spec["what"],
                gains=spec["gains"] or {}, bn_folded=folded, batch2_fails=extra is baked_batch)
            print(f"{name}: {os.path.getsize(path)} bytes ({inline} inline tensor bytes), expected {expected}")
        correct = os.path.join(OUT, "x0_25_eager_float32.onnx")
        renamed = onnx.load(correct, load_external_data=False)
        for node in renamed.graph.node:
            if node.name == "/conv2/conv2.0/conv1/conv/Conv":
                node.name = "/conv2/conv2.0/conv1x/conv/Conv"
        onnx.save(renamed, os.path.join(OUT, "renamed_node.onnx"))
        unscoped = onnx.load(correct, load_external_data=False)
        for i, node in enumerate(unscoped.graph.node):
            node.name = f"{node.op_type}_{i}"  # what torch.onnx before 1.13 wrote
        onnx.save(unscoped, os.path.join(OUT, "unscoped.onnx"))
        torch.manual_seed(0)
        other = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
        export(other, os.path.join(OUT, "not_osnet.onnx"), True)
        with open(os.path.join(OUT, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.write("\n")
    finally:
        shutil.rmtree(check)


if __name__ == "__main__":
    main()
