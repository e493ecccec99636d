"""block/genhd.c: block majors, gendisks and their registration.

``__register_blkdev`` keeps major_names as 6.1 does (a dynamic major is the
highest free one below 255; a taken major fails -EBUSY and a major past
BLKDEV_MAJOR_MAX -EINVAL, with the kernel's messages); /proc/devices lists
them under "Block devices:" after the boot kernel's ``259 blkext``.

A gendisk is allocated as ``__alloc_disk_node`` does: the disk, its
``part0`` block_device whose ``bd_device`` is the disk's struct device
(class "block", released by ``disk_release`` on the last ``put_device``),
and the queue it owns for ``blk_mq_alloc_disk``/``blk_alloc_disk``.
``device_add_disk`` checks major/minors as 6.1 does (no major: the next
extended minor of major 259), adds the device (/sys/devices/.../block/NAME,
the /sys/block/NAME link with the disk's ``size``, ``ro``, ``removable`` and
``range`` attributes, /dev/NAME) and lists the disk in /proc/partitions
while it has a capacity. ``del_gendisk`` removes it; a disk a module leaves
added after its exit is reported (the "device" registration).

Not modelled: partition scanning (no request is issued to read the first
sectors, so a disk has no partitions), disk events, holders, bdi, uevents.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, static, static_addr, wr
from kemu.kernel.log import KERN_ERR, KERN_WARNING

from ..drivers.base.class_ import Classes
from ..drivers.base.core import (device_add_gen, device_del_gen, initialize,
                                 put_device_gen)
from ..fs.sysfs import Node, Sysfs
from ..lib.kemu_warn import warn
from .blk import elevator_exit, elevator_init, exit_queue, queue_put

members("struct gendisk", "major", "first_minor", "minors", "disk_name", "fops", "queue",
        "private_data", "part0", "flags", "state")
members("struct block_device", "bd_nr_sectors", "bd_disk", "bd_dev", "bd_device",
        "bd_queue", "bd_read_only")
members("struct device", "class", "release", "devt", "parent", "groups")
members("struct block_device_operations", "free_disk")

BLKDEV_MAJOR_HASH_SIZE = 255
BLKDEV_MAJOR_MAX = 512
BLOCK_EXT_MAJOR = 259
NR_EXT_DEVT = 1 << 20                    # 1 << MINORBITS
BOOT_MAJORS = [(BLOCK_EXT_MAJOR, "blkext")]   # genhd_device_init()


DISK_ATTRS = ("range", "removable", "ro", "size")     # disk_attrs[] that kemu shows


def _kstr(k, text: str) -> int:
    addr = k.machine.alloc_kdata(len(text) + 1, 1)
    k.machine.write(addr, text.encode() + b"\0")
    return addr


def _disk_type(k) -> int:
    """disk_type: name "disk", its attribute group of read-only disk attributes."""
    t, m = k.target, k.machine
    attrs = m.alloc_kdata(8 * (len(DISK_ATTRS) + 1), 8)
    for i, name in enumerate(DISK_ATTRS):
        dattr = m.alloc_kdata(t.sizeof("device_attribute"), 8)
        wr(k, dattr + t.offset("device_attribute.attr"), "attribute.name", _kstr(k, name))
        wr(k, dattr + t.offset("device_attribute.attr"), "attribute.mode", 0o444, 2)
        wr(k, dattr, "device_attribute.show", static_addr(k, f"disk_{name}_show"))
        m.write_u64(attrs + 8 * i, dattr + t.offset("device_attribute.attr"))
    group = m.alloc_kdata(t.sizeof("attribute_group"), 8)
    wr(k, group, "attribute_group.attrs", attrs)
    groups = m.alloc_kdata(16, 8)
    m.write_u64(groups, group)
    dtype = m.alloc_kdata(t.sizeof("device_type"), 8)
    wr(k, dtype, "device_type.name", _kstr(k, "disk"))
    wr(k, dtype, "device_type.groups", groups)
    return dtype


class BlockDevs:
    """Per-kernel block majors and disks."""

    def __init__(self, k):
        self.disk_type = _disk_type(k)
        self.majors: dict[int, tuple[str, object]] = {m: (n, None) for m, n in BOOT_MAJORS}
        self.ext_minors: set[int] = set()
        self.disks: list[int] = []            # added disks, in device_add order
        self.ever_added: set[int] = set()     # GD_ADDED
        self.owned_queue: dict[int, int] = {}  # disk -> the queue it owns (GD_OWNS_QUEUE)


def _devt(major: int, minor: int) -> int:
    return (major << 20) | minor


# ------------------------------------------------------------ majors
@export("int __register_blkdev(unsigned int major, const char *name, void (*probe)(dev_t devt))")
def __register_blkdev(k, major, name, probe):
    bd = k.model(BlockDevs)
    text = cstr(k, name, 16)
    ret = 0
    if major == 0:
        index = next((i for i in range(BLKDEV_MAJOR_HASH_SIZE - 1, 0, -1)
                      if not any(m % BLKDEV_MAJOR_HASH_SIZE == i for m in bd.majors)), 0)
        if index == 0:
            k.log.emit(KERN_WARNING, f"__register_blkdev: failed to get major for {text}")
            return -errno.EBUSY
        major = ret = index
    if major >= BLKDEV_MAJOR_MAX:
        k.log.emit(KERN_ERR, f"__register_blkdev: major requested ({major}) is greater than the "
                             f"maximum ({BLKDEV_MAJOR_MAX - 1}) for {text}")
        return -errno.EINVAL
    if major in bd.majors:
        k.log.emit(KERN_WARNING, f"register_blkdev: cannot get major {major} for {text}")
        return -errno.EBUSY
    owner = k.current_module()
    bd.majors[major] = (text, owner)
    k.register("blkdev major", major, owner, f"block major {major} ({text})")
    return ret


@export("void unregister_blkdev(unsigned int major, const char *name)")
def unregister_blkdev(k, major, name):
    bd = k.model(BlockDevs)
    have = bd.majors.get(major)
    if have is None or have[0] != cstr(k, name, 16) or have[1] is None:
        warn(k, "block/genhd.c:281", "unregister_blkdev+0x9e/0xb0")
        return
    del bd.majors[major]
    k.unregister("blkdev major", major)


def proc_devices_block(k) -> str:
    """The "Block devices:" section of /proc/devices (blkdev_show, by major)."""
    bd = k.model(BlockDevs)
    return "Block devices:\n" + "".join(f"{m:3d} {bd.majors[m][0]}\n" for m in sorted(bd.majors))


# ------------------------------------------------------------ disks
def disk_dev(k, disk) -> int:
    """disk_to_dev(): &disk->part0->bd_device."""
    return rd(k, disk, "gendisk.part0") + k.target.offset("block_device.bd_device")


def alloc_disk(k, q, owns_queue: bool) -> int:
    """__alloc_disk_node(): the disk, part0, and its device initialised in class block."""
    t = k.target
    disk = kzalloc(k, t.sizeof("gendisk"), "gendisk")
    part0 = kzalloc(k, t.sizeof("block_device"), "block_device")
    wr(k, disk, "gendisk.queue", q)
    wr(k, disk, "gendisk.part0", part0)
    wr(k, part0, "block_device.bd_disk", disk)
    wr(k, part0, "block_device.bd_queue", q)
    wr(k, q, "request_queue.disk", disk)
    dev = part0 + t.offset("block_device.bd_device")
    initialize(k, dev)
    wr(k, dev, "device.class", k.model(Classes).boot["block"])
    wr(k, dev, "device.type", k.model(BlockDevs).disk_type)
    wr(k, dev, "device.release", static_addr(k, "disk_release"))
    if owns_queue:
        k.model(BlockDevs).owned_queue[disk] = q
    return disk


def dev_to_disk(k, dev) -> int:
    return rd(k, dev - k.target.offset("block_device.bd_device"), "block_device.bd_disk")


def _show(k, buf, text: str) -> int:
    k.machine.write(buf, text.encode() + b"\0")
    return len(text)


@static("ssize_t disk_size_show(struct device *dev, struct device_attribute *attr, char *buf)")
def disk_size_show(k, dev, attr, buf):
    return _show(k, buf, f"{capacity(k, dev_to_disk(k, dev))}\n")


@static("ssize_t disk_ro_show(struct device *dev, struct device_attribute *attr, char *buf)")
def disk_ro_show(k, dev, attr, buf):
    """get_disk_ro(): GD_READ_ONLY or part0's bd_read_only."""
    disk = dev_to_disk(k, dev)
    ro = rd(k, disk, "gendisk.state") >> k.target.const("GD_READ_ONLY") & 1 or \
        rd(k, rd(k, disk, "gendisk.part0"), "block_device.bd_read_only", 1)
    return _show(k, buf, f"{int(bool(ro))}\n")


