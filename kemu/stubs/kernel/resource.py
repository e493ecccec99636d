"""kernel/resource.c: the I/O port and memory resource trees.

``ioport_resource`` and ``iomem_resource`` are real ``struct resource`` trees
in kernel memory (``parent``/``sibling``/``child`` pointers, siblings sorted
by start), populated with what a booted PC's kernel holds (the legacy ISA
devices, the serial port, PCI conf1, System RAM, the APICs and HPET).
``__request_region`` follows the kernel: it descends into non-busy ranges
(the PCI bus windows) and fails (NULL) on a busy conflict, so a port the
"boot" kernel or another module holds is refused. Regions requested by a
module are registrations: a region still requested after its module's exit
is reported. ``__release_region`` of a range not requested warns like
Linux ("Trying to free nonexistent resource").

Python API: ``resource_tree(k, "ioport"|"iomem") -> [(depth, start, end, name)]``
(the /proc/ioports and /proc/iomem view).
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, wr

members("struct resource", "start", "end", "name", "flags", "desc", "parent", "sibling",
        "child")

# (start, end, name, busy, children) as /proc/ioports of a booted PC (QEMU/KVM, Debian 6.1)
BOOT_IOPORTS = (
    (0x0000, 0x0CF7, "PCI Bus 0000:00", False, (
        (0x0000, 0x001F, "dma1", True, ()), (0x0020, 0x0021, "pic1", True, ()),
        (0x0040, 0x0043, "timer0", True, ()), (0x0050, 0x0053, "timer1", True, ()),
        (0x0060, 0x0060, "keyboard", True, ()), (0x0064, 0x0064, "keyboard", True, ()),
        (0x0070, 0x0077, "rtc0", True, ()), (0x0080, 0x008F, "dma page reg", True, ()),
        (0x00A0, 0x00A1, "pic2", True, ()), (0x00C0, 0x00DF, "dma2", True, ()),
        (0x00F0, 0x00FF, "fpu", True, ()), (0x03C0, 0x03DF, "vga+", True, ()),
        (0x03F8, 0x03FF, "serial", True, ()), (0x0600, 0x067F, "0000:00:1f.0", False, (
            (0x0600, 0x0603, "ACPI PM1a_EVT_BLK", True, ()),
            (0x0604, 0x0605, "ACPI PM1a_CNT_BLK", True, ()),
            (0x0608, 0x060B, "ACPI PM_TMR", True, ()),
            (0x0620, 0x062F, "ACPI GPE0_BLK", True, ()))),
    )),
    (0x0CF8, 0x0CFF, "PCI conf1", True, ()),
    (0x0D00, 0xFFFF, "PCI Bus 0000:00", False, ()),
)
BOOT_IOMEM = (
    (0x00000000, 0x00000FFF, "Reserved", True, ()),
    (0x00001000, 0x0009FBFF, "System RAM", True, ()),
    (0x0009FC00, 0x0009FFFF, "Reserved", True, ()),
    (0x000A0000, 0x000BFFFF, "PCI Bus 0000:00", False, ()),
    (0x000C0000, 0x000C99FF, "Video ROM", True, ()),
    (0x000F0000, 0x000FFFFF, "Reserved", True, ()),
    (0x00100000, 0x7FFDFFFF, "System RAM", True, ()),
    (0x7FFE0000, 0x7FFFFFFF, "Reserved", True, ()),
    (0x80000000, 0xAFFFFFFF, "PCI Bus 0000:00", False, ()),
    (0xB0000000, 0xBFFFFFFF, "PCI MMCONFIG 0000 [bus 00-ff]", True, ()),
    (0xC0000000, 0xFEBFFFFF, "PCI Bus 0000:00", False, ()),
    (0xFEC00000, 0xFEC003FF, "IOAPIC 0", True, ()),
    (0xFED00000, 0xFED003FF, "HPET 0", True, ()),
    (0xFEE00000, 0xFEE00FFF, "Local APIC", True, ()),
    (0xFFFC0000, 0xFFFFFFFF, "Reserved", True, ()),
)
IOMEM_END = (1 << 40) - 1            # (1 << x86_phys_bits) - 1


def _mk(k, start, end, name, flags) -> int:
    """A boot-time struct resource in kernel data."""
    m = k.machine
    res = m.alloc_kdata(k.target.sizeof("resource"), 8)
    name_addr = m.alloc_kdata(len(name) + 1, 1)
    m.write(name_addr, name.encode() + b"\0")
    wr(k, res, "resource.start", start)
    wr(k, res, "resource.end", end)
    wr(k, res, "resource.name", name_addr)
    wr(k, res, "resource.flags", flags)
    return res


def _populate(k, root, entries, typ):
    busy = k.target.const("IORESOURCE_BUSY")
    for start, end, name, is_busy, children in entries:
        res = _mk(k, start, end, name, typ | (busy if is_busy else 0))
        if request_resource_conflict(k, root, res):
            raise AssertionError(f"boot resource {name} overlaps")
        _populate(k, res, children, typ)


@data("struct resource ioport_resource")
def ioport_resource(k, addr):
    t = k.target
    wr(k, addr, "resource.start", 0)
    wr(k, addr, "resource.end", t.const("IO_SPACE_LIMIT"))
    wr(k, addr, "resource.name", _static_str(k, "PCI IO"))
    wr(k, addr, "resource.flags", t.const("IORESOURCE_IO"))
    _populate(k, addr, BOOT_IOPORTS, t.const("IORESOURCE_IO"))


@data("struct resource iomem_resource")
def iomem_resource(k, addr):
    t = k.target
    wr(k, addr, "resource.start", 0)
    wr(k, addr, "resource.end", IOMEM_END)
    wr(k, addr, "resource.name", _static_str(k, "PCI mem"))
    wr(k, addr, "resource.flags", t.const("IORESOURCE_MEM"))
    _populate(k, addr, BOOT_IOMEM, t.const("IORESOURCE_MEM"))


def _static_str(k, text):
    a = k.machine.alloc_kdata(len(text) + 1, 1)
    k.machine.write(a, text.encode() + b"\0")
    return a


def _children(k, parent):
    c = rd(k, parent, "resource.child")
    while c:
        yield c
        c = rd(k, c, "resource.sibling")


def request_resource_conflict(k, root, new) -> int:
    """__request_resource(): insert ``new`` under ``root``; 0 or the conflicting resource."""
    start, end = rd(k, new, "resource.start"), rd(k, new, "resource.end")
    if end < start or start < rd(k, root, "resource.start") or end > rd(k, root, "resource.end"):
        return root
    link = root + k.target.offset("resource.child")      # the pointer to update
    while True:
        tmp = k.machine.read_u64(link)
        if not tmp or rd(k, tmp, "resource.start") > end:
            wr(k, new, "resource.sibling", tmp)
            k.machine.write_u64(link, new)
            wr(k, new, "resource.parent", root)
            return 0
        link = tmp + k.target.offset("resource.sibling")
        if rd(k, tmp, "resource.end") < start:
            continue
        return tmp


def _fmt_range(k, res) -> str:
    return f"{rd(k, res, 'resource.start'):#x}-{rd(k, res, 'resource.end'):#x}"


def _kind(k, parent) -> str:
    return "I/O ports" if rd(k, parent, "resource.flags") & k.target.const("IORESOURCE_IO") \
        else "memory"


@export("struct resource *__request_region(struct resource *parent, resource_size_t start, "
        "resource_size_t n, const char *name, int flags)")
def __request_region(k, parent, start, n, name, flags):
    t = k.target
    busy = t.const("IORESOURCE_BUSY")
    muxed = t.const("IORESOURCE_MUXED")
    res = kzalloc(k, t.sizeof("resource"), "resource")
    wr(k, res, "resource.name", name)
    wr(k, res, "resource.start", start)
    wr(k, res, "resource.end", (start + n - 1) & 0xFFFFFFFFFFFFFFFF)
    pflags = rd(k, parent, "resource.flags")
    # resource_type(parent) | resource_ext_type(parent), then IORESOURCE_BUSY | flags
    wr(k, res, "resource.flags", (pflags & (t.const("IORESOURCE_TYPE_BITS")
                                            | t.const("IORESOURCE_EXT_TYPE_BITS")))
       | busy | (flags & 0xFFFFFFFF))
    wr(k, res, "resource.desc", rd(k, parent, "resource.desc", 4), 4)
    top = parent
    while True:
        conflict = request_resource_conflict(k, parent, res)
        if not conflict:
            break
        if conflict != parent and not rd(k, conflict, "resource.flags") & busy:
            parent = conflict
            continue
        if rd(k, conflict, "resource.flags") & flags & muxed:
            k.note("__request_region: a muxed region is held; kemu does not wait for it")
        kfree(k, res)
        return 0
    owner = k.current_module()
    k.register("resource", res, owner,
               f"{_kind(k, top)} {_fmt_range(k, res)} ({cstr(k, name, 64)})")
    return res


def _release(k, parent, start, n) -> bool:
    busy = k.target.const("IORESOURCE_BUSY")
    end = (start + n - 1) & 0xFFFFFFFFFFFFFFFF
    link = parent + k.target.offset("resource.child")
    while True:
        res = k.machine.read_u64(link)
        if not res:
            return False
        rs, re_ = rd(k, res, "resource.start"), rd(k, res, "resource.end")
        if rs <= start and re_ >= end:
            if not rd(k, res, "resource.flags") & busy:
                link = res + k.target.offset("resource.child")
                continue
            if rs != start or re_ != end:
                return False
            k.machine.write_u64(link, rd(k, res, "resource.sibling"))
            k.unregister("resource", res)
            kfree(k, res)
            return True
        link = res + k.target.offset("resource.sibling")


@export("void __release_region(struct resource *parent, resource_size_t start, "
        "resource_size_t n)")
def __release_region(k, parent, start, n):
    if not _release(k, parent, start, n):
        end = (start + n - 1) & 0xFFFFFFFFFFFFFFFF
        k.log.emit(KERN_WARNING, f"Trying to free nonexistent resource <{start:016x}-{end:016x}>")


@export("int request_resource(struct resource *root, struct resource *new)")
def request_resource(k, root, new):
    return -errno.EBUSY if request_resource_conflict(k, root, new) else 0


@export("int release_resource(struct resource *old)")
def release_resource(k, old):
    parent = rd(k, old, "resource.parent")
    if not parent:
        return -errno.EINVAL
    link = parent + k.target.offset("resource.child")
    while True:
        tmp = k.machine.read_u64(link)
        if not tmp:
            return -errno.EINVAL
        if tmp == old:
            k.machine.write_u64(link, rd(k, old, "resource.sibling"))
            wr(k, old, "resource.parent", 0)
            return 0
        link = tmp + k.target.offset("resource.sibling")


def _insert_conflict(k, parent, new) -> int:
    """__insert_resource(): like request, but may adopt children the new one covers."""
    while True:
        first = request_resource_conflict(k, parent, new)
        if not first:
            return 0
        if first == parent:
            return first
        fs, fe = rd(k, first, "resource.start"), rd(k, first, "resource.end")
        ns, ne = rd(k, new, "resource.start"), rd(k, new, "resource.end")
        if fs <= ns and fe >= ne and first != new:
            parent = first
            continue
        return first      # kemu does not re-parent partially covered siblings


@export("int insert_resource(struct resource *parent, struct resource *new)")
def insert_resource(k, parent, new):
    return -errno.EBUSY if _insert_conflict(k, parent, new) else 0


@export("int remove_resource(struct resource *old)")
def remove_resource(k, old):
    return release_resource(k, old)


# ------------------------------------------------------------ Python API
def resource_tree(k, which: str) -> list:
    """[(depth, start, end, name)] of ioport_resource or iomem_resource, tree order."""
    root = k.export_addr("ioport_resource" if which == "ioport" else "iomem_resource")
    out = []

    def walk(node, depth):
        for c in _children(k, node):
            out.append((depth, rd(k, c, "resource.start"), rd(k, c, "resource.end"),
                        cstr(k, rd(k, c, "resource.name"), 64)))
            walk(c, depth + 1)
    walk(root, 0)
    return out

