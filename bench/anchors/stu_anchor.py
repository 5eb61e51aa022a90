#!/usr/bin/env python3
"""STU anchor: flash-stu's forward pass in PyTorch, written from its published definition, against longconv.

For each case it builds an STU with random weights, saves the module's state_dict (plus __metadata__) as
safetensors, saves x, runs `longconv run stu --x --weights --out` and compares. The torch side follows
flash-stu: Hankel filters from torch.linalg.eigh in float64 (last K columns, times sigma^(1/4)), convolution
through torch.fft at n = the power of two >= 2L-1, float32. flash-stu leaves the eigenvectors' signs to
LAPACK; longconv fixes each column's largest-magnitude entry positive, so this script applies that rule too
(a sign flip of phi_k changes the output in exact mode, where M_phi is not flipped with it).

Filters whose eigenvalue is below about 1e-13 of the largest are rounding noise in any float64 solver (two
LAPACK drivers disagree there too), so cases with computed filters keep K where the spectrum is resolved:
K=16 at L=257; K=24 from L ~ 2048 on. Models trained elsewhere should carry their filters ("phi").

Also times the torch CPU forward at the JMH shapes (B=1, D=256, K=24, L in 1024, 8192) with --time.

Usage: python3 bench/anchors/stu_anchor.py [--longconv ./longconv] [--work DIR] [--time]
Needs torch (Debian: apt-get install python3-torch) and numpy. safetensors is used when importable;
otherwise the file is written here byte for byte as the format specifies.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch

from anchor_timing import add_thread_args, allocation_note, best_and_median, jmh_result, pin_threads


def get_hankel(seq_len, use_hankel_L=False):
    entries = torch.arange(1, seq_len + 1, dtype=torch.float64)
    s = entries[:, None] + entries[None, :]
    if use_hankel_L:
        return ((-1.0) ** (s - 2.0) + 1.0) * 8.0 / ((s + 3.0) * (s - 1.0) * (s + 1.0))
    return 2.0 / (s ** 3 - s)


def spectral_filters(seq_len, k, use_hankel_L=False):
    sigma, phi = torch.linalg.eigh(get_hankel(seq_len, use_hankel_L))
    sigma_k, phi_k = sigma[-k:], phi[:, -k:] * sigma[-k:] ** 0.25
    idx = phi_k.abs().argmax(dim=0)
    signs = torch.sign(phi_k[idx, torch.arange(k)])
    return phi_k * signs


def nearest_power_of_2(x):
    return 1 << (x - 1).bit_length()


def convolve(u, v, n, use_approx):
    """flash-stu's convolve: the plus and minus branches through one rfft/irfft."""
    bsz, seq_len, d_in = u.shape
    sgn = torch.ones((1, seq_len, 1), dtype=u.dtype)
    sgn[:, 1::2] *= -1
    if use_approx:
        _, d_out = v.shape
        v = v.view(1, -1, d_out, 1)
    else:
        _, k = v.shape
        sgn = sgn.unsqueeze(-1)
        v = v.view(1, -1, k, 1, 1)
        u = u.view(bsz, -1, 1, d_in).expand(bsz, -1, k, d_in)
    v = torch.fft.rfft(v, n=n, dim=1)
    U = torch.stack([u, u * sgn], dim=-1)
    U = torch.fft.rfft(U, n=n, dim=1)
    U_conv = torch.fft.irfft(v * U, n=n, dim=1)[:, :seq_len]
    U_plus, U_minus = torch.unbind(U_conv, dim=-1)
    return U_plus, U_minus * sgn


class STU(torch.nn.Module):
    def __init__(self, d, k, phi, n, use_approx, use_hankel_L):
        super().__init__()
        self.phi, self.n, self.use_approx, self.use_hankel_L = phi, n, use_approx, use_hankel_L
        if use_approx:
            self.M_inputs = torch.nn.Parameter(torch.randn(d, d) / d ** 0.5)
            self.M_filters = torch.nn.Parameter(torch.randn(k, d) / k ** 0.5)
        else:
            self.M_phi_plus = torch.nn.Parameter(torch.randn(k, d, d) / (k * d) ** 0.5)
            if not use_hankel_L:
                self.M_phi_minus = torch.nn.Parameter(torch.randn(k, d, d) / (k * d) ** 0.5)

    def forward(self, x):
        phi = self.phi.to(x.dtype)
        if self.use_approx:
            plus, minus = convolve(x @ self.M_inputs.to(x.dtype), phi @ self.M_filters.to(x.dtype), self.n, True)
        else:
            U_plus, U_minus = convolve(x, phi, self.n, False)
            plus = torch.tensordot(U_plus, self.M_phi_plus.to(x.dtype), dims=([2, 3], [0, 1]))
            minus = None if self.use_hankel_L else torch.tensordot(U_minus, self.M_phi_minus.to(x.dtype), dims=([2, 3], [0, 1]))
        return plus if self.use_hankel_L else plus + minus


