"""Write a minimal initramfs (newc cpio) holding /init and a few dirs."""

import os

_MODE_DIR = 0o040755
_MODE_FILE = 0o100755


def _entry(name, mode, data, ino):
    name_b = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1 if mode != _MODE_DIR else 2, 0, len(data),
              0, 0, 0, 0, len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % f for f in fields)
    out = hdr + name_b
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def write_initramfs(path, init_binary):
    """Create `path` with /init taken from `init_binary` and /proc, /dev."""
    with open(init_binary, "rb") as f:
        init = f.read()
    parts = [
        _entry("dev", _MODE_DIR, b"", 1),
        _entry("proc", _MODE_DIR, b"", 2),
        _entry("sys", _MODE_DIR, b"", 3),
        _entry("init", _MODE_FILE, init, 4),
        _entry("TRAILER!!!", 0, b"", 0),
    ]
    blob = b"".join(parts)
    blob += b"\0" * (-len(blob) % 512)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)
