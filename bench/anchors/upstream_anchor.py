#!/usr/bin/env python3
"""Upstream anchor: the upstream projects' own modules, with random weights, against longconv.

Families (each module imported from its project's checkout, unchanged):
  ski-tnn     (jonathanmei/ski-tnn, laxtnn/modules): TnoFD, TnoFDNoRPE, SKITno, SKITnoInvTime, Gtu with every tno_type
  tnn-pytorch (Doraemonzzz/tnn-pytorch):             Tno, Gtu, GLU, TnnLayer
  flash-stu   (windsornguyen/flash-stu):             STU, STULayer

For each case it builds the module with random weights (every parameter uniform in [-1, 1); buffers as the
module makes them), saves its state_dict with the constructor arguments as strings in the safetensors
__metadata__ ("layer" names the longconv command, "upstream" the project), saves x (float64) and the module's
float64 output (module.double() on x.double(), torch's default dtype left at float32, so every position or grid
upstream computes in float32 stays float32), then runs `longconv run LAYER` on x in float64 and in float32 and
compares (relative L2: float64 within 1e-12, float32 within 1e-5 of torch's float64 output). With --grads it also
compares longconv's float64 backward (`run ... --gy --grads`) with torch autograd of sum(gy * y): float64 autograd
(within 1e-9), or float32 autograd (within 1e-4) where upstream cannot run in float64.

Where upstream cannot run in float64 the expected output is its float32 one, and only float32 is compared:
SKITno and SKITnoInvTime bidirectional (a float32 container receives float64 values: "Index put requires the
source and destination dtypes match" / grid_sample "expected scalar type Float"). flash-stu's convolve casts to
float32 whatever the model's dtype; for its float64 expectation this script hands stu_utils a view of torch whose
float32 is float64 (the module's code runs unchanged, in float64).

Needs torch and numpy, and the upstream checkouts (--ski-tnn, --tnn-pytorch, --flash-stu: repository roots;
a family whose root is not given is skipped). Their own imports need einops (ski-tnn, tnn-pytorch) and, for
flash-stu, a torch with nn.RMSNorm (2.4 or later), plus importable `flashfftconv` and `transformers` modules
(only names are used on the CPU path); put the packages, or stand-ins, on PYTHONPATH. The package __init__s
of ski-tnn (fairseq) and flash-stu (transformers models) are not run: the module files are loaded directly.

Usage:
  /usr/bin/python3 bench/anchors/upstream_anchor.py --ski-tnn DIR --tnn-pytorch DIR --flash-stu DIR
      [--fixtures OUT]     only write the fixtures (weights, x, expected) into OUT; run nothing
      [--longconv ./longconv] [--work DIR] [--cases a,b] [--grads] [--backend B]
"""
import argparse
import contextlib
import importlib
import logging
import os
import subprocess
import sys
import types

import numpy as np
import torch

logging.disable(logging.INFO)  # upstream modules log every constructor argument


# ------------------------------------------------------------------ loading upstream modules

def bare_package(name, path):
    """Registers a package without running its __init__ (ski-tnn's and flash-stu's import fairseq / transformers models)."""
    m = types.ModuleType(name)
    m.__path__ = [path]
    sys.modules[name] = m


def load_upstreams(args):
    mods = {}
    if args.ski_tnn:
        root = os.path.abspath(args.ski_tnn)
        bare_package("laxtnn", os.path.join(root, "laxtnn"))
        bare_package("laxtnn.modules", os.path.join(root, "laxtnn", "modules"))
        ns = types.SimpleNamespace()
        ns.TnoFD = importlib.import_module("laxtnn.modules.tno_fd").TnoFD
        ns.TnoFDNoRPE = importlib.import_module("laxtnn.modules.tno_fd_norpe").TnoFDNoRPE
        ns.SKITno = importlib.import_module("laxtnn.modules.skitno").SKITno
        ns.SKITnoInvTime = importlib.import_module("laxtnn.modules.skitno_inv_time").SKITnoInvTime
        ns.Gtu = importlib.import_module("laxtnn.modules.gtu").Gtu
        mods["ski-tnn"] = ns
    if args.tnn_pytorch:
        sys.path.insert(0, os.path.abspath(args.tnn_pytorch))
        tp = importlib.import_module("tnn_pytorch")
        mods["tnn-pytorch"] = types.SimpleNamespace(Tno=tp.Tno, Gtu=tp.Gtu, GLU=tp.GLU, TnnLayer=tp.TnnLayer)
    if args.flash_stu:
        root = os.path.abspath(args.flash_stu)
        for pkg in ("flash_stu", "flash_stu.layers", "flash_stu.modules", "flash_stu.utils"):
            bare_package(pkg, os.path.join(root, *pkg.split(".")))
        ns = types.SimpleNamespace()
        ns.stu_utils = importlib.import_module("flash_stu.utils.stu_utils")
        ns.stu_module = importlib.import_module("flash_stu.modules.stu")
        ns.STU = ns.stu_module.STU
        ns.STULayer = importlib.import_module("flash_stu.layers.stu_layer").STULayer
        ns.FlashSTUConfig = importlib.import_module("flash_stu.config").FlashSTUConfig
        ns.nearest_power_of_two = importlib.import_module("flash_stu.utils.numerics").nearest_power_of_two
        mods["flash-stu"] = ns
    return mods


