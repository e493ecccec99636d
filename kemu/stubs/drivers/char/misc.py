"""drivers/char/misc.c: misc devices on major 10.

``misc_register`` takes a dynamic minor (124 downwards, the 6.1 bitmap of 128
dynamic minors) or checks a fixed one (-EBUSY if taken), creates the device in
the "misc" class (its /dev node named ``nodename`` or ``name``, mode
``misc->mode``) and puts it at the front of ``misc_list``, a real list in
kernel memory. Opening major 10 runs ``misc_open``: find the minor, take
``fops->owner``, set ``file->private_data`` to the miscdevice, switch to its
fops and call its ``open``.

Python API: ``misc_devices(k) -> [(minor, name, fops, owner module name)]``,
``misc_lookup(k, devt) -> miscdevice address or None``, ``proc_misc(k) -> str``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from ...fs.char_dev import CharDevs, MKDEV, chrdev_probe
from kemu.abi.toolkit import (cstr, init_list_head, is_err, list_add, list_del, owner_of, ptr_err,
                              rd, wr)

members("struct file_operations", "owner")
members("struct file", "f_op", "private_data")
members("struct inode", "i_rdev")

members("struct miscdevice", "minor", "name", "fops", "list", "parent", "this_device",
        "groups", "nodename", "mode")

DYNAMIC_MINORS = 128                 # static in drivers/char/misc.c (6.1)
# the misc devices of Debian's booted 6.1 kernel, in /proc/misc order (newest first),
# as the oracle VM lists them; 125-127 are dynamic minors the boot took
BOOT_MISC = ((125, "cpu_dma_latency"), (1, "psaux"), (228, "hpet"), (126, "userfaultfd"),
             (231, "snapshot"), (183, "hw_random"), (127, "vga_arbiter"))


class Misc:
    """Per-kernel misc_list (kernel memory), the dynamic minor bitmap, major 10's cdev."""

    def __init__(self, k):
        self.k = k
        t = k.target
        self.head = k.machine.alloc_kdata(t.sizeof("list_head"), 8)
        init_list_head(k, self.head)
        self.bitmap = 0
        self.devices: list[int] = []          # front first, as misc_list
        self.kernel: dict[int, str] = {}      # minors of built-in misc devices
        for minor, name in BOOT_MISC:
            self.kernel[minor] = name
            if DYNAMIC_MINORS - 3 <= minor < DYNAMIC_MINORS:
                self.bitmap |= 1 << (DYNAMIC_MINORS - minor - 1)
        # major 10's cdev: fops = misc_fops, whose open is misc_open
        cd = k.model(CharDevs)
        self.misc_fops = k.machine.alloc_kdata(t.sizeof("file_operations"), 8)
        self.cdev = k.machine.alloc_kdata(t.sizeof("cdev"), 8)
        wr(k, self.cdev, "cdev.ops", self.misc_fops)
        wr(k, self.cdev, "cdev.dev", MKDEV(k, t.const("MISC_MAJOR"), 0), 4)
        wr(k, self.cdev, "cdev.count", 256, 4)
        cd.cdev_map.insert(0, (MKDEV(k, t.const("MISC_MAJOR"), 0), 256, self.cdev))
        cd.open_hooks[self.misc_fops] = misc_open

    def by_minor(self, minor: int) -> int:
        for misc in self.devices:
            if rd(self.k, misc, "miscdevice.minor", 4) == minor:
                return misc
        return 0


def misc_open(k, f):
    """misc_open(): switch the OpenFile to the miscdevice's fops (before ->open runs)."""
    from ...fs.open import FileError, fops_table, module_get
    minor = rd(k, f.inode, "inode.i_rdev", 4) & k.target.const("MINORMASK")
    misc = k.model(Misc).by_minor(minor)
    fops = rd(k, misc, "miscdevice.fops") if misc else 0
    owner = rd(k, fops, "file_operations.owner") if fops else 0
    if not fops or (owner and not module_get(k, owner)):
        f.ops = {}
        f.close()
        raise FileError(f"{f.path}: open: No such device", errno.ENODEV)
    if owner:
        f.refs.append(owner)
        f.module = k.module_at(owner)
    wr(k, f.file, "file.private_data", misc)
    wr(k, f.file, "file.f_op", fops)
    f.ops = fops_table(k, fops)
    return f


