"""NumPy-written .npy files of every format version the reader accepts, and some it must refuse.
Values are arange-based so the Java test knows them without storing them. Regenerate: python3 make_npy_fixtures.py"""
import numpy as np
from numpy.lib import format as fmt

a32 = (np.arange(12, dtype=np.float32) * 0.5 - 1).reshape(3, 4)
a64 = np.arange(6, dtype=np.float64).reshape(2, 3) / 3
for version in [(1, 0), (2, 0), (3, 0)]:
    for name, arr in [("f4", a32), ("f8", a64)]:
        with open(f"v{version[0]}_{name}.npy", "wb") as f:
            fmt.write_array(f, arr, version=version)
np.save("fortran.npy", np.asfortranarray(a64))
np.save("int32.npy", np.arange(4, dtype=np.int32))
np.save("float16.npy", np.arange(4, dtype=np.float16))
np.save("uint8.npy", np.arange(4, dtype=np.uint8))
np.save("complex64.npy", np.arange(4, dtype=np.complex64))
np.save("big_endian.npy", a32.astype(">f4"))
np.save("scalar.npy", np.float64(2.5))
np.save("empty.npy", np.zeros((0,), dtype=np.float32))
np.save("empty_3d.npy", np.zeros((2, 0, 3), dtype=np.float64))
np.save("vector.npy", np.arange(7, dtype=np.float32) - 3)