class Float64Torch(types.ModuleType):
    """torch, except that float32 is float64: flash-stu's convolve casts to float32; its float64 run uses this."""

    def __init__(self):
        super().__init__("torch")

    def __getattr__(self, name):
        return torch.float64 if name == "float32" else getattr(torch, name)


# ------------------------------------------------------------------ files

def save_safetensors(path, tensors, metadata):
    try:
        from safetensors.torch import save_file
        save_file({k: v.detach().contiguous() for k, v in tensors.items()}, path, metadata=metadata)
        return
    except ImportError:
        pass
    import json
    import struct
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
    d = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / (d if d > 0 else 1.0))


def randomize(model, seed):
    """Every parameter uniform in [-1, 1), except a fixed decay (requires_grad False) in [0.6, 0.95)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("gamma") and not p.requires_grad:
                p.copy_(0.6 + 0.35 * torch.rand(p.shape, generator=g))
            else:
                p.copy_(2 * torch.rand(p.shape, generator=g) - 1)


def meta_of(hp):
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in hp.items()}


# ------------------------------------------------------------------ cases

def stu_filters(mods, seq_len, k, hankel_l):
    """flash-stu's get_spectral_filters on the CPU: numpy eigh of its own get_hankel, last K columns times sigma^(1/4)."""
    z = mods["flash-stu"].stu_utils.get_hankel(seq_len, hankel_l)
    sigma, phi = np.linalg.eigh(z)
    sigma, phi = sigma[-k:], phi[:, -k:]
    phi = phi * sigma ** 0.25
    return torch.tensor(phi, dtype=torch.float32)


class Case:
    def __init__(self, name, family, layer, batch, length, hp, kind=None, extra=None):
        self.name, self.family, self.layer, self.batch, self.length = name, family, layer, batch, length
        self.hp, self.kind, self.extra = dict(hp), kind or layer, dict(extra or {})

    def build(self, mods):
        """(module, forward(module, x), x shape, metadata, extra tensors to save)."""
        m, hp, e = mods[self.family], self.hp, self.extra
        b, n = self.batch, self.length
        fwd = lambda mod, x: mod(x)
        extra = {}
        if self.kind in ("fd-tno", "fd-tno-norpe"):
            mod = (m.TnoFD if self.kind == "fd-tno" else m.TnoFDNoRPE)(**hp)
            shape = (b, hp["h"], n, hp["dim"])
        elif self.kind in ("ski-tno-rpe", "ski-tno-inv-time"):
            mod = (m.SKITno if self.kind == "ski-tno-rpe" else m.SKITnoInvTime)(**hp)
            shape = (b, n, hp["h"] * hp["dim"])
        elif self.kind == "skitnn-gtu":
            args = types.SimpleNamespace(tno_type=e["tno_type"], rank=e.get("rank"), nk=e.get("nk"))
            mod = m.Gtu(**hp, args=args)
            shape = (b, n, hp["embed_dim"])
        elif self.kind == "tno":
            mod = m.Tno(**hp)
            shape = (b, hp["h"], n, hp["dim"])
            if e.get("normalize"):
                fwd = lambda mod, x: mod(x, normalize=True)
        elif self.kind == "gtu":
            mod = m.Gtu(**hp)
            shape = (b, n, hp["embed_dim"])
        elif self.kind == "glu":
            mod = m.GLU(**hp)
            shape = (b, n, hp["d1"])
        elif self.kind == "tnn-layer":
            mod = m.TnnLayer(**hp)
            shape = (b, n, hp["dim"])
        elif self.kind in ("stu", "stu-layer"):
            cfg = m.FlashSTUConfig(n_embd=hp["n_embd"], num_eigh=hp["num_eigh"], use_hankel_L=hp["use_hankel_L"],
                                   use_approx=hp["use_approx"], use_flash_fft=False, torch_dtype=torch.float32,
                                   bias=hp.get("bias", False), mlp_scale=hp.get("mlp_scale", 12), dropout=0.0)
            cfg.mlp_scale = hp.get("mlp_scale", 12)  # FlashSTUConfig takes mlp_scale but does not keep it; its MLP reads it
            phi = stu_filters(mods, hp["seq_len"], hp["num_eigh"], hp["use_hankel_L"])
            fft_n = m.nearest_power_of_two(hp["seq_len"] * 2 - 1, round_up=True)
            mod = (m.STU if self.kind == "stu" else m.STULayer)(cfg, phi, fft_n)
            shape = (b, n, hp["n_embd"])
            extra["phi" if self.kind == "stu" else "stu.phi"] = phi
        else:
            raise ValueError(self.kind)
        meta = meta_of(hp)
        meta.update(meta_of({k: v for k, v in e.items() if v is not None}))
        meta["layer"] = self.layer
        meta["upstream"] = self.family
        return mod, fwd, shape, meta, extra


