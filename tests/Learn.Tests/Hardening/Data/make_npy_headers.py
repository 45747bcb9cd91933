#!/usr/bin/python3
"""Asks numpy itself how it reads hostile .npy headers; writes npy_headers.json beside this script.

Run with Debian's numpy (1.24):  /usr/bin/python3 tests/Learn.Tests/Hardening/Data/make_npy_headers.py

Each case is a header text; the data after it is 64 bytes of float32 (16 values 0..15). numpy's verdict is
recorded: "ok" with the shape and whether the data is Fortran-ordered, or "error". The C# reader must agree
(issue 12: duplicate keys keep the last value, extra keys and non-literals are refused).
"""
import io
import json
import os
import struct

import numpy as np

CASES = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (16,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), 'shape': (2,), }",
    "{'descr': '<f4', 'fortran_order': True, 'fortran_order': False, 'shape': (4, 4), }",
    "{'descr': '<f4', 'fortran_order': False, 'fortran_order': True, 'shape': (4, 4), }",
    "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (16,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), 'x': 1}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), 'x': __import__('os').system('true')}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (True, 16)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (0x4, 0b100)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1_6,)}",
    "{'descr': '<' 'f4', 'fortran_order': False, 'shape': ((16),)}",
    "{'descr': '<f4', 'fortran_order': 0, 'shape': (16,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': [16]}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-16,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (+16,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,)} junk",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16.0,)}",
    "{'descr': \"<f4\", \"fortran_order\": False, 'shape': (16,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': 16}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,)  ,  }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,)} # comment",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (016,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), **{}}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (8+8,)}",
    "{'descr': b'<f4', 'fortran_order': False, 'shape': (16,)}",
    "{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (16,)}",
    "{'descr': u'<f4', 'fortran_order': False, 'shape': (16,)}",
    "{'descr': f'<f4', 'fortran_order': False, 'shape': (16,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), 1: 2}",
    "{'descr': '<f4', 'fortran_order': False}",
    "['descr', 'fortran_order', 'shape']",
    "{'descr', 'fortran_order', 'shape'}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16, )",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4,), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }\t",
    "{'descr': '<f4', 'fortran_order': None, 'shape': (16,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (1e1,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (16j,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-0, 16)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2, 2), 'shape': (4, 4)}",
]


def npy(header):
    h = header.encode('latin1')
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b' ' * pad + b'\n'
    return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h + struct.pack('<16f', *range(16))


def main():
    results = []
    for header in CASES:
        try:
            a = np.load(io.BytesIO(npy(header)))
            results.append({'header': header, 'verdict': 'ok', 'shape': list(a.shape),
                            'fortran': bool(a.ndim > 1 and a.flags['F_CONTIGUOUS'] and not a.flags['C_CONTIGUOUS'])})
        except Exception as e:  # numpy's refusal, whatever its type
            results.append({'header': header, 'verdict': 'error', 'numpy': f'{type(e).__name__}: {str(e)[:100]}'})
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, 'npy_headers.json'), 'w') as f:
        json.dump(results, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
