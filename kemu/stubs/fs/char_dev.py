"""fs/char_dev.c: character device numbers (chrdevs) and struct cdev (cdev_map).

Major/minor ranges are kept as the kernel keeps them: per major, ordered by
base minor, overlapping ranges refused with -EBUSY, dynamic majors taken from
254 down to 234 and then 511 down to 384 (find_dynamic_major). ``cdev_add``
maps a dev_t range to a ``struct cdev`` (the latest mapping wins, as with
kobj_map); opening a character device does what ``chrdev_open`` does: look the
cdev up by ``i_rdev``, take ``cdev->owner`` (cdev_get) and ``fops->owner``
(fops_get), call ``->open``.

Python API:
``chrdev_open(k, devt, flags=O_RDWR, path="") -> OpenFile``,
``chrdevs(k) -> [(major, baseminor, minorct, name, owner)]``,
``cdev_lookup(k, devt) -> (cdev address, fops address) or None``,
``proc_devices(k) -> str`` (the character part of /proc/devices).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.kernel.log import KERN_ERR

from ..lib.kemu_warn import warn
from kemu.abi.toolkit import cstr, init_list_head, kfree, kzalloc, owner_of, rd, sym, wr

members("struct file_operations", "owner")
members("struct device", "kobj", "devt")

CHRDEV_MAJOR_HASH_SIZE = 255
# Character majors a booted Debian 6.1 kernel has before any module registers one:
# the oracle VM's /proc/devices (majors 254 down to 247 are dynamic ones the boot
# took, so a module's first dynamic major is 246). Minor ranges of the dynamic
# ones are not visible there; they are taken whole.
BOOT_CHRDEVS = ((1, 0, 256, "mem"), (4, 0, 1, "/dev/vc/0"), (4, 1, 63, "tty"),
                (4, 64, 32, "ttyS"), (5, 0, 1, "/dev/tty"), (5, 1, 1, "/dev/console"),
                (5, 2, 1, "/dev/ptmx"), (7, 0, 256, "vcs"), (10, 0, 256, "misc"),
                (13, 0, 256, "input"), (29, 0, 256, "fb"), (128, 0, 256, "ptm"),
                (136, 0, 256, "pts"), (153, 0, 256, "spi"), (247, 0, 256, "cxl"),
                (248, 0, 256, "bsg"), (249, 0, 256, "ptp"), (250, 0, 256, "pps"),
                (251, 0, 256, "rtc"), (252, 0, 256, "dax"), (253, 0, 256, "tpm"),
                (254, 0, 256, "gpiochip"))


members("struct cdev", "kobj", "owner", "ops", "list", "dev", "count")

# What makes a major's driver appear on first open, as base_probe()'s
# request_module("char-major-N") does: major constant name -> fn(k); misc.c adds
# itself here so that this file need not know it.
CHRDEV_PROBES: dict = {}


def chrdev_probe(major: str):
    """Decorator: ``fn(k)`` readies the driver of major ``major`` (a target constant)."""
    def deco(fn):
        CHRDEV_PROBES[major] = fn
        return fn
    return deco


def MAJOR(k, dev: int) -> int:
    return dev >> k.target.const("MINORBITS")


def MINOR(k, dev: int) -> int:
    return dev & k.target.const("MINORMASK")


def MKDEV(k, major: int, minor: int) -> int:
    return ((major << k.target.const("MINORBITS")) | minor) & 0xFFFFFFFF


class Region:
    """A struct char_device_struct."""
    __slots__ = ("major", "baseminor", "minorct", "name", "cdev", "owner", "addr")

    def __init__(self, major, baseminor, minorct, name, owner):
        self.major, self.baseminor, self.minorct, self.name = major, baseminor, minorct, name
        self.cdev, self.owner, self.addr = 0, owner, 0


class CharDevs:
    """Per-kernel chrdevs table and cdev_map."""

    def __init__(self, k):
        self.k = k
        self.regions: list[Region] = []
        self.cdev_map: list[tuple[int, int, int]] = []     # (dev, count, cdev), newest last
        self.dynamic_cdevs: set[int] = set()                # from cdev_alloc (freed at release)
        self.open_hooks: dict = {}     # kernel fops -> fn(k, OpenFile) run before ->open (misc)
        for major, base, count, name in BOOT_CHRDEVS:
            self.regions.append(Region(major, base, count, name, None))

    def bucket(self, index: int) -> list[Region]:
        return [r for r in self.regions if r.major % CHRDEV_MAJOR_HASH_SIZE == index]

    def find_dynamic_major(self) -> int:
        t = self.k.target
        for i in range(CHRDEV_MAJOR_HASH_SIZE - 1, t.const("CHRDEV_MAJOR_DYN_END") - 1, -1):
            if not self.bucket(i):
                return i
        for i in range(t.const("CHRDEV_MAJOR_DYN_EXT_START"),
                       t.const("CHRDEV_MAJOR_DYN_EXT_END") - 1, -1):
            if not any(r.major == i for r in self.regions):
                return i
        return -errno.EBUSY

    def lookup(self, dev: int) -> int:
        """kobj_lookup(cdev_map, dev): the newest cdev mapping ``dev``, or 0."""
        for base, count, cdev in reversed(self.cdev_map):
            if base <= dev < base + count:
                return cdev
        return 0


def _register_region(k, major, baseminor, minorct, name):
    """__register_chrdev_region(): a Region or -errno."""
    t = k.target
    cd = k.model(CharDevs)
    if major >= t.const("CHRDEV_MAJOR_MAX"):
        k.log.emit(KERN_ERR, f'CHRDEV "{name}" major requested ({major}) is greater than the maximum '
                      f'({t.const("CHRDEV_MAJOR_MAX") - 1})')
        return -errno.EINVAL
    if minorct > t.const("MINORMASK") + 1 - baseminor:
        k.log.emit(KERN_ERR, f'CHRDEV "{name}" minor range requested ({baseminor}-'
                      f'{baseminor + minorct - 1}) is out of range of maximum range '
                      f'(0-{t.const("MINORMASK")}) for a single major')
        return -errno.EINVAL
    if major == 0:
        major = cd.find_dynamic_major()
        if major < 0:
            k.log.emit(KERN_ERR, f'CHRDEV "{name}" dynamic allocation region is full')
            return major
    for r in cd.regions:
        if r.major != major:
            continue
        if r.baseminor + r.minorct <= baseminor or r.baseminor >= baseminor + minorct:
            continue
        return -errno.EBUSY
    reg = Region(major, baseminor, minorct, name[:63], k.current_module())
    cd.regions.append(reg)
    cd.regions.sort(key=lambda r: (r.major % CHRDEV_MAJOR_HASH_SIZE, r.major, r.baseminor))
    k.register("chrdev region", (major, baseminor, minorct), reg.owner,
               f"char device region {major}:{baseminor} ({minorct} minors, \"{reg.name}\")")
    return reg


def _unregister_region(k, major, baseminor, minorct):
    """__unregister_chrdev_region(): the exactly matching Region, removed, or None."""
    cd = k.model(CharDevs)
    for r in cd.regions:
        if r.major == major and r.baseminor == baseminor and r.minorct == minorct:
            cd.regions.remove(r)
            k.unregister("chrdev region", (major, baseminor, minorct))
            return r
    return None


@export("int register_chrdev_region(dev_t from, unsigned count, const char *name)", fails="-EBUSY")
def register_chrdev_region(k, frm, count, name):
    text = cstr(k, name, 64)
    to = (frm + count) & 0xFFFFFFFF      # dev_t arithmetic wraps at 32 bits
    n = frm
    done = []
    while n < to:
        k.machine.check_deadline()      # past the last major, next wraps to 0: Linux loops
        nxt = min(MKDEV(k, MAJOR(k, n) + 1, 0) & 0xFFFFFFFF, to)
        reg = _register_region(k, MAJOR(k, n), MINOR(k, n), nxt - n, text)
        if isinstance(reg, int):
            for m in done:
                _unregister_region(k, m.major, m.baseminor, m.minorct)
            return reg
        done.append(reg)
        n = nxt
    return 0


@export("int alloc_chrdev_region(dev_t *dev, unsigned baseminor, unsigned count, const char *name)", fails="-EBUSY")
def alloc_chrdev_region(k, dev, baseminor, count, name):
    reg = _register_region(k, 0, baseminor, count, cstr(k, name, 64))
    if isinstance(reg, int):
        return reg
    k.machine.write_u32(dev, MKDEV(k, reg.major, reg.baseminor))
    return 0


@export("void unregister_chrdev_region(dev_t from, unsigned count)")
def unregister_chrdev_region(k, frm, count):
    to = (frm + count) & 0xFFFFFFFF      # dev_t arithmetic wraps at 32 bits
    n = frm
    while n < to:
        k.machine.check_deadline()      # past the last major, next wraps to 0: Linux loops
        nxt = min(MKDEV(k, MAJOR(k, n) + 1, 0) & 0xFFFFFFFF, to)
        _unregister_region(k, MAJOR(k, n), MINOR(k, n), nxt - n)
        n = nxt


@export("int __register_chrdev(unsigned int major, unsigned int baseminor, unsigned int count, "
        "const char *name, const struct file_operations *fops)", fails="-EBUSY")
def __register_chrdev(k, major, baseminor, count, name, fops):
    text = cstr(k, name, 64)
    reg = _register_region(k, major, baseminor, count, text)
    if isinstance(reg, int):
        return reg
    cdev = _cdev_alloc(k)
    wr(k, cdev, "cdev.owner", rd(k, fops, "file_operations.owner"))
    wr(k, cdev, "cdev.ops", fops)
    _set_kobj_name(k, cdev + k.target.offset("cdev.kobj"), text)
    _cdev_add(k, cdev, MKDEV(k, reg.major, baseminor), count)
    reg.cdev = cdev
    return 0 if major else reg.major


@export("void __unregister_chrdev(unsigned int major, unsigned int baseminor, unsigned int count, "
        "const char *name)")
def __unregister_chrdev(k, major, baseminor, count, name):
    reg = _unregister_region(k, major, baseminor, count)
    if reg is not None and reg.cdev:
        _cdev_del(k, reg.cdev)


# ------------------------------------------------------------ struct cdev
def _set_kobj_name(k, kobj, name: str):
    from kemu.abi.toolkit import kstrdup
    old = rd(k, kobj, "kobject.name")
    if old:
        kfree(k, old)
    wr(k, kobj, "kobject.name", kstrdup(k, name, "kobject name"))


def _kobject_init(k, kobj):
    wr(k, kobj, "kobject.kref", 1, 4)
    init_list_head(k, kobj + k.target.offset("kobject.entry"))


def _cdev_alloc(k) -> int:
    t = k.target
    cd = k.model(CharDevs)
    p = kzalloc(k, t.sizeof("cdev"), "cdev")
    init_list_head(k, p + t.offset("cdev.list"))
    _kobject_init(k, p + t.offset("cdev.kobj"))
    cd.dynamic_cdevs.add(p)
    return p


@export("struct cdev *cdev_alloc(void)", fails="NULL")
def cdev_alloc(k):
    return _cdev_alloc(k)


@export("void cdev_init(struct cdev *cdev, const struct file_operations *fops)")
def cdev_init(k, cdev, fops):
    t = k.target
    k.machine.write(cdev, bytes(t.sizeof("cdev")))
    init_list_head(k, cdev + t.offset("cdev.list"))
    _kobject_init(k, cdev + t.offset("cdev.kobj"))
    wr(k, cdev, "cdev.ops", fops)
    k.model(CharDevs).dynamic_cdevs.discard(cdev)


def _cdev_add(k, cdev, dev, count) -> int:
    cd = k.model(CharDevs)
    wr(k, cdev, "cdev.dev", dev, 4)
    wr(k, cdev, "cdev.count", count, 4)
    if dev == 0:                                  # WHITEOUT_DEV
        warn(k, "fs/char_dev.c:486", "cdev_add+0x55/0x70")
        return -errno.EBUSY
    cd.cdev_map.append((dev, count, cdev))
    owner = owner_of(k, rd(k, cdev, "cdev.owner"))
    k.register("cdev", cdev, owner, f"cdev {MAJOR(k, dev)}:{MINOR(k, dev)} "
                                    f"({count} minors, {sym(k, rd(k, cdev, 'cdev.ops'))})")
    return 0


@export("int cdev_add(struct cdev *p, dev_t dev, unsigned count)", fails="-ENOMEM")
def cdev_add(k, p, dev, count):
    return _cdev_add(k, p, dev, count)


def _cdev_del(k, p):
    cd = k.model(CharDevs)
    dev = rd(k, p, "cdev.dev", 4)
    count = rd(k, p, "cdev.count", 4)
    for i in range(len(cd.cdev_map) - 1, -1, -1):       # cdev_unmap()
        if cd.cdev_map[i] == (dev, count, p):
            del cd.cdev_map[i]
            break
    k.unregister("cdev", p)
    _cdev_put_kobj(k, p)


def _cdev_put_kobj(k, p):
    """kobject_put(&p->kobj): a cdev_alloc'd cdev is freed at the last reference."""
    cd = k.model(CharDevs)
    kref = p + k.target.offset("cdev.kobj") + k.target.offset("kobject.kref")
    refs = k.machine.read_u32(kref) - 1
    k.machine.write_u32(kref, max(refs, 0))
    if refs <= 0:
        name = rd(k, p + k.target.offset("cdev.kobj"), "kobject.name")
        if name:
            kfree(k, name)
            wr(k, p + k.target.offset("cdev.kobj"), "kobject.name", 0)
        if p in cd.dynamic_cdevs:
            cd.dynamic_cdevs.discard(p)
            kfree(k, p)


