#!/usr/bin/env python3
"""Export a flash-stu model for longconv: its weights, the spectral filters it was trained with (phi), its config as metadata.

flash-stu computes its filters at model construction (get_spectral_filters: numpy's eigh of the Hankel matrix, the
last K columns times sigma^(1/4), cast to the model's dtype) and does not save them in its checkpoints. Eigenvector
signs are whatever LAPACK returns, so a model run with other filters (longconv computes its own, with fixed signs) is
wrong in every column whose sign differs. This script writes the filters next to the weights, as `phi` (whole model)
or `stu.phi` (one STULayer), so that longconv uses them.

Compute phi where the model was trained, or with the same numpy/LAPACK build (signs follow LAPACK): this script does
what get_spectral_filters does, on the CPU. If you kept the filters the model used (model.phi), pass them with --phi.

Usage:
  python3 bench/anchors/export_flash_stu.py --weights model_19000.safetensors --config config.json --out model.longconv.safetensors
  python3 bench/anchors/export_flash_stu.py --weights model.safetensors --config config.json --layer 0 --out layer0.safetensors
      (one STULayer: names relative to the layer, for `longconv run stu-layer`; --module stu for the STU alone)

--weights takes a safetensors file (flash-stu's save_checkpoint; read here, bfloat16 widened to float32) or a torch .pt
state_dict; --config a JSON config (training/config.json) or flash-stu's other_checkpoints_*.pt (its "config"). Needs
numpy, and torch for .pt files and bfloat16 filters; safetensors is used to write when importable, else the file is
written here as the format specifies.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

CONFIG_KEYS = ("n_embd", "num_eigh", "use_hankel_L", "use_approx", "seq_len", "mlp_scale", "bias", "torch_dtype")


def get_hankel(seq_len, use_hankel_L):
    """flash-stu's get_hankel (float64)."""
    entries = np.arange(1, seq_len + 1, dtype=np.float64)
    s = entries[:, None] + entries[None, :]
    if use_hankel_L:
        return ((-1.0) ** (s - 2.0) + 1.0) * (8.0 / ((s + 3.0) * (s - 1.0) * (s + 1.0)))
    return 2.0 / (s ** 3 - s)


def spectral_filters(seq_len, k, use_hankel_L, dtype):
    """What get_spectral_filters computes, on the CPU: the last K eigenvectors of eigh times sigma^(1/4), in the model's dtype."""
    sigma, phi = np.linalg.eigh(get_hankel(seq_len, use_hankel_L))
    sigma, phi = sigma[-k:], phi[:, -k:]
    phi = phi * sigma ** 0.25
    if dtype in ("bfloat16", "float16"):
        import torch
        return torch.tensor(phi, dtype=getattr(torch, dtype)).float().numpy()
    return phi.astype(np.float32 if dtype == "float32" else np.float64)


def load_config(path):
    if path.endswith(".json"):
        with open(path) as f:
            return json.load(f)
    import torch
    c = torch.load(path, map_location="cpu", weights_only=False)["config"]
    out = {k: getattr(c, k) for k in CONFIG_KEYS if hasattr(c, k)}
    if "mlp_scale" not in out and hasattr(c, "intermediate_size"):
        out["mlp_scale"] = c.intermediate_size // c.n_embd
    if "torch_dtype" in out:
        out["torch_dtype"] = str(out["torch_dtype"]).replace("torch.", "")
    return out


def read_safetensors(path):
    """name -> numpy array from a safetensors file; F16 and BF16 are widened to float32."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        lo, hi = info["data_offsets"]
        raw, shape = data[lo:hi], info["shape"]
        dt = info["dtype"]
        if dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif dt in ("F16", "F32", "F64"):
            arr = np.frombuffer(raw, dtype={"F16": "<f2", "F32": "<f4", "F64": "<f8"}[dt]).astype(np.float32 if dt == "F16" else None)
        else:
            raise SystemExit(f"export_flash_stu: tensor {name} has dtype {dt}; expected a floating type")
        out[name] = arr.reshape(shape)
    return out


def load_weights(path):
    """name -> numpy array (bfloat16 and float16 widened to float32)."""
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    import torch
    sd = torch.load(path, map_location="cpu", weights_only=True)
    sd = sd.get("model", sd)
    return {k: (v.float() if v.dtype in (torch.bfloat16, torch.float16) else v).numpy() for k, v in sd.items()}


def save(path, tensors, metadata):
    try:
        from safetensors.numpy import save_file
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, path, metadata=metadata)
        return
    except ImportError:
        pass
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name])
        code = {np.float32: "F32", np.float64: "F64"}[arr.dtype.type]
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weights", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--layer", type=int, help="export layers.N only (an STULayer), with names relative to it")
    p.add_argument("--module", choices=("stu-layer", "stu"), default="stu-layer", help="with --layer: the whole block or its STU")
    p.add_argument("--phi", help="the filters the model used ([L, K] .npy or a torch tensor .pt), instead of computing them")
    args = p.parse_args()

    cfg = load_config(args.config)
    missing = [k for k in ("seq_len", "num_eigh", "n_embd") if k not in cfg]
    if missing:
        sys.exit(f"export_flash_stu: the config lacks {missing}")
    dtype = str(cfg.get("torch_dtype", "bfloat16")).replace("torch.", "")
    if args.phi:
        if args.phi.endswith(".npy"):
            phi = np.load(args.phi)
        else:
            import torch
            phi = torch.load(args.phi, map_location="cpu").float().numpy()
        source = "given: " + os.path.basename(args.phi)
    else:
        phi = spectral_filters(int(cfg["seq_len"]), int(cfg["num_eigh"]), bool(cfg.get("use_hankel_L", False)), dtype)
        source = f"numpy {np.__version__} eigh, cast to {dtype}, as flash-stu's get_spectral_filters"
    weights = load_weights(args.weights)

    meta = {k: (str(cfg[k]).lower() if isinstance(cfg[k], bool) else str(cfg[k])) for k in CONFIG_KEYS if k in cfg}
    meta.update({"upstream": "flash-stu", "phi_source": source})
    if args.layer is None:
        tensors = dict(weights)
        tensors["phi"] = phi.astype(np.float32)
    else:
        prefix = f"layers.{args.layer}." + ("stu." if args.module == "stu" else "")
        tensors = {k[len(prefix):]: v for k, v in weights.items() if k.startswith(prefix)}
        if not tensors:
            sys.exit(f"export_flash_stu: no tensors under '{prefix}' (is layer {args.layer} an STU layer?)")
        tensors["phi" if args.module == "stu" else "stu.phi"] = phi.astype(np.float32)
        meta["layer"] = args.module
    save(args.out, tensors, meta)
    print(f"wrote {args.out}: {len(tensors)} tensors, phi {phi.shape} ({source})")


if __name__ == "__main__":
    main()