def ski_cases():
    c = []
    c.append(Case("skitnn_fd_bidir_h3", "ski-tnn", "fd-tno", 2, 37, dict(h=3, dim=4, rpe_dim=8)))
    c.append(Case("skitnn_fd_causal_h2", "ski-tnn", "fd-tno", 1, 100, dict(h=2, dim=3, rpe_dim=6, causal=True, layers=2)))
    c.append(Case("skitnn_fd_bidir_layernorm_gelu", "ski-tnn", "fd-tno", 2, 53,
                  dict(h=2, dim=2, rpe_dim=5, act="silu", norm_type="layernorm", residual=True, bias=False, layers=1)))
    c.append(Case("skitnn_fd_causal_L1", "ski-tnn", "fd-tno", 3, 1, dict(h=2, dim=2, rpe_dim=4, causal=True, norm_type="rmsnorm")))
    c.append(Case("skitnn_fdnorpe_bidir", "ski-tnn", "fd-tno-norpe", 2, 29, dict(h=2, dim=3, num_freqs=16)))
    c.append(Case("skitnn_fdnorpe_causal", "ski-tnn", "fd-tno-norpe", 1, 101, dict(h=3, dim=2, causal=True, num_freqs=24)))
    c.append(Case("skitnn_fdnorpe_bidir_long", "ski-tnn", "fd-tno-norpe", 1, 131, dict(h=1, dim=4, num_freqs=8)))
    c.append(Case("skitnn_skitno_bidir", "ski-tnn", "ski-tno-rpe", 2, 97, dict(h=2, dim=3, r=8, nk=5, rpe_dim=8)))
    c.append(Case("skitnn_skitno_bidir_h3_even_nk", "ski-tnn", "ski-tno-rpe", 1, 41,
                  dict(h=3, dim=2, r=5, nk=4, rpe_dim=6, gamma=0.99, act_type="elu", layers=1)))
    c.append(Case("skitnn_skitno_causal", "ski-tnn", "ski-tno-rpe", 2, 61, dict(h=2, dim=2, r=6, nk=7, rpe_dim=4, causal=True, gamma=0.95)))
    c.append(Case("skitnn_skitno_causal_rmsnorm", "ski-tnn", "ski-tno-rpe", 1, 47,
                  dict(h=1, dim=3, r=7, nk=3, rpe_dim=5, causal=True, norm_type="rmsnorm", act="silu", act_type="sigmoid")))
    c.append(Case("skitnn_inv_bidir", "ski-tnn", "ski-tno-inv-time", 2, 97, dict(h=2, dim=3, r=8, nk=5)))
    c.append(Case("skitnn_inv_bidir_h3", "ski-tnn", "ski-tno-inv-time", 1, 53, dict(h=3, dim=2, r=5, nk=3, gamma=0.9)))
    c.append(Case("skitnn_inv_causal", "ski-tnn", "ski-tno-inv-time", 2, 61, dict(h=2, dim=2, r=6, nk=7, causal=True, gamma=0.97)))
    c.append(Case("skitnn_inv_causal_r9", "ski-tnn", "ski-tno-inv-time", 1, 43, dict(h=1, dim=3, r=9, nk=5, causal=True)))
    gtu = dict(embed_dim=6, num_heads=2, rpe_embedding=8, rpe_layers=1, expand_ratio=2)
    c.append(Case("skitnn_gtu_tno", "ski-tnn", "gtu", 2, 31, gtu, kind="skitnn-gtu", extra=dict(tno_type="tno")))
    c.append(Case("skitnn_gtu_tno_fd", "ski-tnn", "gtu", 2, 37, dict(gtu, causal=True), kind="skitnn-gtu", extra=dict(tno_type="tno_fd")))
    c.append(Case("skitnn_gtu_tno_fd_norpe", "ski-tnn", "gtu", 1, 43, dict(gtu, use_norm=True), kind="skitnn-gtu",
                  extra=dict(tno_type="tno_fd_norpe")))
    c.append(Case("skitnn_gtu_skitno", "ski-tnn", "gtu", 2, 59, gtu, kind="skitnn-gtu", extra=dict(tno_type="skitno", rank=6, nk=5)))
    c.append(Case("skitnn_gtu_skitno_causal", "ski-tnn", "gtu", 1, 41, dict(gtu, causal=True, act_fun="gelu"), kind="skitnn-gtu",
                  extra=dict(tno_type="skitno", rank=5, nk=3)))
    c.append(Case("skitnn_gtu_skitno_inv_time", "ski-tnn", "gtu", 2, 47, gtu, kind="skitnn-gtu",
                  extra=dict(tno_type="skitno_inv_time", rank=7, nk=5)))
    c.append(Case("skitnn_gtu_skitno_inv_time_causal", "ski-tnn", "gtu", 1, 53, dict(gtu, causal=True, use_norm=True), kind="skitnn-gtu",
                  extra=dict(tno_type="skitno_inv_time", rank=6, nk=3)))
    return c