@export("void cdev_del(struct cdev *p)")
def cdev_del(k, p):
    _cdev_del(k, p)


@export("void cdev_set_parent(struct cdev *p, struct kobject *kobj)")
def cdev_set_parent(k, p, kobj):
    wr(k, p + k.target.offset("cdev.kobj"), "kobject.parent", kobj)


@export("int cdev_device_add(struct cdev *cdev, struct device *dev)")
def cdev_device_add(k, cdev, dev):
    from ..drivers.base.core import device_add_gen
    devt = rd(k, dev, "device.devt", 4)
    if devt:
        cdev_set_parent(k, cdev, dev + k.target.offset("device.kobj"))
        rc = _cdev_add(k, cdev, devt, 1)
        if rc:
            return rc
    rc = yield from device_add_gen(k, dev)
    if rc and devt:
        _cdev_del(k, cdev)
    return rc


@export("void cdev_device_del(struct cdev *cdev, struct device *dev)")
def cdev_device_del(k, cdev, dev):
    from ..drivers.base.core import device_del_gen
    yield from device_del_gen(k, dev)
    if rd(k, dev, "device.devt", 4):
        _cdev_del(k, cdev)


# ------------------------------------------------------------ Python API
def cdev_lookup(k, devt: int):
    """(cdev, fops) mapped for ``devt``, or None."""
    cdev = k.model(CharDevs).lookup(devt)
    return (cdev, rd(k, cdev, "cdev.ops")) if cdev else None