@static("ssize_t disk_removable_show(struct device *dev, struct device_attribute *attr, "
        "char *buf)")
def disk_removable_show(k, dev, attr, buf):
    removable = rd(k, dev_to_disk(k, dev), "gendisk.flags", 4) & \
        k.target.const("GENHD_FL_REMOVABLE")
    return _show(k, buf, f"{int(bool(removable))}\n")


@static("ssize_t disk_range_show(struct device *dev, struct device_attribute *attr, char *buf)")
def disk_range_show(k, dev, attr, buf):
    return _show(k, buf, f"{rd(k, dev_to_disk(k, dev), 'gendisk.minors', 4)}\n")


@static("void disk_release(struct device *dev)")
def disk_release(k, dev):
    """The last put_device() of a disk: its queue reference, part0 and the disk."""
    part0 = dev - k.target.offset("block_device.bd_device")
    disk = rd(k, part0, "block_device.bd_disk")
    bd = k.model(BlockDevs)
    q = rd(k, disk, "gendisk.queue")
    if bd.owned_queue.pop(disk, None) and disk not in bd.ever_added:
        yield from exit_queue(k, q)                 # never added: undo the queue's set-up
    if q:
        wr(k, q, "request_queue.disk", 0)
        yield from queue_put(k, q)
    if rd(k, disk, "gendisk.fops"):
        free = rd(k, rd(k, disk, "gendisk.fops"), "block_device_operations.free_disk")
        if free and disk in bd.ever_added:
            yield k.call_request(free, disk)
    bd.ever_added.discard(disk)
    kfree(k, part0)
    kfree(k, disk)