def tnn_pytorch_cases():
    c = []
    c.append(Case("tnnpt_tno_bidir_h3", "tnn-pytorch", "tno", 2, 41, dict(h=3, dim=2, rpe_dim=8)))
    c.append(Case("tnnpt_tno_causal_decay_par2", "tnn-pytorch", "tno", 1, 67,
                  dict(h=2, dim=3, rpe_dim=6, causal=True, use_decay=True, gamma=0.9, par_type=2, layers=2)))
    # par_type 3 is left out: its positions exp(j/(L-1)) are float32 values from torch's vectorized expf (within 1 ulp,
    # not always correctly rounded), so float64 agreement there is about 2e-10 (float32 is unaffected).
    c.append(Case("tnnpt_gtu_multi_decay", "tnn-pytorch", "gtu", 2, 29,
                  dict(embed_dim=6, num_heads=3, use_multi_decay=True, rpe_embedding=8, rpe_layers=1, expand_ratio=2)))
    c.append(Case("tnnpt_glu_silu", "tnn-pytorch", "glu", 2, 13, dict(d1=6, d2=10, act_fun="silu")))
    c.append(Case("tnnpt_glu_gelu_nobias", "tnn-pytorch", "glu", 1, 7, dict(d1=5, d2=7, act_fun="gelu", bias=False)))
    c.append(Case("tnnpt_tnn_layer_prenorm", "tnn-pytorch", "tnn-layer", 2, 31,
                  dict(dim=6, num_heads=2, rpe_embedding=8, glu_dim=10, expand_ratio=2, rpe_layers=1)))
    c.append(Case("tnnpt_tnn_layer_postnorm_causal", "tnn-pytorch", "tnn-layer", 1, 43,
                  dict(dim=4, num_heads=2, rpe_embedding=6, glu_dim=8, prenorm=False, causal=True, norm_type="layernorm",
                       use_decay=True, gamma=0.9, glu_act="gelu", rpe_layers=2)))
    c.append(Case("tnnpt_tnn_layer_rmsnorm_h3", "tnn-pytorch", "tnn-layer", 2, 19,
                  dict(dim=6, num_heads=3, rpe_embedding=4, glu_dim=6, norm_type="rmsnorm", gtu_act="relu", expand_ratio=1)))
    return c


