"""Mark one symbol-version requirement of an ELF64 shared library weak (VER_FLG_WEAK).

Usage: python3 weaken_glibcxx.py LIB.so VERSION

Walks the .gnu.version_r section (Elf64_Verneed / Elf64_Vernaux entries) and sets flag 0x2 on the
Vernaux entry named VERSION, so the dynamic loader accepts a libstdc++ that does not provide it.
Idempotent; rewrites the file atomically; exits non-zero with a one-line message on anything unexpected.
"""
import os
import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
VER_FLG_WEAK = 0x2


def c_string(data, offset):
    end = data.index(b"\0", offset)
    return bytes(data[offset:end])


def main(path, version):
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not a little-endian ELF64 file")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    found = changed = 0
    for _name, kind, _flags, _addr, offset, _size, link, info, _align, _entsize in sections:
        if kind != SHT_GNU_VERNEED:
            continue
        strings = sections[link][4]
        need = offset
        for _ in range(info):
            _ver, count, _file, aux, next_need = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(count):
                _hash, flags, _other, name, next_aux = struct.unpack_from("<IHHII", data, entry)
                if c_string(data, strings + name) == version.encode():
                    found += 1
                    if not flags & VER_FLG_WEAK:
                        struct.pack_into("<H", data, entry + 4, flags | VER_FLG_WEAK)
                        changed += 1
                entry += next_aux
            need += next_need
    if not found:
        print(f"{path}: no requirement for {version}; nothing to do")
        return
    if changed:
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, os.stat(path).st_mode)
        os.replace(tmp, path)
    print(f"{path}: {version} requirement marked weak")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: weaken_glibcxx.py LIB.so VERSION")
    main(sys.argv[1], sys.argv[2])
