"""drivers/base/devtmpfs.c as a user sees it: the /dev nodes the driver core
created, and open(2) of one through the char device layer.

Python API (for ``kemu open /dev/NAME``)::

    devices(k) -> {name: (fops address, owner module name or None, devt)}
    dev_open(k, "/dev/NAME", flags=O_RDWR) -> OpenFile

Left out: block device nodes, devtmpfs as a mountable filesystem, node removal
races.
"""
from __future__ import annotations

import errno

from kemu.abi.exports import kernel_api, members

from ...fs.char_dev import cdev_lookup, chrdev_open
from kemu.abi.toolkit import rd
from ...fs.open import FileError
from ..char.misc import misc_lookup
from .core import Devices

members("struct file_operations", "owner", "llseek", "read", "write", "read_iter",
        "write_iter", "poll", "unlocked_ioctl", "compat_ioctl", "mmap", "open", "flush",
        "release", "fsync", "fasync")


def devices(k) -> dict:
    """/dev names -> (fops address, owner module name or None, dev_t), for char devices."""
    out = {}
    for name, (devt, _mode, _dev) in sorted(k.model(Devices).nodes.items()):
        misc = misc_lookup(k, devt)
        if misc is not None:
            fops = rd(k, misc, "miscdevice.fops")
        else:
            hit = cdev_lookup(k, devt)
            if hit is None:
                out[name] = (0, None, devt)
                continue
            fops = hit[1]
        owner = k.module_at(rd(k, fops, "file_operations.owner")) if fops else None
        if owner is None and fops:
            owner = k.module_containing(fops)
        out[name] = (fops, owner.name if owner else None, devt)
    return out


@kernel_api("dev_open")
def dev_open(k, path: str, flags: int | None = None):
    """open(2) of /dev/NAME through the char device layer (misc_open for misc devices)."""
    name = path[5:] if path.startswith("/dev/") else path.lstrip("/")
    node = k.model(Devices).nodes.get(name)
    if node is None:
        raise FileError(f"/dev/{name}: No such file or directory", errno.ENOENT)
    return chrdev_open(k, node[0], flags, path=f"/dev/{name}")