def flash_stu_cases():
    c = []
    c.append(Case("flashstu_stu_approx", "flash-stu", "stu", 2, 61,
                  dict(n_embd=8, num_eigh=6, use_hankel_L=False, use_approx=True, seq_len=61)))
    c.append(Case("flashstu_stu_exact_hankel_L", "flash-stu", "stu", 1, 37,
                  dict(n_embd=5, num_eigh=4, use_hankel_L=True, use_approx=False, seq_len=37)))
    c.append(Case("flashstu_layer_approx", "flash-stu", "stu-layer", 2, 53,
                  dict(n_embd=8, num_eigh=6, use_hankel_L=False, use_approx=True, seq_len=53, mlp_scale=3)))
    c.append(Case("flashstu_layer_exact_bias", "flash-stu", "stu-layer", 1, 29,
                  dict(n_embd=6, num_eigh=5, use_hankel_L=False, use_approx=False, seq_len=29, mlp_scale=2, bias=True)))
    c.append(Case("flashstu_layer_approx_hankel_L_short", "flash-stu", "stu-layer", 2, 17,
                  dict(n_embd=4, num_eigh=3, use_hankel_L=True, use_approx=True, seq_len=23, mlp_scale=4)))
    return c


CASES = ski_cases() + tnn_pytorch_cases() + flash_stu_cases()


# ------------------------------------------------------------------ running

@contextlib.contextmanager
def float64_run(case, mods, m64):
    """flash-stu's float64 run: its convolve sees float32 as float64 and its phi (a plain attribute) is made float64."""
    if case.family != "flash-stu":
        yield
        return
    utils = mods["flash-stu"].stu_utils
    saved = utils.torch
    utils.torch = Float64Torch()
    for mod in m64.modules():
        if isinstance(getattr(mod, "phi", None), torch.Tensor):
            mod.phi = mod.phi.double()
    try:
        yield
    finally:
        utils.torch = saved
        for mod in m64.modules():
            if isinstance(getattr(mod, "phi", None), torch.Tensor):
                mod.phi = mod.phi.float()


def forward64(case, mods, model, fwd, x):
    """model.double() on x.double(); None where upstream cannot run in float64."""
    m64 = model.double()
    try:
        with float64_run(case, mods, m64), torch.no_grad():
            return fwd(m64, x.double())
    except RuntimeError as e:
        print(f"  {case.name}: upstream does not run in float64 ({str(e).splitlines()[0][:90]}); float32 only")
        return None


def run_case(args, mods, case, seed):
    torch.manual_seed(seed)
    model, fwd, shape, meta, extra = case.build(mods)
    randomize(model, seed)
    x = torch.randn(*shape)
    with torch.no_grad():
        y32 = fwd(model, x).detach().numpy()
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    sd.update(extra)
    y64 = forward64(case, mods, model, fwd, x)
    expected = y64.detach().numpy() if y64 is not None else y32
    os.makedirs(args.out, exist_ok=True)
    base = os.path.join(args.out, case.name)
    save_safetensors(base + ".safetensors", sd, meta)
    np.save(base + "_x.npy", x.double().numpy())
    np.save(base + "_expected.npy", expected)
    if args.fixtures:
        return None
    results = {"f32 torch vs f64": rel_l2(y32, expected) if y64 is not None else float("nan")}
    for dt in ("float64", "float32"):
        if dt == "float64" and y64 is None:
            continue
        xin = base + ("_x.npy" if dt == "float64" else "_x32.npy")
        if dt == "float32":
            np.save(xin, x.numpy())
        out = base + "_y_" + dt + ".npy"
        cmd = [args.longconv, "run", case.layer, "--x", xin, "--weights", base + ".safetensors", "--out", out]
        if args.backend:
            cmd += ["--backend", args.backend]
        subprocess.run(cmd, check=True)
        results[dt] = rel_l2(np.load(out).astype(np.float64), expected.astype(np.float64))
    if args.grads:
        results["grads" if y64 is not None else "grads f32"] = compare_grads(args, mods, case, model, fwd, x, base, y64 is not None)
    return results


