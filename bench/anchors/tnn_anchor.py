#!/usr/bin/env python3
"""TNN anchor: tnn-pytorch's Tno and Gtu forward in PyTorch, written from their published definitions, against longconv.

For each case it builds a module with random weights whose state_dict keys are tnn-pytorch's (rpe.pos_proj.*,
rpe.layers.i.0.*, rpe.layers.i.2.*, rpe.out.0.*, rpe.out.2.*, gamma; Gtu: v_proj.*, u_proj.*, o.*, toep.*, norm.*),
saves the state_dict with its hyperparameters (the upstream constructor argument names, as strings) in the
safetensors __metadata__, saves x and torch's float64 output, then (unless --fixtures) runs
`longconv run <tno|gtu> --x --weights --out` and compares.

The definitions followed (tnn-pytorch, Doraemonzzz/tnn-pytorch):
  Rpe: Linear(1, rpe_dim); `layers` blocks [norm, act, Linear(rpe_dim, rpe_dim)] (+ input when residual);
       [norm, act, Linear(rpe_dim, h*dim)].
  Tno: coefficients at lags 0, 1..n-1 and (bidirectional) -(n-1)..-1, positions j (par_type 1) or j/(n-1)
       (par_type 2, float32); optional decay gamma^|j| (use_decay: stored gamma; use_multi_decay:
       lambda + (1-lambda) sigmoid(gamma)); act_type on the coefficients; the Toeplitz product as a
       circular convolution of size 2n through torch.fft; causal pads the negative lags with zeros;
       normalize divides by the product with ones.
  Gtu: u = act(u_proj x), v = act(v_proj x); v split 'b n (h d) -> b h n d'; y = o(norm(u * tno(v))).
  Norms: simplermsnorm x/(|x|/sqrt(d) + 1e-8); rmsnorm scale*...; gatedrmsnorm scale*...*sigmoid(gate*x); scalenorm scala*x/sqrt(mean x^2 + 1e-5);
         layernorm (nn.LayerNorm, eps 1e-5). Activations: F.relu, F.silu, F.gelu (erf), ...

Checked against tnn-pytorch itself (its Tno/Gtu loaded with these state_dicts, float64): every case agrees to
<= 2e-15 relative L2, with identical state_dict keys, except tno_L1, which upstream cannot run (get_pos(0) fails
to reshape an empty tensor); longconv extends it naturally (y = a0 * x).

Usage: /usr/bin/python3 bench/anchors/tnn_anchor.py [--longconv ./longconv] [--work DIR] [--fixtures]
Needs torch (Debian: apt-get install python3-torch; its python is /usr/bin/python3) and numpy. safetensors
is used when importable; otherwise the file is written here byte for byte as the format specifies.
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from anchor_timing import add_thread_args, allocation_note, best_and_median, jmh_result, pin_threads


# ------------------------------------------------------------------ activations and norms

def activation(name):
    elu = F.elu
    table = {
        "relu": F.relu, "silu": F.silu, "gelu": F.gelu, "elu": elu, "sigmoid": torch.sigmoid, "exp": torch.exp,
        "leak": F.leaky_relu, "1+elu": lambda x: 1 + elu(x), "2+elu": lambda x: 2 + elu(x),
    }
    return table.get(name, lambda x: x)


class SimpleRMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.d = d

    def forward(self, x):
        rms = x.norm(2, dim=-1, keepdim=True) * self.d ** -0.5
        return x / (rms + 1e-8)


class RMSNorm(SimpleRMSNorm):
    def __init__(self, d):
        super().__init__(d)
        self.scale = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.scale * super().forward(x)


class GatedRMSNorm(RMSNorm):
    def __init__(self, d):
        super().__init__(d)
        self.gate = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return super().forward(x) * torch.sigmoid(self.gate * x)


class ScaleNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.scala = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + 1e-5) * self.scala


def norm(norm_type, d):
    return {"simplermsnorm": SimpleRMSNorm, "rmsnorm": RMSNorm, "gatedrmsnorm": GatedRMSNorm, "scalenorm": ScaleNorm}.get(norm_type, nn.LayerNorm)(d)


# ------------------------------------------------------------------ Rpe, Tno, Gtu

class Rpe(nn.Module):
    def __init__(self, dim, outdim, residual, act="relu", bias=True, layers=3, norm_type="simplermsnorm"):
        super().__init__()
        self.residual = residual
        self.pos_proj = nn.Linear(1, dim, bias=bias)

        def block(out):
            return nn.Sequential(norm(norm_type, dim), Act(act), nn.Linear(dim, out, bias=bias))

        self.layers = nn.ModuleList([block(dim) for _ in range(layers)])
        self.out = block(outdim)

    def forward(self, pos):
        h = self.pos_proj(pos)
        for m in self.layers:
            h = m(h) + h if self.residual else m(h)
        return self.out(h)


class Act(nn.Module):
    def __init__(self, name):
        super().__init__()
        self.f = activation(name)

    def forward(self, x):
        return self.f(x)


class Tno(nn.Module):
    def __init__(self, h, dim, rpe_dim, causal=False, use_decay=False, use_multi_decay=False, residual=False, act="relu",
                 par_type=1, gamma=0.999, bias=True, act_type="none", layers=3, norm_type="simplermsnorm"):
        super().__init__()
        self.h, self.dim, self.causal, self.par_type = h, dim, causal, par_type
        self.use_decay, self.use_multi_decay, self.lambda_ = use_decay, use_multi_decay, gamma
        if use_decay:
            self.gamma = nn.Parameter(torch.ones(h, 1, dim) * gamma, requires_grad=False)
        if use_multi_decay:
            self.gamma = nn.Parameter(torch.randn(h, 1, dim))
        self.rpe = Rpe(rpe_dim, h * dim, residual, act, bias, layers, norm_type)
        self.act_fun = activation(act_type)

    def coefficients(self, lags, n, like):
        """rpe at the positions of the given lags (float32 positions, as upstream), [h, len(lags), dim], decayed."""
        j = torch.tensor(lags, dtype=torch.float32).reshape(-1, 1)
        pos = j if self.par_type == 1 else (j / max(n - 1, 1) if self.par_type == 2 else torch.exp(j / max(n - 1, 1)))
        a = self.rpe(pos.to(like)).reshape(len(lags), self.h, self.dim).permute(1, 0, 2)
        if self.use_decay or self.use_multi_decay:
            g = self.gamma if self.use_decay else self.lambda_ + (1 - self.lambda_) * torch.sigmoid(self.gamma)
            a = a * g ** torch.tensor([abs(k) for k in lags], dtype=like.dtype).reshape(1, -1, 1)
        return a

    def forward(self, x, normalize=False):
        n = x.shape[-2]
        # Circular kernel of size 2n: index k holds lag k for k < n, lag k - 2n for k > n; index n is never used.
        a = self.act_fun(self.coefficients(list(range(n)), n, x))
        zeros = torch.zeros(self.h, n + 1, self.dim, dtype=x.dtype)
        if self.causal:
            kernel = torch.cat([a, zeros], dim=1)
        else:
            neg = self.act_fun(self.coefficients(list(range(-(n - 1), 0)), n, x))
            kernel = torch.cat([a, zeros[:, :1], neg], dim=1)
        y = self.apply_kernel(x, kernel, n)
        if normalize:
            y = y / self.apply_kernel(torch.ones(x.shape[:-1] + (1,), dtype=x.dtype), kernel, n)
        return y

    @staticmethod
    def apply_kernel(x, kernel, n):
        spec = torch.fft.rfft(x, 2 * n, dim=-2) * torch.fft.rfft(kernel, 2 * n, dim=-2).unsqueeze(0)
        return torch.fft.irfft(spec, 2 * n, dim=-2)[:, :, :n, :]


class Gtu(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True, act_fun="silu", causal=False, expand_ratio=3, use_norm=False,
                 norm_type="simplermsnorm", use_decay=False, use_multi_decay=False, rpe_layers=3, rpe_embedding=512,
                 rpe_act="relu", normalize=False, par_type=1, residual=False, gamma=0.99, act_type="none"):
        super().__init__()
        d1 = int(expand_ratio * embed_dim) // num_heads * num_heads
        self.num_heads, self.normalize, self.use_norm = num_heads, normalize, use_norm
        self.v_proj = nn.Linear(embed_dim, d1, bias=bias)
        self.u_proj = nn.Linear(embed_dim, d1, bias=bias)
        self.o = nn.Linear(d1, embed_dim, bias=bias)
        self.act = activation(act_fun)
        self.toep = Tno(num_heads, d1 // num_heads, rpe_embedding, causal, use_decay, use_multi_decay, residual, rpe_act,
                        par_type, gamma, bias, act_type, rpe_layers, norm_type)
        if use_norm:
            self.norm = norm(norm_type, d1)

    def forward(self, x):
        b, n, _ = x.shape
        u = self.act(self.u_proj(x))
        v = self.act(self.v_proj(x)).reshape(b, n, self.num_heads, -1).transpose(1, 2)
        t = self.toep(v, normalize=self.normalize).transpose(1, 2).reshape(b, n, -1)
        p = u * t
        return self.o(self.norm(p) if self.use_norm else p)


# ------------------------------------------------------------------ files

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
        code = {np.float32: "F32", np.float64: "F64"}[arr.dtype.type]
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def randomize(model, seed):
    """Every parameter uniform in [-1, 1), except a fixed decay in [0.6, 0.95), so the cases exercise every weight."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma") and not p.requires_grad:
                p.copy_(0.6 + 0.35 * torch.rand(p.shape, generator=g))
            else:
                p.copy_(2 * torch.rand(p.shape, generator=g) - 1)


