"""Writes the safetensors fixtures for SafetensorsTest with the reference `safetensors` library.

Run from this directory: python3 make_fixtures.py   (needs numpy and safetensors; tested with
safetensors 0.8.0 and numpy 2.4).

The files are written by the library's own serializer (safetensors.numpy.save_file and, for bfloat16,
which numpy lacks, safetensors.serialize_file over raw bfloat16 bits), so their layout is the library's.
torch is not needed: safetensors.torch.save_file hands the same dtype, shape and bytes to the same
serializer.

Expected values are stated independently of the Java reader:
  reference.<name>.npy  the values each loadable tensor must read as (float32 for F32/F16/BF16, widened
                        by numpy; float64 for F64)
  reference.json        names in file order (read back with the json module), dtypes, shapes, metadata

Reruns reproduce every file except for the order of the two metadata entries in reference.safetensors,
which the library writes in hash order.
"""
import json
import struct

import numpy as np
import safetensors
import safetensors.numpy

rng = np.random.default_rng(20261122)


def f32_to_bf16_bits(x):
    """Round-to-nearest-even float32 -> bfloat16 bits, as torch's .to(torch.bfloat16) does (NaN kept NaN)."""
    u = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(x, dtype=np.float32))
    rounded[nan] = (u[nan] >> 16) | 0x40  # keep it a (quiet) NaN
    return rounded.astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def header_of(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n).decode("utf-8"))


# ---------------------------------------------------------------- reference.safetensors
half_specials = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -24, -(2.0 ** -24), 2.0 ** -14 * 0.75,
                          np.inf, -np.inf, np.nan, 1.0 / 3.0], dtype=np.float16)
brain_source = np.concatenate([
    rng.standard_normal(6).astype(np.float32),
    np.array([np.inf, -np.inf, np.nan, 1e-40, -0.0, 3.0e38], dtype=np.float32),
])
brain_bits = f32_to_bf16_bits(brain_source).reshape(2, 6)

numpy_tensors = {
    "layer.weight": rng.standard_normal((3, 5)).astype(np.float32),
    "layer.bias": rng.standard_normal(5).astype(np.float32),
    "filters": rng.standard_normal((4, 3)),
    "half": half_specials.reshape(3, 4),
    "scalar": np.array(0.125, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "empty64": np.zeros((2, 0), dtype=np.float64),
    "steps": np.array([1, -2, 3], dtype=np.int64),
    "mask": np.array([True, False, True, True]),
}
metadata = {"format": "pt", "note": "\u00fcn\u00efcode \"quoted\" back\\slash\ttab\nnewline \U0001F600"}

specs = safetensors.numpy._flatten(numpy_tensors, [])
specs["brain"] = safetensors.TensorSpec(dtype="bfloat16", shape=list(brain_bits.shape),
                                        data_ptr=brain_bits.ctypes.data, data_len=brain_bits.nbytes)
safetensors.serialize_file(specs, "reference.safetensors", metadata=metadata)

expected = {
    "layer.weight": numpy_tensors["layer.weight"],
    "layer.bias": numpy_tensors["layer.bias"],
    "filters": numpy_tensors["filters"],
    "half": numpy_tensors["half"].astype(np.float32),
    "brain": bf16_bits_to_f32(brain_bits),
    "scalar": numpy_tensors["scalar"],
    "empty": numpy_tensors["empty"],
    "empty64": numpy_tensors["empty64"],
}
for name, value in expected.items():
    np.save(f"reference.{name}.npy", value)

header = header_of("reference.safetensors")
with open("reference.json", "w") as f:
    json.dump({
        "names": [k for k in header if k != "__metadata__"],
        "dtypes": {k: v["dtype"] for k, v in header.items() if k != "__metadata__"},
        "shapes": {k: v["shape"] for k, v in header.items() if k != "__metadata__"},
        "metadata": metadata,
    }, f, indent=1, sort_keys=True)

# ---------------------------------------------------------------- layout fixtures for the writer
# Names whose order differs between UTF-16 and UTF-8 and between case-sensitive sorts, both float types,
# a scalar and an empty tensor. One metadata entry: with more, the library writes them in hash order.
layout = {
    "b": rng.standard_normal((2, 3)).astype(np.float32),
    "a": rng.standard_normal(7).astype(np.float32),
    "B": rng.standard_normal(()).astype(np.float32),
    "\u00e9t\u00e9": rng.standard_normal(3).astype(np.float32),
    "\U0001F600": rng.standard_normal(2).astype(np.float32),
    "\uff21": rng.standard_normal(1).astype(np.float32),
    "z64": rng.standard_normal((3, 1)),
    "e64": np.zeros((0,), dtype=np.float64),
}
safetensors.numpy.save_file(layout, "layout_meta.safetensors", metadata={"format": "pt"})
safetensors.numpy.save_file(layout, "layout_plain.safetensors")
