#!/usr/bin/python3
"""Writes the small checkpoints that test Learn's loaders (lib/Learn/IO) on PyTorch's own bytes.

Run with Debian's PyTorch 1.13:  /usr/bin/python3 reference-weights/checkpoints/make_checkpoints.py
Re-running rewrites the same tensors (fixed seeds). The zip-format files come out byte for byte the same;
the legacy ones differ in their storage keys, which torch.save takes from memory addresses.

What it writes (README.md in this folder lists every file):
  * a tiny state_dict (conv + BatchNorm + linear) saved by torch.save in the zip format, in the
    legacy format (_use_new_zipfile_serialization=False), with pickle protocol 4, and nested inside
    training-checkpoint dicts with `module.` prefixes (one as torchreid's engine saves them, with
    numpy scalars, an optimizer and an LR scheduler state);
  * a dict of float16/float64/bfloat16/int64 tensors and of views into a shared storage (transposed,
    sliced with an offset, expanded with stride 0), in both formats;
  * hostile pickles that must be refused (a callable via __reduce__, a whole pickled nn.Module).
    Building them executes nothing: __reduce__ only names the callable, and pickling never calls it;
  * safetensors files written by the small pure-Python writer below (Debian has no python3-safetensors),
    following https://github.com/huggingface/safetensors#format;
  * expected.json: every expected tensor as produced by PyTorch (`.float()` for other dtypes,
    `.contiguous()` for views), stored as float32 bit patterns so that the C# tests compare bitwise.

It also reads written_by_learn.safetensors (made by Learn's SafeTensors.Write, see the README) with the
pure-Python reader below and checks it holds the tiny state_dict: the C# writer's output is readable
by an independent reader.
"""
import collections
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


# ----------------------------------------------------------------------------------------------------
# The tensors


