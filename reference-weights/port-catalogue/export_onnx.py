#!/usr/bin/python3
"""ONNX exports of OSNet x0_25 for `learn diff-onnx`: one correct, and a few with porting bugs from the catalogue.

    /usr/bin/python3 reference-weights/port-catalogue/export_onnx.py     # a few seconds, rewrites ./onnx

The network and weights are ../osnet/export_osnet.py's (generator seed 20191027, num_classes 16: the weights of
../osnet/osnet_x0_25.pth), in float32, exported by torch.onnx (opset 13, constant folding on, so every BatchNorm is
folded into the conv before it, as users' exports are) at input [1, 3, 64, 32] with a dynamic batch axis, except
where the case says otherwise. The cases (manifest.json: which layer `learn diff-onnx` must name):
  correct             the model as it is
  bn_eps_stem         conv1.bn eps 1e-3 instead of 1e-5 (folded into conv1's conv: named at the fused boundary conv1.bn)
  hard_sigmoid        hard sigmoid for conv3.1's gate sigmoid
  reflect_padding     reflect instead of zero padding in conv2.1.conv2d.2.conv2 (depthwise; folded with its bn)
  baked_batch         x.view(1, -1) for flatten: the Reshape has batch size 1 baked in (batch 2 fails)
and two bad inputs: not_osnet.onnx, a small conv net whose node scopes name no OSNet module, and renamed_node.onnx,
the correct export with one node's scope renamed (conv1x: a module OSNet does not have), which must be reported as
a mapping gap, not guessed.
To keep the committed files small the weights are stored once, in osnet_x0_25.weights (ONNX external data); an
export whose tensor differs from the correct one (the folded eps bug) keeps that tensor inline.
Deterministic: seeded weights, one thread, fixed opset.
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "onnx")
sys.path.insert(0, os.path.join(HERE, "..", "osnet"))
import export_osnet as ref  # noqa: E402

torch.set_num_threads(1)
VARIANT = "osnet_x0_25"
INPUT_SHAPE = (1, 3, 64, 32)
WEIGHTS = "osnet_x0_25.weights"


def set_child(model, path, module):
    parent, name = path.rsplit(".", 1)
    setattr(model.get_submodule(parent), name, module)


def baked_batch(model):
    """The feature flattened with view(1, -1), a fixed shape: the export's Reshape bakes batch size 1 in."""
    def forward(x):
        for name in ("conv1", "maxpool", "conv2", "conv3", "conv4", "conv5", "global_avgpool"):
            x = getattr(model, name)(x)
        return model.fc(x.view(1, -1))
    model.forward = forward


CASES = {
    "correct": (None, None, "the model as it is"),
    "bn_eps_stem": ("conv1.bn", lambda m: setattr(m.get_submodule("conv1.bn"), "eps", 1e-3),
                    "BatchNorm eps 1e-3 instead of 1e-5 (folded into the stem conv: named at the fused boundary)"),
    "hard_sigmoid": ("conv3.1.gate.gate_activation", lambda m: set_child(m, "conv3.1.gate.gate_activation", nn.Hardsigmoid()),
                     "hard sigmoid for the gate's sigmoid"),
    "reflect_padding": ("conv2.1.conv2d.2.bn", lambda m: setattr(m.get_submodule("conv2.1.conv2d.2.conv2"), "padding_mode", "reflect"),
                        "reflect instead of zero padding in a depthwise conv (folded with its bn: named at the fused boundary)"),
    "baked_batch": (None, baked_batch, "view(1, -1) for flatten: batch 1 passes, batch 2 fails"),
}


def export(model, path):
    x = torch.from_numpy(ref.generated_input("port-catalogue/input", INPUT_SHAPE)).float()
    torch.onnx.export(model, x, path, opset_version=13, do_constant_folding=True, input_names=["input"],
                      output_names=["feature"], dynamic_axes={"input": {0: "batch"}, "feature": {0: "batch"}})


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    shared = {}  # raw bytes of a tensor of the correct export -> (offset, length) in WEIGHTS
    manifest = dict(script="reference-weights/port-catalogue/export_onnx.py", torch=torch.__version__, onnx=onnx.__version__,
                    variant=VARIANT, weights="../osnet/osnet_x0_25.pth", input="../input.npy", opset=13, cases={})
    for name, (layer, change, what) in CASES.items():
        model = ref.build(VARIANT).float().eval()
        if change is not None:
            with torch.no_grad():
                change(model)
        path = os.path.join(OUT, name + ".onnx")
        export(model, path)
        proto = onnx.load(path)
        if name == "correct":
            with open(os.path.join(OUT, WEIGHTS), "wb") as w:
                for t in proto.graph.initializer:
                    raw = numpy_helper.to_array(t).tobytes()
                    if len(raw) >= 1024 and raw not in shared:
                        shared[raw] = (w.tell(), len(raw))
                        w.write(raw)
        for t in proto.graph.initializer:
            raw = numpy_helper.to_array(t).tobytes()
            if raw in shared:
                offset, length = shared[raw]
                t.ClearField("raw_data")
                for field in ("float_data", "int64_data", "int32_data", "double_data"):
                    t.ClearField(field)
                t.data_location = onnx.TensorProto.EXTERNAL
                del t.external_data[:]
                for key, value in (("location", WEIGHTS), ("offset", str(offset)), ("length", str(length))):
                    entry = t.external_data.add()
                    entry.key, entry.value = key, value
        onnx.save(proto, path)
        onnx.checker.check_model(path)
        manifest["cases"][name] = dict(expected_layer=layer, what=what, batch2_fails=name == "baked_batch")
        print(f"{name}: {os.path.getsize(path)} bytes")
    renamed = onnx.load(os.path.join(OUT, "correct.onnx"), load_external_data=False)
    for node in renamed.graph.node:
        if node.name == "/conv2/conv2.0/conv1/conv/Conv":
            node.name = "/conv2/conv2.0/conv1x/conv/Conv"
    onnx.save(renamed, os.path.join(OUT, "renamed_node.onnx"))
    torch.manual_seed(0)
    other = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
    export(other, os.path.join(OUT, "not_osnet.onnx"))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