def save_safetensors(path, tensors, metadata):
    try:
        from safetensors.torch import save_file
        save_file({k: v.detach().contiguous() for k, v in tensors.items()}, path, metadata=metadata)
        return
    except ImportError:
        pass
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        arr = tensors[name].detach().contiguous().numpy()
        dtype = {np.float32: "F32", np.float64: "F64"}[arr.dtype.type]
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def run_case(args, name, b, seq_len, d, k, use_approx, use_hankel_L, store_phi, seed):
    torch.manual_seed(seed)
    phi = spectral_filters(seq_len, k, use_hankel_L)
    model = STU(d, k, phi, nearest_power_of_2(2 * seq_len - 1), use_approx, use_hankel_L)
    x = torch.randn(b, seq_len, d)
    with torch.no_grad():
        y32 = model(x).numpy()
        y64 = model(x.double()).numpy()
    tensors = dict(model.state_dict())
    if store_phi:
        tensors["phi"] = phi.float()
    meta = {"seq_len": str(seq_len), "num_eigh": str(k), "use_approx": str(use_approx).lower(),
            "use_hankel_L": str(use_hankel_L).lower()}
    base = os.path.join(args.work, name)
    save_safetensors(base + ".safetensors", tensors, meta)
    np.save(base + "_x.npy", x.numpy())
    np.save(base + "_expected.npy", y64)
    if args.fixtures:
        return None
    out = base + "_y.npy"
    cmd = [args.longconv, "run", "stu", "--x", base + "_x.npy", "--weights", base + ".safetensors", "--out", out]
    if args.backend:
        cmd += ["--backend", args.backend]
    subprocess.run(cmd, check=True)
    y = np.load(out)
    return rel_l2(y, y32), rel_l2(y, y64), rel_l2(y32, y64)


def time_torch(use_approx, seq_len, d=256, k=24, reps=5):
    """The least and the median time in ms of reps STU forwards at [1, seq_len, d], after one warm-up call, and the
    cores they kept busy (anchor_timing.best_and_median)."""
    torch.manual_seed(0)
    phi = spectral_filters(seq_len, k)
    model = STU(d, k, phi, nearest_power_of_2(2 * seq_len - 1), use_approx, False)
    return best_and_median(model, torch.randn(1, seq_len, d), reps, warmup=1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--longconv", default="./longconv")
    p.add_argument("--work", default="target/stu-anchor")
    p.add_argument("--backend")
    p.add_argument("--time", action="store_true", help="also time torch's CPU forward at the JMH shapes")
    p.add_argument("--time-json", metavar="FILE",
                   help="with --time: also write torch's times as JMH-format JSON (benchmark torch.StuBench.forward, "
                        "params length, mode, backend=torch) for `longconv chart`")
    p.add_argument("--time-only", action="store_true", help="with --time: time torch only, skip the accuracy cases")
    add_thread_args(p)
    p.add_argument("--cases", help="comma-separated case names to run (default: all)")
    p.add_argument("--fixtures", action="store_true",
                   help="only write the small test fixtures (weights, x, torch's float64 y) into --work; run nothing")
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cases = [
        ("approx_hankel", 2, 257, 16, 16, True, False, False),
        ("approx_hankel_K24", 1, 2048, 16, 24, True, False, False),
        ("approx_hankel_L", 2, 300, 16, 24, True, True, False),
        ("exact_hankel", 1, 129, 8, 8, False, False, False),
        ("exact_hankel_L", 1, 200, 8, 8, False, True, False),
        ("approx_phi_given", 3, 1000, 32, 24, True, False, True),
        ("exact_phi_given", 2, 97, 6, 5, False, False, True),
    ]
    if args.fixtures:
        small = [("stu_approx", 2, 37, 4, 6, True, False, False), ("stu_approx_hankel_L", 1, 20, 3, 4, True, True, False),
                 ("stu_exact", 2, 23, 3, 5, False, False, False), ("stu_exact_phi", 1, 16, 2, 3, False, False, True)]
        for i, (name, b, seq_len, d, k, approx, hl, store) in enumerate(small):
            run_case(args, name, b, seq_len, d, k, approx, hl, store, 99 + i)
        print("fixtures written to", args.work)
        return
    worst = 0.0
    print(f"torch {torch.__version__}; relative L2 of longconv's float32 output against torch float32 and float64")
    print("| case | B | L | D | K | vs torch f32 | vs torch f64 | torch f32 vs f64 |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (name, b, seq_len, d, k, approx, hl, store) in enumerate(cases):
        if args.time_only or (args.cases and name not in args.cases.split(",")):
            continue
        e32, e64, t = run_case(args, name, b, seq_len, d, k, approx, hl, store, 1234 + i)
        worst = max(worst, e64)
        print(f"| {name} | {b} | {seq_len} | {d} | {k} | {e32:.2e} | {e64:.2e} | {t:.2e} |")
    if args.time:
        print("\ntorch CPU forward, B=1 D=256 K=24, best and median of 5 (exact: of 2) (%s)"
              % pin_threads(args.threads, args.blas_threads))
        print("  " + allocation_note())
        results = []
        for mode in (True, False):
            for seq_len in (1024, 8192):
                ms, median, cores = time_torch(mode, seq_len, reps=5 if mode else 2)  # exact at L=8192 takes ~17 s a call
                print(f"  {'approx' if mode else 'exact'} L={seq_len}: best {ms:.1f} ms, median {median:.1f} ms (cores busy {cores:.2f})")
                results.append(jmh_result("torch.StuBench.forward", {"length": str(seq_len), "mode": "approx" if mode else "exact",
                                                                     "backend": "torch"}, ms))
        if args.time_json:
            with open(args.time_json, "w") as f:
                json.dump(results, f, indent=1)
    print(f"worst error against torch float64: {worst:.2e} (limit 1e-5)")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()
