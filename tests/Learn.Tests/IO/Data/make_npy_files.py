"""Writes the small .npy files that tests/Learn.Tests/IO/NpyTests.cs reads, with NumPy itself, so the reader is
tested on NumPy's own bytes rather than on bytes made by the code under test.

Run from anywhere with Debian's Python (the one that has numpy):  /usr/bin/python3 tests/Learn.Tests/IO/Data/make_npy_files.py
Rerunning it yields identical files.
"""
import os

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))


def save(name, array, **kwargs):
    np.save(os.path.join(HERE, name), array, **kwargs)


def main():
    # Values exactly representable in float32 so the test can state them: -1.25, -0.75, ..., 1.25.
    f4 = (np.arange(6, dtype=np.float32) * 0.5 - 1.25).reshape(2, 3)
    save("f4_2x3.npy", f4)
    # float64 values that are not float32 numbers: the reader must round each once to nearest.
    save("f8_2x2.npy", np.array([[0.1, -2.5], [1e-3, 3.141592653589793]], dtype=np.float64))
    save("f4_scalar.npy", np.array(3.5, dtype=np.float32))  # shape ()
    save("f4_1d.npy", np.array([1.5, -2.0, 0.25], dtype=np.float32))  # shape (3,)
    save("f4_5d.npy", (np.arange(12, dtype=np.float32) - 6).reshape(1, 2, 1, 3, 2))
    save("f4_empty.npy", np.zeros((2, 0, 3), dtype=np.float32))
    with open(os.path.join(HERE, "f4_v2.npy"), "wb") as f:  # format version 2.0: 4-byte header length
        npformat.write_array(f, f4, version=(2, 0))

    # What the reader must refuse, as NumPy writes it.
    save("refuse_big_endian.npy", f4.astype(">f4"))
    save("refuse_fortran.npy", np.asfortranarray(f4))
    save("refuse_object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    save("refuse_int32.npy", np.arange(4, dtype=np.int32))
    save("refuse_float16.npy", np.arange(4, dtype=np.float16))


if __name__ == "__main__":
    main()