@export("int misc_register(struct miscdevice *misc)", fails="-EBUSY")
def misc_register(k, misc):
    from ..base.core import create_device
    from ..base.class_ import Classes
    t = k.target
    model = k.model(Misc)
    init_list_head(k, misc + t.offset("miscdevice.list"))
    minor = rd(k, misc, "miscdevice.minor", 4)
    dynamic = minor == t.const("MISC_DYNAMIC_MINOR")
    if dynamic:
        i = 0
        while i < DYNAMIC_MINORS and (model.bitmap >> i) & 1:
            i += 1
        if i >= DYNAMIC_MINORS:
            return -errno.EBUSY
        minor = DYNAMIC_MINORS - i - 1
        wr(k, misc, "miscdevice.minor", minor, 4)
        model.bitmap |= 1 << i
    else:
        if model.by_minor(minor) or minor in model.kernel:
            return -errno.EBUSY
    name = cstr(k, rd(k, misc, "miscdevice.name"), 256)
    dev = yield from create_device(k, k.model(Classes).misc_class(),
                                   rd(k, misc, "miscdevice.parent"),
                                   MKDEV(k, t.const("MISC_MAJOR"), minor), misc,
                                   rd(k, misc, "miscdevice.groups"), name)
    if is_err(dev):
        if dynamic:
            model.bitmap &= ~(1 << (DYNAMIC_MINORS - minor - 1))
            wr(k, misc, "miscdevice.minor", t.const("MISC_DYNAMIC_MINOR"), 4)
        return ptr_err(dev)
    wr(k, misc, "miscdevice.this_device", dev)
    # the /dev node: misc_devnode() gives nodename and mode
    from ..base.core import Devices
    devs = k.model(Devices)
    rec = devs.added.get(dev)
    if rec is not None and rec.node:
        devt, mode, d = devs.nodes.pop(rec.node)
        nodename = cstr(k, rd(k, misc, "miscdevice.nodename"), 256)
        rec.node = nodename or rec.node
        devs.nodes[rec.node] = (devt, rd(k, misc, "miscdevice.mode", 2) or mode, d)
    list_add(k, misc + t.offset("miscdevice.list"), model.head)
    model.devices.insert(0, misc)
    owner = owner_of(k, rd(k, rd(k, misc, "miscdevice.fops"), "file_operations.owner"))
    k.register("misc device", misc, owner, f"misc device {name} (10:{minor})")
    return 0


@export("void misc_deregister(struct miscdevice *misc)")
def misc_deregister(k, misc):
    from ..base.core import device_destroy
    from ..base.class_ import Classes
    t = k.target
    model = k.model(Misc)
    node = misc + t.offset("miscdevice.list")
    if rd(k, node, "list_head.next") == node or misc not in model.devices:
        from ...lib.kemu_warn import warn
        warn(k, "drivers/char/misc.c:247", "misc_deregister+0x92/0xa0")
        return
    minor = rd(k, misc, "miscdevice.minor", 4)
    list_del(k, node)
    model.devices.remove(misc)
    yield from device_destroy(k, k.model(Classes).misc_class(),
                              MKDEV(k, t.const("MISC_MAJOR"), minor))
    i = DYNAMIC_MINORS - minor - 1
    if 0 <= i < DYNAMIC_MINORS:
        model.bitmap &= ~(1 << i)
    k.unregister("misc device", misc)


@chrdev_probe("MISC_MAJOR")
def misc_init(k) -> None:
    """misc_init(): major 10's cdev exists once the misc model does."""
    k.model(Misc)


def misc_lookup(k, devt: int):
    """The miscdevice registered for ``devt`` (major 10), or None."""
    t = k.target
    if devt >> t.const("MINORBITS") != t.const("MISC_MAJOR"):
        return None
    return k.model(Misc).by_minor(devt & t.const("MINORMASK")) or None


def misc_devices(k) -> list:
    """(minor, name, fops, owner module name or None) of registered misc devices, list order."""
    out = []
    for misc in k.model(Misc).devices:
        fops = rd(k, misc, "miscdevice.fops")
        owner = k.module_at(rd(k, fops, "file_operations.owner")) if fops else None
        out.append((rd(k, misc, "miscdevice.minor", 4), cstr(k, rd(k, misc, "miscdevice.name")),
                    fops, owner.name if owner else None))
    return out


def proc_misc(k) -> str:
    """/proc/misc: ``"%3i %s\n"`` per device, misc_list order (the boot's last)."""
    return "".join(f"{minor:3d} {name}\n" for minor, name, _f, _o in misc_devices(k)) + \
        "".join(f"{minor:3d} {name}\n" for minor, name in BOOT_MISC)
