"""lib/iomap.c: ioread*/iowrite* on port or memory-mapped cookies, ioport_map.

A cookie below PIO_RESERVED (0x40000) and above PIO_OFFSET (0x10000) is an
I/O port (``ioport_map`` gives ``port + PIO_OFFSET``), one at or above
PIO_RESERVED is memory (an ``ioremap`` mapping); anything else is the
kernel's "Bad IO access" WARN. kemu's machine has no device behind any port:
a port read gives all ones (the floating ISA bus), a port write goes
nowhere, as on a machine without the device. Memory accesses go to the
mapping (ioremap'd ranges read all ones until written, see
stubs/arch/x86/mm/ioremap.py).
"""
from __future__ import annotations

from kemu import export

PIO_OFFSET = 0x10000
PIO_MASK = 0x0FFFF
PIO_RESERVED = 0x40000


class BadIo:
    """bad_io_access()'s static count of 10 warnings."""

    def __init__(self, k):
        self.count = 10


def _bad(k, port, access):
    bad = k.model(BadIo)
    if bad.count:
        bad.count -= 1
        from .kemu_warn import warn
        warn(k, "lib/iomap.c:45", "bad_io_access+0x3c/0x40",
             f"Bad IO access at port {port:#x} ({access})")


def _port_read(k, port, size):
    k.note(f"I/O port {port:#x} read: no device answers in kemu's machine (all ones)")
    return (1 << (8 * size)) - 1


def _port_write(k, port, size, value):
    k.note(f"I/O port {port:#x} written: no device listens in kemu's machine")


_RD = {1: "read_u8", 2: "read_u16", 4: "read_u32"}
_WR = {1: "write_u8", 2: "write_u16", 4: "write_u32"}
_PIO_NAME = {1: ("inb(port)", "outb(val,port)"), 2: ("inw(port)", "outw(val,port)"),
             4: ("inl(port)", "outl(val,port)")}


def io_read(k, addr, size, big_endian=False):
    """IO_COND read of ``size`` bytes."""
    if addr >= PIO_RESERVED:
        v = getattr(k.machine, _RD[size])(addr)
        if big_endian:
            v = int.from_bytes(v.to_bytes(size, "little"), "big")
        return v
    if addr > PIO_OFFSET:
        return _port_read(k, addr & PIO_MASK, size)
    _bad(k, addr, _PIO_NAME[size][0])
    return (1 << (8 * size)) - 1


def io_write(k, addr, size, value, big_endian=False):
    """IO_COND write of ``size`` bytes."""
    value &= (1 << (8 * size)) - 1
    if addr >= PIO_RESERVED:
        if big_endian:
            value = int.from_bytes(value.to_bytes(size, "little"), "big")
        getattr(k.machine, _WR[size])(addr, value)
    elif addr > PIO_OFFSET:
        _port_write(k, addr & PIO_MASK, size, value)
    else:
        _bad(k, addr, _PIO_NAME[size][1])


def _reader(name, c_type, size, be):
    def fn(k, addr):
        return io_read(k, addr, size, be)
    fn.__name__ = name
    fn.__doc__ = f"{name}(): {size}-byte read through an iomap cookie."
    export(f"{c_type} {name}(const void *addr)")(fn)


def _writer(name, c_type, size, be):
    def fn(k, value, addr):
        io_write(k, addr, size, value, be)
    fn.__name__ = name
    fn.__doc__ = f"{name}(): {size}-byte write through an iomap cookie."
    export(f"void {name}({c_type} value, void *addr)")(fn)


def _rep_reader(name, size):
    def fn(k, addr, dst, count):
        for i in range(count):
            getattr(k.machine, _WR[size])(dst + i * size, io_read(k, addr, size))
    fn.__name__ = name
    export(f"void {name}(const void *addr, void *dst, unsigned long count)")(fn)


def _rep_writer(name, size):
    def fn(k, addr, src, count):
        for i in range(count):
            io_write(k, addr, size, getattr(k.machine, _RD[size])(src + i * size))
    fn.__name__ = name
    export(f"void {name}(void *addr, const void *src, unsigned long count)")(fn)


for _size, _t in ((1, "u8"), (2, "u16"), (4, "u32")):
    _bits = _size * 8
    _reader(f"ioread{_bits}", "unsigned int", _size, False)
    _writer(f"iowrite{_bits}", _t, _size, False)
    _rep_reader(f"ioread{_bits}_rep", _size)
    _rep_writer(f"iowrite{_bits}_rep", _size)
    if _size > 1:
        _reader(f"ioread{_bits}be", "unsigned int", _size, True)
        _writer(f"iowrite{_bits}be", _t, _size, True)


@export("void *ioport_map(unsigned long port, unsigned int nr)")
def ioport_map(k, port, nr):
    if port > PIO_MASK:
        return 0
    return port + PIO_OFFSET


@export("void ioport_unmap(void *addr)")
def ioport_unmap(k, addr):
    """Nothing to undo for a port cookie."""


@export("void memcpy_fromio(void *to, const volatile void *from, size_t n)")
def memcpy_fromio(k, to, from_, n):
    k.machine.write(to, k.machine.read(from_, n))


@export("void memcpy_toio(volatile void *to, const void *from, size_t n)")
def memcpy_toio(k, to, from_, n):
    k.machine.write(to, k.machine.read(from_, n))


@export("void memset_io(volatile void *a, int b, size_t c)")
def memset_io(k, a, b, c):
    k.machine.fill(a, b, c)