def compare_grads(args, mods, case, model, fwd, x, base, float64=True):
    """Worst relative L2 of longconv's float64 backward against torch autograd (dx and every parameter), in float64,
    or in float32 where upstream cannot run in float64."""
    m64 = model.double() if float64 else model.float()
    xd = (x.double() if float64 else x.float()).requires_grad_(True)
    with float64_run(case, mods, m64) if float64 else contextlib.nullcontext():
        y = fwd(m64, xd)
    gy = torch.randn(y.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(7)).to(y.dtype)
    params = [(n, p) for n, p in m64.named_parameters() if p.requires_grad]
    with float64_run(case, mods, m64) if float64 else contextlib.nullcontext():
        grads = torch.autograd.grad((y * gy).sum(), [xd] + [p for _, p in params], allow_unused=True)
    np.save(base + "_gy.npy", gy.double().numpy())
    gdir = base + "_grads"
    os.makedirs(gdir, exist_ok=True)
    cmd = [args.longconv, "run", case.layer, "--x", base + "_x.npy", "--weights", base + ".safetensors", "--out", base + "_y_g.npy",
           "--gy", base + "_gy.npy", "--grads", gdir]
    subprocess.run(cmd, check=True)
    pairs = [(np.load(os.path.join(gdir, "dx.npy")), grads[0].double().numpy())]
    for (n, _), g in zip(params, grads[1:]):
        mine = np.load(os.path.join(gdir, n + ".npy"))
        pairs.append((mine, np.zeros(mine.shape) if g is None else g.double().numpy()))
    # Relative L2 per gradient, against at least 1e-6 of the largest gradient's norm: a gradient that is zero in exact
    # arithmetic (e.g. the output bias of an encoder whose scale `normalize` divides out) is rounding noise on both sides.
    floor = 1e-6 * max(np.linalg.norm(r) for _, r in pairs)
    return max(float(np.linalg.norm(m - r) / max(np.linalg.norm(r), floor)) for m, r in pairs)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ski-tnn", dest="ski_tnn")
    p.add_argument("--tnn-pytorch", dest="tnn_pytorch")
    p.add_argument("--flash-stu", dest="flash_stu")
    p.add_argument("--longconv", default="./longconv")
    p.add_argument("--work", default="target/upstream-anchor")
    p.add_argument("--fixtures", metavar="OUT", help="only write the fixtures into OUT")
    p.add_argument("--cases", help="comma-separated case names (default: all of the families given)")
    p.add_argument("--grads", action="store_true", help="also compare gradients with torch autograd (float64)")
    p.add_argument("--backend")
    args = p.parse_args()
    args.out = args.fixtures or args.work
    mods = load_upstreams(args)
    print(f"torch {torch.__version__}; families: {', '.join(mods) or 'none (give --ski-tnn, --tnn-pytorch or --flash-stu)'}")
    if not args.fixtures:
        print("| case | L | longconv f64 vs torch f64 | longconv f32 vs torch f64 | torch f32 vs f64 | grads vs autograd f64 | grads vs autograd f32 |")
        print("|---|---|---|---|---|---|---|")
    worst64 = worst32 = worstg = worstg32 = 0.0
    for i, case in enumerate(CASES):
        if case.family not in mods or (args.cases and case.name not in args.cases.split(",")):
            continue
        r = run_case(args, mods, case, 1000 + i)
        if r is None:
            continue
        worst64 = max(worst64, r.get("float64", 0.0))
        worst32 = max(worst32, r["float32"])
        worstg = max(worstg, r.get("grads", 0.0))
        fmt = lambda k: f"{r[k]:.2e}" if k in r and r[k] == r[k] else "-"
        worstg32 = max(worstg32, r.get("grads f32", 0.0))
        print(f"| {case.name} | {case.length} | {fmt('float64')} | {fmt('float32')} | {fmt('f32 torch vs f64')} | {fmt('grads')} | {fmt('grads f32')} |")
    if args.fixtures:
        print("fixtures written to", args.fixtures)
        return
    print(f"worst: float64 {worst64:.2e} (limit 1e-12), float32 {worst32:.2e} (limit 1e-5), gradients {worstg:.2e} (float64, limit 1e-9)"
          f" and {worstg32:.2e} (against float32 autograd, limit 1e-4)")
    sys.exit(0 if worst64 <= 1e-12 and worst32 <= 1e-5 and worstg <= 1e-9 and worstg32 <= 1e-4 else 1)


if __name__ == "__main__":
    main()