# (name, layer, batch, length, hyperparameters); Tno's x is [B, h, L, dim], Gtu's [B, L, embed_dim].
CASES = [
    ("tno_bidir", "tno", 2, 37, dict(h=2, dim=4, rpe_dim=8)),
    ("tno_causal_decay", "tno", 1, 101, dict(h=3, dim=2, rpe_dim=16, causal=True, use_decay=True, gamma=0.9, layers=2)),
    ("tno_multi_decay_gelu_layernorm", "tno", 2, 64, dict(h=1, dim=5, rpe_dim=6, use_multi_decay=True, act="gelu",
                                                          norm_type="layernorm", residual=True, act_type="exp")),
    ("tno_causal_normalize_par2", "tno", 1, 50, dict(h=2, dim=3, rpe_dim=4, causal=True, par_type=2, act="silu",
                                                     norm_type="rmsnorm", act_type="sigmoid", normalize=True)),
    ("tno_L1", "tno", 3, 1, dict(h=2, dim=2, rpe_dim=4, norm_type="scalenorm")),
    ("gtu_default", "gtu", 2, 40, dict(embed_dim=8, num_heads=2, rpe_embedding=16)),
    ("gtu_causal_norm_decay", "gtu", 1, 97, dict(embed_dim=6, num_heads=3, causal=True, use_norm=True, use_decay=True,
                                                 expand_ratio=2, rpe_layers=1, rpe_embedding=8)),
    # Without biases the encoder maps position 0 to exactly 0, so a causal output's first token is 0 up to rounding:
    # no output norm here, which would blow that rounding up to O(1).
    ("gtu_nobias_multi_decay", "gtu", 2, 31, dict(embed_dim=4, num_heads=2, use_multi_decay=True, act_fun="gelu",
                                                  rpe_layers=2, rpe_embedding=8, bias=False, norm_type="gatedrmsnorm")),
]


