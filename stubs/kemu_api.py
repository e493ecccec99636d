"""The kernel-facing calls of kemu's Python API (k.proc_read, k.open, ...)."""
from __future__ import annotations

from kemu.exports import kernel_api

from .fs.pathwalk import file_open, list_dir as _list_dir, read_file as _read_file
from .fs.pathwalk import write_file as _write_file
from .fs.proc import proc_read as _proc_read, proc_write as _proc_write
from .kernel.process import as_process as _as_process
from .mm.mmap import mmap_view
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
    """open(2) of a file under /dev, /proc, /sys or /sys/kernel/debug: a file with
    read/write/ioctl/close, after the opener's permission check.

    Opening a device takes a reference on the module that owns its
    file_operations, as the kernel does; the open fails with -ENODEV once the
    module is going away.
    """
    if flags is None:
        flags = k.target.const("O_RDWR") if path.startswith("/dev/") else 0
    return file_open(k, path, flags)


@kernel_api("read_file")
def read_file(k, path: str) -> bytes:
    """cat PATH for /proc, /sys (attributes, bin attributes, module parameters),
    /sys/kernel/debug and /dev: open, read until end of file, close."""
    return _read_file(k, path)


@kernel_api("write_file")
def write_file(k, path: str, data) -> int:
    """echo DATA > PATH on any of those trees: bytes written."""
    return _write_file(k, path, data)


@kernel_api("list_dir")
def list_dir(k, path: str) -> list:
    """ls PATH: DirEntry(name, mode) of each name below the directory."""
    return _list_dir(k, path)


@kernel_api("as_process")
def as_process(k, comm: str, uid: int = 0):
    """``with k.as_process("cat", uid=1000):`` module code entered inside runs for
    that process (current->comm, pid, credentials, mm)."""
    return _as_process(k, comm, uid)


@kernel_api("mmap_read")
def mmap_read(k, f, length: int, offset: int = 0) -> bytes:
    """mmap(2) of open file ``f`` (MAP_SHARED, PROT_READ), every byte read, munmap."""
    return mmap_view(k, f, length, offset)