class Tiny(torch.nn.Module):
    """conv -> BatchNorm -> pooled -> linear: the kinds of keys OSNet has (weight, bias, running_*)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 5)


def tiny_state_dict():
    torch.manual_seed(1234)
    model = Tiny()
    with torch.no_grad():
        # Non-trivial BatchNorm statistics and affine parameters (defaults are 0/1 and hide bugs).
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.5, 0.5)
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.running_var.uniform_(0.5, 2)
        model.bn.num_batches_tracked.fill_(17)
    return model.state_dict()


def dtype_and_view_tensors():
    """Tensors whose storage is not a plain contiguous float32 block."""
    torch.manual_seed(99)
    base = torch.randn(4, 6)
    half = torch.tensor([1.0, -2.5, 65504.0, float('inf'), float('-inf'), -0.0, 6e-8, 1e-3, 0.1],
                        dtype=torch.float16)
    double = torch.tensor([0.1, -1e300, 1e300, 1e-40, 1e-50, -0.0, 3.141592653589793, 1 + 2 ** -30,
                           float('nan')], dtype=torch.float64)
    bfloat = torch.tensor([1.0, -3.140625, 1e30, 1e-30, float('inf')], dtype=torch.bfloat16)
    d = collections.OrderedDict()
    d['base'] = base                                   # the shared storage itself
    d['transposed'] = base.t()                         # strides (1, 6)
    d['slice'] = base[1:3, 2:5]                        # offset 8, strides (6, 1)
    d['row'] = base[3]                                 # offset 18
    d['column_step'] = base[:, 1::2]                   # offset 1, strides (6, 2)
    d['expanded'] = torch.randn(1, 3).expand(4, 3)     # stride 0 on dim 0
    d['scalar'] = torch.tensor(2.75)                   # 0-d
    d['empty'] = torch.zeros(0, 3)
    d['half'] = half
    d['half_view'] = half[2:8:3]                       # float16 view with offset and stride
    d['double'] = double
    d['bfloat16'] = bfloat
    d['long'] = torch.tensor([[3, -4], [5, 1 << 40]], dtype=torch.int64)
    return d


def torchreid_style_checkpoint(tiny):
    """What torchreid's engine saves each epoch: besides the state_dict, the rank-1 accuracy and mAP as
    numpy scalars, an Adam state and a MultiStepLR state (its milestones are a collections.Counter)."""
    torch.manual_seed(5)
    model = Tiny()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0015)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    optimizer.step()
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[60], gamma=0.1)
    return {'state_dict': with_prefix(tiny, 'module.'), 'epoch': 150, 'rank1': np.float32(0.9234),
            'mAP': np.float64(0.8125), 'optimizer': optimizer.state_dict(), 'lr_scheduler': scheduler.state_dict()}


def expected_of(state):
    """name -> {shape, bits}: the float32 tensor PyTorch makes of each value (converted, made contiguous)."""
    out = collections.OrderedDict()
    for name, t in state.items():
        f = t.detach().to(torch.float32).contiguous().numpy()
        out[name] = {
            'shape': list(f.shape),
            'bits': [int(b) for b in f.reshape(-1).view(np.uint32)],
        }
    return out


def normalised(state):
    """What the loader must return: `module.` stripped, num_batches_tracked dropped."""
    out = collections.OrderedDict()
    for name, t in state.items():
        if name.startswith('module.'):
            name = name[len('module.'):]
        if name.endswith('num_batches_tracked'):
            continue
        out[name] = t
    return out


def with_prefix(state, prefix):
    out = collections.OrderedDict((prefix + k, v) for k, v in state.items())
    out._metadata = getattr(state, '_metadata', None)
    return out


# ----------------------------------------------------------------------------------------------------
# Saving


def save_zip(obj, name, **kwargs):
    torch.save(obj, path(name), **kwargs)


def save_legacy(obj, name, **kwargs):
    torch.save(obj, path(name), _use_new_zipfile_serialization=False, **kwargs)


class CallsPrint:
    """Pickles as a call to builtins.print: a stand-in for any callable an attacker could name."""

    def __reduce__(self):
        return (print, ('pwned',))


class CallsGetcwd:
    """Pickles as a call to os.getcwd (pickled as posix.getcwd): harmless even if it ran."""

    def __reduce__(self):
        return (os.getcwd, ())


class CallsEval:
    """Pickles as builtins.eval("print('pwned')"): still harmless if some loader did execute it."""

    def __reduce__(self):
        return (eval, ("print('pwned')",))


def write_hostile(tiny):
    # Each file is a real torch.save output; only one value inside is hostile.
    hostile = collections.OrderedDict(tiny)
    hostile['conv.weight'] = CallsPrint()
    save_zip(hostile, 'hostile_print.pth')
    save_legacy({'state_dict': tiny, 'hook': CallsEval()}, 'hostile_eval_legacy.pth')
    save_zip({'state_dict': tiny, 'cwd': CallsGetcwd()}, 'hostile_getcwd_protocol4.pth', pickle_protocol=4)
    # A whole module instead of its state_dict: its class is a global the loader must not resolve.
    torch.manual_seed(0)
    save_zip(torch.nn.Linear(2, 2), 'hostile_whole_module.pth')


# ----------------------------------------------------------------------------------------------------
# safetensors, pure Python (https://github.com/huggingface/safetensors#format)

ST_DTYPES = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64}


def safetensors_write(file_name, tensors, metadata=None):
    """tensors: name -> numpy array. Header: {name: {dtype, shape, data_offsets}}, padded to 8 bytes."""
    header = collections.OrderedDict()
    if metadata is not None:
        header['__metadata__'] = metadata
    blobs, offset = [], 0
    for name, array in tensors.items():
        array = np.ascontiguousarray(array)
        dtype = {np.dtype('<f4'): 'F32', np.dtype('<f8'): 'F64', np.dtype('<f2'): 'F16',
                 np.dtype('<i8'): 'I64'}[array.dtype]
        data = array.tobytes()
        header[name] = {'dtype': dtype, 'shape': list(array.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path(file_name), 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def safetensors_write_bf16(file_name, name, tensor):
    """BF16 has no numpy dtype: write torch's raw bfloat16 bits."""
    raw = tensor.contiguous().view(torch.int16).numpy().astype('<i2').tobytes()
    header = {name: {'dtype': 'BF16', 'shape': list(tensor.shape), 'data_offsets': [0, len(raw)]}}
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path(file_name), 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + raw)


def safetensors_read(file_name):
    """An independent reader, with the format's own checks (contiguous, in bounds, sizes match)."""
    with open(file_name, 'rb') as f:
        blob = f.read()
    (n,) = struct.unpack('<Q', blob[:8])
    header = json.loads(blob[8:8 + n].decode('utf-8'))
    data = blob[8 + n:]
    metadata = header.pop('__metadata__', None)
    out, end = collections.OrderedDict(), 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]['data_offsets'][0]):
        begin, stop = info['data_offsets']
        assert begin == end, f'{name}: hole or overlap at {begin}'
        dtype = np.dtype(ST_DTYPES[info['dtype']]).newbyteorder('<')
        count = int(np.prod(info['shape'], dtype=np.int64))
        assert stop - begin == count * dtype.itemsize, f'{name}: size does not match shape'
        out[name] = np.frombuffer(data[begin:stop], dtype=dtype).reshape(info['shape'])
        end = stop
    assert end == len(data), 'trailing bytes after the last tensor'
    return out, metadata