def run_case(args, name, layer, b, seq_len, hp, seed):
    torch.manual_seed(seed)
    hp = dict(hp)
    normalize = hp.pop("normalize", False) if layer == "tno" else hp.get("normalize", False)
    model = Tno(**hp) if layer == "tno" else Gtu(**hp)
    randomize(model, seed)
    shape = (b, hp["h"], seq_len, hp["dim"]) if layer == "tno" else (b, seq_len, hp["embed_dim"])
    x = torch.randn(*shape)
    with torch.no_grad():
        call = (lambda m, v: m(v, normalize=normalize)) if layer == "tno" else (lambda m, v: m(v))
        y32 = call(model, x).numpy()
        y64 = call(model.double(), x.double()).numpy()
        model.float()
    meta = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in hp.items()}
    if layer == "tno":
        meta["normalize"] = str(normalize).lower()
    meta["layer"] = layer
    base = os.path.join(args.work, name)
    save_safetensors(base + ".safetensors", dict(model.state_dict()), meta)
    np.save(base + "_x.npy", x.numpy())
    np.save(base + "_expected.npy", y64)
    if args.fixtures:
        return None
    out = base + "_y.npy"
    cmd = [args.longconv, "run", layer, "--x", base + "_x.npy", "--weights", base + ".safetensors", "--out", out]
    if args.backend:
        cmd += ["--backend", args.backend]
    subprocess.run(cmd, check=True)
    y = np.load(out)
    return rel_l2(y, y32), rel_l2(y, y64), rel_l2(y32, y64)


