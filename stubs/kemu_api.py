"""The kernel-facing calls of kemu's Python API (k.proc_read, k.open, ...)."""
from __future__ import annotations

from kemu.exports import kernel_api

from .drivers.base.core import dev_open
from .fs.proc import proc_open, proc_read as _proc_read, proc_write as _proc_write
from .net.netfilter import packet  # noqa: F401  (registers k.packet)


@kernel_api("proc_read")
def proc_read(k, path: str) -> bytes:
    """cat /proc/PATH: the whole content, read as cat(1) reads it."""
    return _proc_read(k, path)


@kernel_api("proc_write")
def proc_write(k, path: str, data) -> int:
    """echo DATA > /proc/PATH: bytes written."""
    return _proc_write(k, path, data)


@kernel_api("open")
def open_path(k, path: str, flags: int | None = None):
    """open(2) of /dev/NAME or /proc/PATH: a file with read/write/ioctl/close.

    Opening a device takes a reference on the module that owns its
    file_operations, as the kernel does; the open fails with -ENODEV once the
    module is going away.
    """
    if path.startswith("/proc/"):
        return proc_open(k, path, flags or 0)
    return dev_open(k, path, flags)