def chrdev_open(k, devt: int, flags: int | None = None, path: str = ""):
    """open(2) of a character device node for ``devt``: chrdev_open's steps."""
    from .open import FileError, OpenFile, alloc_file, alloc_inode, fops_table, module_get
    t = k.target
    if flags is None:
        flags = t.const("O_RDWR")
    path = path or f"char device {MAJOR(k, devt)}:{MINOR(k, devt)}"
    for major, probe in CHRDEV_PROBES.items():   # base_probe(): request_module("char-major-N")
        if MAJOR(k, devt) == t.const(major):
            probe(k)
    cd = k.model(CharDevs)
    cdev = cd.lookup(devt)
    if not cdev:
        raise FileError(f"{path}: open: No such device or address", errno.ENXIO)
    refs = []
    cowner = rd(k, cdev, "cdev.owner")
    if cowner:
        if not module_get(k, cowner):
            raise FileError(f"{path}: open: No such device or address", errno.ENXIO)
        refs.append(cowner)
    fops = rd(k, cdev, "cdev.ops")
    fowner = rd(k, fops, "file_operations.owner") if fops else 0
    if not fops or (fowner and not module_get(k, fowner)):
        from .open import module_put
        for r in refs:
            module_put(k, r)
        raise FileError(f"{path}: open: No such device or address", errno.ENXIO)
    if fowner:
        refs.append(fowner)
    inode = alloc_inode(k, t.const("S_IFCHR") | 0o600, rdev=devt, cdev=cdev, fop=0)
    file = alloc_file(k, inode, fops, flags, path=path)
    ops = fops_table(k, fops)
    f = OpenFile(k, path, inode, file, ops, "fops", k.module_at(fowner) if fowner else None, refs)
    hook = cd.open_hooks.get(fops)
    if hook is not None:
        f = hook(k, f)
    ret = f.do_open()
    if ret:
        f.ops["release"] = 0
        f.close()
        from kemu.errors import strerror
        raise FileError(f"{path}: open: {strerror(ret)}", -ret)
    return f


def chrdevs(k) -> list:
    """(major, baseminor, minorct, name, owner module name or None), in /proc/devices order."""
    return [(r.major, r.baseminor, r.minorct, r.name, r.owner.name if r.owner else None)
            for r in k.model(CharDevs).regions]


def proc_devices(k) -> str:
    """The "Character devices:" section of /proc/devices (chrdev_show: one line per region)."""
    cd = k.model(CharDevs)
    lines = ["Character devices:"]
    for i in range(CHRDEV_MAJOR_HASH_SIZE):
        for r in sorted(cd.bucket(i), key=lambda r: (r.major, r.baseminor)):
            lines.append(f"{r.major:3d} {r.name}")
    # majors above 254 are listed once the index passes them (chrdev_show with offset)
    return "\n".join(lines) + "\n"
