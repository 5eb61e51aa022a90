#!/usr/bin/env python3
"""Writes linspace_f32.npy: torch.linspace(start, end, steps) in float32 (the default dtype) for the cases listed in
TorchFloat32Test, concatenated. Run with the torch the fixtures of the layers came from (Debian's 1.13, AVX2 build):
/usr/bin/python3 ops/src/test/resources/torch/make_torch_fixtures.py"""
import os

import numpy as np
import torch

CASES = [(0.0, np.pi, s) for s in (2, 3, 17, 25, 51, 63, 100, 129, 257, 513, 1025, 4097)] \
    + [(0.0, float(n), n) for n in (7, 50, 97, 1000)] + [(0.0, 1.0, r) for r in (5, 33)]

if __name__ == "__main__":
    vals = np.concatenate([torch.linspace(a, b, c).numpy() for a, b, c in CASES]).astype(np.float32)
    np.save(os.path.join(os.path.dirname(os.path.abspath(__file__)), "linspace_f32.npy"), vals)
    print(torch.__version__, torch.__config__.show().split("CPU capability usage:")[1].split()[0], len(vals))
