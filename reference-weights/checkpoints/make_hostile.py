#!/usr/bin/python3
"""Writes the hostile checkpoints of issue 12 into hostile/ (each a few hundred bytes), with PyTorch itself.

Run with Debian's PyTorch 1.13:  /usr/bin/python3 reference-weights/checkpoints/make_hostile.py

  * expand_536870912.pth: {'w': torch.zeros(1).expand(536870912)}; torch.load keeps the view (4 bytes),
    a loader that copies it out needs 2 GiB;
  * expand3_2147483648.pth: three stride-0 views of 2^31 elements each (~26 GB if copied);
  * tiny_protocol1_zip.pth, tiny_protocol1_legacy.pth: a small state_dict with pickle_protocol=1, which
    torch.load reads (and prints the expected tensors beside them as protocol1_expected.json);
  * duplicate_record.pth: tiny_protocol1_zip's sibling in protocol 2 with its storage record 'data/0' stored
    twice, the second copy all ones; torch.load uses the last copy (the script checks and records that).
"""
import json
import os
import struct
import zipfile

import torch

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'hostile')


def path(name):
    return os.path.join(HERE, name)


def bits(t):
    return [struct.unpack('<I', struct.pack('<f', v))[0] for v in t.float().contiguous().flatten().tolist()]


def main():
    os.makedirs(HERE, exist_ok=True)
    torch.save({'w': torch.zeros(1).expand(536870912)}, path('expand_536870912.pth'))
    z = torch.zeros(1)
    torch.save({'a': z.expand(2 ** 31), 'b': z.expand(2 ** 31), 'c': z.expand(2 ** 31)}, path('expand3_2147483648.pth'))

    torch.manual_seed(12)
    tiny = {'conv.weight': torch.randn(2, 1, 3, 3), 'bn.running_var': torch.rand(2) + 0.5, 'fc.bias': torch.randn(3)}
    torch.save(tiny, path('tiny_protocol1_zip.pth'), pickle_protocol=1)
    torch.save(tiny, path('tiny_protocol1_legacy.pth'), pickle_protocol=1, _use_new_zipfile_serialization=False)
    for name in ['tiny_protocol1_zip.pth', 'tiny_protocol1_legacy.pth']:
        loaded = torch.load(path(name))
        assert all(torch.equal(loaded[k], v) for k, v in tiny.items()), name
    expected = {k: {'shape': list(v.shape), 'bits': bits(v)} for k, v in tiny.items()}

    # The same storage record twice: Python's zipfile warns and writes both; the reader must pick one.
    single = {'w': torch.arange(4, dtype=torch.float32)}
    torch.save(single, path('single.tmp'))
    with zipfile.ZipFile(path('single.tmp')) as source, zipfile.ZipFile(path('duplicate_record.pth'), 'w') as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
            if info.filename.endswith('/data/0'):
                import warnings
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    target.writestr(info, struct.pack('<4f', 1, 1, 1, 1))
    os.remove(path('single.tmp'))
    last = torch.load(path('duplicate_record.pth'))['w']
    expected['duplicate_record.pth torch.load'] = {'shape': list(last.shape), 'bits': bits(last)}

    with open(path('protocol1_expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')
    for name in sorted(os.listdir(HERE)):
        print(name, os.path.getsize(path(name)))


if __name__ == '__main__':
    main()
