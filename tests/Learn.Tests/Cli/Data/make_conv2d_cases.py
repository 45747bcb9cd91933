"""Exports two conv2d cases computed by PyTorch, for the end-to-end test of `learn conv2d`
(tests/Learn.Tests/Cli/Conv2dCommandTests.cs): the CLI must reproduce PyTorch, not just the library call.

Run with Debian's PyTorch:  /usr/bin/python3 tests/Learn.Tests/Cli/Data/make_conv2d_cases.py
Inputs and weights are float32; PyTorch computes in float64 from those float32 values; the output is stored
as float32. Rerunning yields identical files (fixed seed, deterministic CPU ops).
"""
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))

CASES = {
    # grouped, 'same' with an even kernel and dilation along H only, reflect padding, batch 2
    "grouped_same_reflect": dict(x=(2, 4, 9, 10), w=(6, 2, 4, 5), bias=True, stride=1, padding="same",
                                 dilation=(2, 1), groups=2, padding_mode="reflect"),
    # depthwise with channel multiplier 2, asymmetric stride/padding/dilation, circular padding, no bias
    "depthwise_circular_strided": dict(x=(1, 3, 9, 10), w=(6, 1, 4, 3), bias=False, stride=(3, 2), padding=(2, 1),
                                       dilation=(1, 2), groups=3, padding_mode="circular"),
}


def main():
    torch.manual_seed(20261123)
    for name, c in CASES.items():
        x = torch.rand(c["x"], dtype=torch.float32) * 2 - 1
        w = (torch.rand(c["w"], dtype=torch.float32) * 2 - 1) / np.sqrt(np.prod(c["w"][1:]))
        b = torch.rand(c["w"][0], dtype=torch.float32) * 2 - 1 if c["bias"] else None
        conv = torch.nn.Conv2d(c["x"][1], c["w"][0], c["w"][2:], stride=c["stride"], padding=c["padding"],
                               dilation=c["dilation"], groups=c["groups"], bias=c["bias"],
                               padding_mode=c["padding_mode"]).double()
        with torch.no_grad():
            conv.weight.copy_(w.double())
            if b is not None:
                conv.bias.copy_(b.double())
            y = conv(x.double()).float()
        folder = os.path.join(HERE, name)
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "x.npy"), x.numpy())
        np.save(os.path.join(folder, "w.npy"), w.numpy())
        if b is not None:
            np.save(os.path.join(folder, "b.npy"), b.numpy())
        np.save(os.path.join(folder, "y.npy"), y.numpy())
        print(name, tuple(y.shape), "torch", torch.__version__)


if __name__ == "__main__":
    main()
