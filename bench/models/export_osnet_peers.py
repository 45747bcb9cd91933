"""Writes the OSNet models the benchmark's peers run (run with /usr/bin/python3; PyTorch 1.13).

For each variant in VARIANTS, into bench/models/out/ (gitignored; x1_0 is ~9 MB per file):
  <variant>.pth          the state_dict (float32) that Learn loads with Checkpoint.Load
  <variant>.ts.pt        TorchScript, torch.jit.trace of the eval model on a [1, 3, 256, 128] input (libtorch peer)
  <variant>.onnx         torch.onnx.export, opset 13, same input shape (ONNX Runtime peer)
  <variant>.b8.onnx      the same for a batch of 8 ([8, 3, 256, 128]; fixed shapes, as ONNX Runtime runs best)
  input.npy              the [1, 3, 256, 128] input every peer runs on
  <variant>.out.npy      PyTorch's float32 output on it, for the record
The weights are the fixtures' generated weights (export_osnet.generated), so every peer and Learn run the
same model. BatchNorm is left unfolded in both exports: ONNX Runtime folds it itself (ORT_ENABLE_ALL);
libtorch runs the traced graph as it is, as a TorchSharp user would.
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "reference-weights", "osnet"))
import export_osnet as fx  # noqa: E402  the fixture script: the model and the weight generator

VARIANTS = ["osnet_x0_25", "osnet_x1_0"]
OUT = os.path.join(HERE, "out")


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    x_np = fx.generated_input(key="bench-input", shape=(1, 3, fx.HEIGHT, fx.WIDTH)).astype(np.float32)
    np.save(os.path.join(OUT, "input.npy"), x_np)
    x = torch.from_numpy(x_np)
    for variant in VARIANTS:
        model = fx.build(variant).float().eval()
        torch.save(model.state_dict(), os.path.join(OUT, f"{variant}.pth"))
        with torch.no_grad():
            y = model(x)
            traced = torch.jit.trace(model, x)
            traced.save(os.path.join(OUT, f"{variant}.ts.pt"))
            torch.onnx.export(model, x, os.path.join(OUT, f"{variant}.onnx"), opset_version=13,
                              input_names=["input"], output_names=["feature"], do_constant_folding=True)
            torch.onnx.export(model, x.repeat(8, 1, 1, 1), os.path.join(OUT, f"{variant}.b8.onnx"), opset_version=13,
                              input_names=["input"], output_names=["feature"], do_constant_folding=True)
        np.save(os.path.join(OUT, f"{variant}.out.npy"), y.numpy())
        print(f"{variant}: wrote .pth, .ts.pt, .onnx, .b8.onnx; output {tuple(y.shape)}")


if __name__ == "__main__":
    main()
