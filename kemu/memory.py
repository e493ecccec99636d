"""Address-space regions and the kernel heap allocator.

Regions hand out page-aligned ranges of one part of the kernel's address space
and map them into the emulator on demand. :class:`Heap` is a size-class
allocator with tracking of every live object (size, caller, kind) so that the
models and the sanitizers can say what a pointer is.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from unicorn import UC_PROT_ALL, UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC

PAGE_SIZE = 4096
PROT_R, PROT_W, PROT_X = UC_PROT_READ, UC_PROT_WRITE, UC_PROT_EXEC
PROT_RW, PROT_RX, PROT_RWX = PROT_R | PROT_W, PROT_R | PROT_X, UC_PROT_ALL


def page_align(value: int) -> int:
    """Round up to a multiple of PAGE_SIZE."""
    return (value + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


def align(value: int, alignment: int) -> int:
    """Round up to a multiple of ``alignment`` (a power of two, or 0/1 for none)."""
    if alignment <= 1:
        return value
    return (value + alignment - 1) & ~(alignment - 1)


class Region:
    """A contiguous part of the address space with a bump allocator of pages.

    Pages are mapped into Unicorn when handed out and unmapped when freed, so
    any later access to a freed range faults.
    """

    def __init__(self, uc, name: str, base_addr: int, size: int, chunk: int = PAGE_SIZE):
        self.uc, self.name, self.base_addr, self.size = uc, name, base_addr, size
        self.next_addr = base_addr
        self.chunk = chunk
        self.freed: dict[int, int] = {}      # addr -> size of page ranges returned

    def contains(self, addr: int) -> bool:
        """True if ``addr`` lies in this region."""
        return self.base_addr <= addr < self.base_addr + self.size

    def map(self, size: int, prot: int = PROT_RW, guard: int = 0) -> int:
        """Map ``size`` bytes (page-rounded) with ``prot`` and return the address.

        ``guard`` unmapped bytes are left before the range (stack guard pages).
        """
        size = page_align(max(size, 1))
        addr = self.next_addr + page_align(guard)
        if addr + size > self.base_addr + self.size:
            raise MemoryError(f"{self.name}: address space exhausted")
        self.next_addr = addr + size
        self.uc.mem_map(addr, size, prot)
        return addr

    def unmap(self, addr: int, size: int) -> None:
        """Unmap a range handed out by :meth:`map`; the addresses are not reused."""
        self.uc.mem_unmap(addr, page_align(size))
        self.freed[addr] = page_align(size)


# kmalloc size classes of SLUB on x86_64 (kmalloc-8 ... kmalloc-8k).
KMALLOC_CLASSES = (8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192)


@dataclass
class Allocation:
    """A live heap object."""
    addr: int
    size: int          # what was asked for
    capacity: int      # what ksize() reports
    kind: str          # "kmalloc", "vmalloc", "kmem_cache:<name>", ...
    caller_addr: int = 0
    owner: str | None = None
    caller_text: str = ""       # the call site, resolved before its code went away


@dataclass
class Heap:
    """The kernel heap: size classes carved from slabs in a :class:`Region`."""
    region: Region
    live: dict = field(default_factory=dict)          # addr -> Allocation
    free_lists: dict = field(default_factory=dict)    # capacity -> [addr]
    slab_cursor: dict = field(default_factory=dict)   # capacity -> (next, end)
    total_allocs: int = 0

    def _class_for(self, size: int) -> int:
        for cls in KMALLOC_CLASSES:
            if size <= cls:
                return cls
        return page_align(size)

    def alloc(self, size: int, kind: str = "kmalloc", caller_addr: int = 0,
              owner: str | None = None, zero: bool = False) -> int:
        """Allocate ``size`` bytes; returns the address (never 0 here)."""
        capacity = self._class_for(max(size, 1))
        free = self.free_lists.get(capacity)
        if free:
            addr = free.pop()
        elif capacity > KMALLOC_CLASSES[-1]:
            addr = self.region.map(capacity)
        else:
            nxt, end = self.slab_cursor.get(capacity, (0, 0))
            if nxt + capacity > end:
                slab = max(capacity * 8, 4 * PAGE_SIZE)
                nxt = self.region.map(slab)
                end = nxt + slab
            addr = nxt
            self.slab_cursor[capacity] = (nxt + capacity, end)
        if zero:
            self.region.uc.mem_write(addr, bytes(capacity))
        self.live[addr] = Allocation(addr, size, capacity, kind, caller_addr, owner)
        self.total_allocs += 1
        return addr

    def free(self, addr: int) -> Allocation:
        """Free a live object; raises KeyError if ``addr`` is not one."""
        obj = self.live.pop(addr)
        self.free_lists.setdefault(obj.capacity, []).append(addr)
        return obj

    def find(self, addr: int) -> Allocation | None:
        """The live object starting at ``addr``, or None."""
        return self.live.get(addr)

    def find_containing(self, addr: int) -> Allocation | None:
        """The live object whose [addr, addr+capacity) contains ``addr``, or None."""
        obj = self.live.get(addr)
        if obj:
            return obj
        for obj in self.live.values():
            if obj.addr <= addr < obj.addr + obj.capacity:
                return obj
        return None