def capacity(k, disk) -> int:
    return rd(k, rd(k, disk, "gendisk.part0"), "block_device.bd_nr_sectors")


@export("int device_add_disk(struct device *parent, struct gendisk *disk, "
        "const struct attribute_group **groups)")
def device_add_disk(k, parent, disk, groups):
    bd = k.model(BlockDevs)
    t = k.target
    major = rd(k, disk, "gendisk.major", 4)
    minors = rd(k, disk, "gendisk.minors", 4)
    first = rd(k, disk, "gendisk.first_minor", 4)
    minormask = (1 << 20) - 1
    max_parts = t.const("DISK_MAX_PARTS")
    ext = None
    if major:
        if not minors:
            warn(k, "block/genhd.c:431", "device_add_disk+0x2e6/0x3d0")
            return -errno.EINVAL
        if minors > max_parts:
            k.log.emit(KERN_ERR, f"block: can't allocate more than {max_parts} partitions")
            minors = max_parts
            wr(k, disk, "gendisk.minors", minors, 4)
        if first > minormask or minors > minormask + 1 or first + minors > minormask + 1:
            return -errno.EINVAL
    else:
        if minors:
            warn(k, "block/genhd.c:444", "device_add_disk+0x30f/0x3d0")
            return -errno.EINVAL
        ext = next(i for i in range(NR_EXT_DEVT) if i not in bd.ext_minors)
        bd.ext_minors.add(ext)
        major, first = BLOCK_EXT_MAJOR, ext
        wr(k, disk, "gendisk.major", major, 4)
        wr(k, disk, "gendisk.first_minor", first, 4)
    yield from elevator_init(k, rd(k, disk, "gendisk.queue"))
    dev = disk_dev(k, disk)
    name = cstr(k, disk + t.offset("gendisk.disk_name"), 32)
    from ..lib import kobject as ko
    ko.set_name(k, dev + t.offset("device.kobj"), name)
    wr(k, dev, "device.parent", parent)
    wr(k, dev, "device.groups", groups)
    hidden = rd(k, disk, "gendisk.flags", 4) & t.const("GENHD_FL_HIDDEN")
    if not hidden:
        wr(k, dev, "device.devt", _devt(major, first), 4)
    ret = yield from device_add_gen(k, dev)
    if ret:
        if ext is not None:
            bd.ext_minors.discard(ext)
        return ret
    part0 = rd(k, disk, "gendisk.part0")
    wr(k, part0, "block_device.bd_dev", _devt(major, first), 4)
    from ..drivers.base.core import Devices
    rec = k.model(Devices).added.get(dev)
    if rec is not None:
        sysfs = k.model(Sysfs)
        sysfs.nodes[f"/block/{name}"] = Node(f"/block/{name}", "link", None, target=rec.path)
    bd.disks.append(disk)
    bd.ever_added.add(disk)
    return 0