def check_written_by_learn(tiny_expected):
    file_name = path('written_by_learn.safetensors')
    if not os.path.exists(file_name):
        print('written_by_learn.safetensors is missing: run the C# test that writes it (see README.md)')
        return
    tensors, metadata = safetensors_read(file_name)
    assert list(tensors) == list(tiny_expected), (list(tensors), list(tiny_expected))
    for name, array in tensors.items():
        assert array.dtype == np.float32
        assert list(array.shape) == tiny_expected[name]['shape'], name
        assert [int(b) for b in array.reshape(-1).view(np.uint32)] == tiny_expected[name]['bits'], name
    assert metadata == {'format': 'pt', 'source': 'Learn'}, metadata
    print(f'written_by_learn.safetensors: {len(tensors)} tensors read back bit-exact by the Python reader')


# ----------------------------------------------------------------------------------------------------


def main():
    torch.set_num_threads(1)
    tiny = tiny_state_dict()
    views = dtype_and_view_tensors()

    save_zip(tiny, 'tiny_zip.pth')
    save_legacy(tiny, 'tiny_legacy.pth')
    save_zip(tiny, 'tiny_zip_protocol4.pth', pickle_protocol=4)
    optimizer = torch.optim.SGD(Tiny().parameters(), lr=0.1, momentum=0.9).state_dict()
    save_zip({'state_dict': with_prefix(tiny, 'module.'), 'epoch': 7, 'rank1': 0.8125,
              'optimizer': optimizer, 'arch': 'tiny'}, 'tiny_nested_module_zip.pth')
    save_legacy({'model': with_prefix(tiny, 'module.'), 'epoch': 3}, 'tiny_nested_model_legacy.pth')
    training = torchreid_style_checkpoint(tiny)
    save_zip(training, 'training_torchreid_zip.pth')
    save_legacy(training, 'training_torchreid_legacy.pth')
    save_zip(views, 'views_dtypes_zip.pth')
    save_legacy(views, 'views_dtypes_legacy.pth')
    write_hostile(tiny)

    # A real torch.save zip whose archive folder is not 'archive' (1.13 names it after the file).
    with open(path('tiny_zip.pth'), 'rb') as f:
        names = zipfile.ZipFile(f).namelist()
    assert names[0].startswith('tiny_zip/'), names

    tiny_f32 = collections.OrderedDict((k, v.numpy()) for k, v in normalised(tiny).items())
    safetensors_write('tiny.safetensors', tiny_f32, metadata={'format': 'pt'})
    safetensors_write('dtypes.safetensors', collections.OrderedDict([
        ('double', views['double'].numpy()),
        ('half', views['half'].numpy()),
        ('long', views['long'].numpy()),
    ]))
    safetensors_write_bf16('bfloat16.safetensors', 'bfloat16', views['bfloat16'])

    expected = collections.OrderedDict()
    expected['provenance'] = {
        'torch': torch.__version__, 'numpy': np.__version__,
        'python': sys.version.split()[0], 'script': 'make_checkpoints.py',
    }
    expected['tiny'] = expected_of(normalised(tiny))
    expected['views_dtypes'] = expected_of(views)
    with open(path('expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
        f.write('\n')

    # Self-check: PyTorch reads back what it wrote, and the Python reader reads what Python wrote.
    for name in ['training_torchreid_zip.pth', 'training_torchreid_legacy.pth']:
        loaded = torch.load(path(name))
        assert all(torch.equal(loaded['state_dict']['module.' + k], tiny[k]) for k in tiny), name
    for name in ['tiny_zip.pth', 'tiny_legacy.pth', 'tiny_zip_protocol4.pth']:
        loaded = torch.load(path(name))
        assert all(torch.equal(loaded[k], tiny[k]) for k in tiny), name
    for name in ['views_dtypes_zip.pth', 'views_dtypes_legacy.pth']:
        loaded = torch.load(path(name))
        assert all(torch.equal(loaded[k], views[k]) or k == 'double' for k in views), name
    for name in ['hostile_print.pth', 'hostile_getcwd_protocol4.pth', 'hostile_whole_module.pth']:
        try:
            torch.load(path(name), weights_only=True)
        except Exception as e:  # noqa: BLE001 - weights_only refusals are plain exceptions
            print(f'{name}: torch.load(weights_only=True) refuses it too: {str(e).splitlines()[0][:90]}')
        else:
            raise AssertionError(f'{name} was accepted by weights_only')
    read, _ = safetensors_read(path('tiny.safetensors'))
    assert all(np.array_equal(read[k], tiny_f32[k]) for k in tiny_f32)
    check_written_by_learn(expected['tiny'])

    total = sum(os.path.getsize(path(n)) for n in os.listdir(HERE))
    print(f'wrote {HERE}: {len(os.listdir(HERE))} files, {total} bytes')


if __name__ == '__main__':
    main()