def time_torch(reps=9, json_file=None, threads=1, blas=None):
    setting = pin_threads(threads, blas)
    print("torch %s CPU Tno forward, B=1 H=1 dim=256 rpe_dim=64, float32, best and median of %d (%s)"
          % (torch.__version__, reps, setting))
    print("  " + allocation_note())
    results = []
    for causal in (False, True):
        for seq_len in (1024, 8192):
            torch.manual_seed(0)
            model = Tno(1, 256, 64, causal=causal)
            ms, median, cores = best_and_median(model, torch.randn(1, 1, seq_len, 256), reps, warmup=1)
            print(f"  {'causal' if causal else 'bidirectional'} L={seq_len}: best {ms:.1f} ms, median {median:.1f} ms"
                  f" (cores busy {cores:.2f})")
            results.append(jmh_result("torch.TnoBench.forward", {"length": str(seq_len), "causal": "true" if causal else "false",
                                                                 "backend": "torch"}, ms))
    if json_file:
        import json
        with open(json_file, "w") as f:
            json.dump(results, f, indent=1)


def time_small(reps=50, settings=((1, 1), (1, 2), (2, 2))):
    """torch's forward at ServingBench's shapes under each (torch threads, OpenBLAS threads) setting (pin_threads; one
    intra-op thread with OpenBLAS on both cores is what Debian's torch does by itself on a 2-core machine): the best
    and the median of reps calls after 3 (set them beside ServingBench's -bm sample p0.00 and p0.50, run with
    -Dlongconv.threads at the same core count), and the cores the calls kept busy."""
    print("torch %s CPU forward at ServingBench's shapes, float32, best and median of %d" % (torch.__version__, reps))
    print("  " + allocation_note())
    for n, blas in settings:
        print("  " + pin_threads(n, blas))
        label = f"threads={n}/{blas}"
        torch.manual_seed(0)
        gtu = Gtu(32, 2)  # tnn-pytorch's defaults: expand_ratio 3, rpe_embedding 512, rpe_layers 3, SiLU
        best, median, cores = best_and_median(gtu, torch.randn(1, 512, 32), reps, 3)
        print(f"  {label} Gtu B=1 L=512 E=32 heads=2 (defaults): best {best:.3f} ms, median {median:.3f} ms"
              f" (cores busy {cores:.2f})")
        for causal in (False, True):
            tno = Tno(2, 16, 32, causal=causal)
            name = "causal" if causal else "bidirectional"
            best, median, cores = best_and_median(tno, torch.randn(1, 2, 1024, 16), reps, 3)
            print(f"  {label} Tno {name} B=1 H=2 L=1024 dim=16 rpe_dim=32: best {best:.3f} ms, median {median:.3f} ms"
                  f" (cores busy {cores:.2f})")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--longconv", default="./longconv")
    p.add_argument("--work", default="target/tnn-anchor")
    p.add_argument("--backend")
    p.add_argument("--cases", help="comma-separated case names to run (default: all)")
    p.add_argument("--fixtures", action="store_true",
                   help="only write weights, x and torch's float64 y into --work; run nothing")
    p.add_argument("--time-json", metavar="FILE",
                   help="with --time: also write the times as JMH-format JSON (torch.TnoBench.forward) for `longconv chart`")
    p.add_argument("--time", action="store_true",
                   help="only time torch's CPU Tno forward at the JMH shapes (B=1 H=1 dim=256 rpe_dim=64, L 1024 and 8192)")
    add_thread_args(p)
    p.add_argument("--time-small", action="store_true",
                   help="only time torch's CPU Gtu and Tno forward at ServingBench's shapes (B=1 L=512 E=32; H=2 L=1024 dim=16)")
    args = p.parse_args()
    if args.time_small:
        time_small()
        return
    if args.time:
        time_torch(json_file=args.time_json, threads=args.threads, blas=args.blas_threads)
        return
    os.makedirs(args.work, exist_ok=True)
    worst = 0.0
    if not args.fixtures:
        print(f"torch {torch.__version__}; relative L2 of longconv's float32 output against torch float32 and float64")
        print("| case | B | L | vs torch f32 | vs torch f64 | torch f32 vs f64 |")
        print("|---|---|---|---|---|---|")
    for i, (name, layer, b, seq_len, hp) in enumerate(CASES):
        if args.cases and name not in args.cases.split(","):
            continue
        r = run_case(args, name, layer, b, seq_len, hp, 4321 + i)
        if r is None:
            continue
        e32, e64, t = r
        worst = max(worst, e64)
        print(f"| {name} | {b} | {seq_len} | {e32:.2e} | {e64:.2e} | {t:.2e} |")
    if args.fixtures:
        print("fixtures written to", args.work)
        return
    print(f"worst error against torch float64: {worst:.2e} (limit 1e-5)")
    sys.exit(0 if worst <= 1e-5 else 1)


if __name__ == "__main__":
    main()
