"""A module file as kmod reads it (libkmod-file.c): compressed modules are
decompressed in userspace before init_module(2) sees them.

Distributions ship compressed modules (Debian's 6.12 packages: ``.ko.xz``);
kmod's insmod, modprobe and modinfo recognise the compression by the file's
magic, not its name, and hand the kernel the plain ELF file. kemu does the
same with the decompressors at hand: xz (lzma) and gzip from Python's
standard library, zstd through the ``zstd`` command when it is installed.
A name ends in ``.ko`` or ``.ko.xz``/``.ko.gz``/``.ko.zst`` (depmod's
module file names); the module name drops that suffix.

Leaves out: the kernel's own decompression (finit_module() with
MODULE_INIT_COMPRESSED_FILE, 6.4's CONFIG_MODULE_DECOMPRESS), which kmod
uses only when /sys/module/compression names the file's format.
"""
from __future__ import annotations

import errno
import gzip
import lzma
import os
import shutil
import subprocess
import zlib

from kemu.errors import KemuError

#: depmod's module file names
SUFFIXES = (".ko", ".ko.xz", ".ko.gz", ".ko.zst")

XZ_MAGIC = b"\xfd7zXZ\x00"
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class DecompressError(KemuError):
    """A compressed module kmod cannot read: insmod's EINVAL, with libkmod's reason."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"could not insert module {path}: {os.strerror(errno.EINVAL)} "
                         f"({reason})", errno.EINVAL)
        self.path, self.reason = path, reason

    def __reduce__(self):                   # survey workers send it by pickle
        return (type(self), (self.path, self.reason))


def is_module_file(name: str) -> bool:
    """True for ``x.ko`` and its compressed forms."""
    return name.endswith(SUFFIXES)


def strip_suffix(name: str) -> str:
    """``nls_euc-jp.ko.xz`` -> ``nls_euc-jp`` (other names are returned as they are)."""
    for suffix in SUFFIXES[1:] + SUFFIXES[:1]:
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def _unxz(data: bytes) -> bytes:
    """kmod_file_load_xz(): LZMA_CONCATENATED streams; libkmod's words on failure."""
    try:
        return lzma.decompress(data, format=lzma.FORMAT_XZ)
    except lzma.LZMAError as exc:
        text = str(exc)
        if "Input format not supported" in text:
            raise ValueError("xz: File format not recognized") from None
        if "ended before the end-of-stream" in text:
            raise ValueError("xz: Unexpected end of input") from None
        if "Unsupported options" in text:
            raise ValueError("xz: Unsupported compression options") from None
        raise ValueError("xz: File is corrupt") from None
    except EOFError:
        raise ValueError("xz: Unexpected end of input") from None


def _gunzip(data: bytes) -> bytes:
    """kmod_file_load_zlib() (gzread)."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"zlib: {exc}") from None


def _unzstd(data: bytes) -> bytes:
    """kmod_file_load_zstd(), through the zstd command."""
    tool = shutil.which("zstd")
    if tool is None:
        raise ValueError("zstd: no decompressor installed (the zstd command)")
    proc = subprocess.run([tool, "-dcq"], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        reason = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(f"zstd: {reason[-1] if reason else 'File is corrupt'}")
    return proc.stdout


#: libkmod-file.c's comp_types: magic -> how to read it
COMP_TYPES = ((ZSTD_MAGIC, _unzstd), (XZ_MAGIC, _unxz), (GZIP_MAGIC, _gunzip))


def decompress(data: bytes, path: str = "") -> bytes:
    """The module's ELF bytes: ``data`` itself unless its magic names a compression."""
    for magic, load in COMP_TYPES:
        if data.startswith(magic):
            try:
                return load(data)
            except ValueError as exc:
                raise DecompressError(path or "(data)", str(exc)) from None
    return data


def read_module_file(path: str) -> bytes:
    """The file's bytes as kmod hands them to the kernel (decompressed)."""
    with open(path, "rb") as fh:
        return decompress(fh.read(), str(path))