@export("void del_gendisk(struct gendisk *disk)")
def del_gendisk(k, disk):
    bd = k.model(BlockDevs)
    if disk not in bd.disks:
        return                                   # !disk_live(): never added
    bd.disks.remove(disk)
    name = cstr(k, disk + k.target.offset("gendisk.disk_name"), 32)
    k.model(Sysfs).nodes.pop(f"/block/{name}", None)
    yield from device_del_gen(k, disk_dev(k, disk))
    if rd(k, disk, "gendisk.major", 4) == BLOCK_EXT_MAJOR:
        bd.ext_minors.discard(rd(k, disk, "gendisk.first_minor", 4))
    yield from elevator_exit(k, rd(k, disk, "gendisk.queue"))
    q = bd.owned_queue.get(disk)
    if q:
        yield from exit_queue(k, q)


@export("void put_disk(struct gendisk *disk)")
def put_disk(k, disk):
    if disk:
        yield from put_device_gen(k, disk_dev(k, disk))


@export("void set_capacity(struct gendisk *disk, sector_t size)")
def set_capacity(k, disk, size):
    wr(k, rd(k, disk, "gendisk.part0"), "block_device.bd_nr_sectors", size)


@export("bool set_capacity_and_notify(struct gendisk *disk, sector_t size)")
def set_capacity_and_notify(k, disk, size):
    """The capacity; the "capacity change" line and uevent only for a live disk that had one."""
    old = capacity(k, disk)
    set_capacity(k, disk, size)
    if disk not in k.model(BlockDevs).disks or not old or not size or old == size:
        return False
    from kemu.kernel.log import KERN_INFO
    name = cstr(k, disk + k.target.offset("gendisk.disk_name"), 32)
    k.log.emit(KERN_INFO, f"{name}: detected capacity change from {old} to {size}")
    return True


@export("void set_disk_ro(struct gendisk *disk, bool read_only)")
def set_disk_ro(k, disk, read_only):
    """GD_READ_ONLY in disk->state (the uevent is not modelled)."""
    bit = 1 << k.target.const("GD_READ_ONLY")
    state = rd(k, disk, "gendisk.state")
    wr(k, disk, "gendisk.state", state | bit if read_only else state & ~bit)


def proc_partitions(k) -> str:
    """/proc/partitions (show_partition): each added, visible disk with a capacity.

    kemu's machine has no disk of its own; partitions are never scanned."""
    lines = ["major minor  #blocks  name", ""]
    hidden = k.target.const("GENHD_FL_HIDDEN")
    for disk in k.model(BlockDevs).disks:
        sectors = capacity(k, disk)
        if not sectors or rd(k, disk, "gendisk.flags", 4) & hidden:
            continue
        devt = rd(k, rd(k, disk, "gendisk.part0"), "block_device.bd_dev", 4)
        name = cstr(k, disk + k.target.offset("gendisk.disk_name"), 32)
        lines.append("%4d  %7d %10d %s" % (devt >> 20, devt & 0xFFFFF, sectors >> 1, name))
    return "\n".join(lines) + "\n"


def disks(k) -> list:
    """[(name, major, minor, sectors, owner module name or None)] of the added disks."""
    from ..drivers.base.core import Devices
    out = []
    for disk in k.model(BlockDevs).disks:
        devt = rd(k, rd(k, disk, "gendisk.part0"), "block_device.bd_dev", 4)
        rec = k.model(Devices).added.get(disk_dev(k, disk))
        owner = rec.owner.name if rec is not None and rec.owner else None
        out.append((cstr(k, disk + k.target.offset("gendisk.disk_name"), 32), devt >> 20,
                    devt & 0xFFFFF, capacity(k, disk), owner))
    return out
