"""Address-space regions and the kernel heap allocator.

Regions hand out page-aligned ranges of one part of the kernel's address space
and map them into the emulator on demand. :class:`Heap` is a size-class
allocator with tracking of every live object (size, caller, kind) so that the
models and the sanitizers can say what a pointer is.
"""
from __future__ import annotations

import ctypes
import functools
import mmap

from dataclasses import dataclass

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
        self.backing: list = []              # host memory of map_aliased() ranges

    def contains(self, addr: int) -> bool:
        """True if ``addr`` lies in this region."""
        return self.base_addr <= addr < self.base_addr + self.size

    def _reserve(self, size: int, guard: int = 0) -> int:
        """Take the next ``size`` bytes (after ``guard`` unmapped ones) of the region."""
        addr = self.next_addr + page_align(guard)
        if addr + size > self.base_addr + self.size:
            raise MemoryError(f"{self.name}: address space exhausted")
        self.next_addr = addr + size
        return addr

    def map(self, size: int, prot: int = PROT_RW, guard: int = 0) -> int:
        """Map ``size`` bytes (page-rounded) with ``prot`` and return the address.

        ``guard`` unmapped bytes are left before the range (stack guard pages).
        """
        size = page_align(max(size, 1))
        addr = self._reserve(size, guard)
        self.uc.mem_map(addr, size, prot)
        return addr

    def map_aliased(self, size: int, alias_addr, prot: int = PROT_RW, also=()) -> int:
        """Map ``size`` bytes like :meth:`map`, backed by host memory that is also
        mapped at ``alias_addr(addr)`` (the kernel image's direct-map alias) and,
        with ``prot``, at each address of ``also`` (outside any region)."""
        size = page_align(max(size, 1))
        addr = self._reserve(size)
        buf = mmap.mmap(-1, size)
        ptr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        self.uc.mem_map_ptr(addr, size, prot, ptr)
        self.uc.mem_map_ptr(alias_addr(addr), size, PROT_RW, ptr)
        for other in also:
            self.uc.mem_map_ptr(other, size, prot, ptr)
        self.backing.append(buf)
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
    free_caller: int = 0
    free_text: str = ""
    kfence: bool = False
    freed: bool = False
    reported: bool = False      # kmemleak reported it (each unreferenced object once)


RED_ACTIVE = 0xCC          # SLUB_RED_ACTIVE: redzone bytes of a live object
POISON_FREE, POISON_END = 0x6B, 0xA5
KFENCE_CANARY = 0xAA
REDZONE = 16               # bytes after each slab object's capacity


@functools.lru_cache(maxsize=64)
def _redzone(n: int) -> bytes:
    """``n`` bytes of SLUB_RED_ACTIVE (cached: every kmalloc and kfree compares them)."""
    return bytes([RED_ACTIVE]) * n


@functools.lru_cache(maxsize=64)
def _poison(capacity: int) -> bytes:
    """A freed object's poison: POISON_FREE bytes ended by POISON_END."""
    return bytes([POISON_FREE]) * (capacity - 1) + bytes([POISON_END])


def _first_diff(got: bytes, want: bytes):
    """Index of the first byte where ``got`` differs from ``want``, or None."""
    if got == want:
        return None
    return next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)


@dataclass
class HeapProblem:
    """Something the heap's checks found; the kernel turns it into a report."""
    kind: str              # double-free, invalid-free, redzone, poison, kfence-oob, kfence-uaf, kfence-canary
    obj: "Allocation | None"
    addr: int
    offset: int = 0
    byte: int = 0
    caller_addr: int = 0
    access: str = ""
    size: int = 0


class Heap:
    """The kernel heap: size classes carved from slabs in a :class:`Region`.

    With ``sanitize`` (the default) it checks what SLUB debugging and KFENCE
    check in a real kernel, at no cost to module code between allocations:
    every object has a redzone up to its class size plus REDZONE bytes,
    verified when it is freed; freed objects are poisoned and held in a
    quarantine, and the poison is verified when they leave it; the first
    ``kfence_budget`` objects live alone on a page, right-aligned before an
    unmapped guard page, and their page is unmapped when freed, so an
    out-of-bounds or use-after-free access to them faults where it happens.
    Problems go to ``on_problem``.

    ``limit`` caps the bytes of live objects (the machine's memory): an
    allocation past it returns 0, as an allocator out of memory returns NULL,
    so a module cannot make kemu use unbounded host memory.
    """
    LIMIT = 1 << 30

    def __init__(self, region: Region, sanitize: bool = True, kfence_budget: int = 64,
                 quarantine: int = 256, read=None, write=None, limit: int = LIMIT):
        self.region = region
        self.limit = limit
        self.live_bytes = 0
        self.failed_allocs = 0
        if read is not None:
            self._read = read
        if write is not None:
            self._write = write
        self.sanitize = sanitize
        self.kfence_budget = kfence_budget if sanitize else 0
        self.quarantine_max = quarantine if sanitize else 0
        self.live: dict = {}             # addr -> Allocation
        self.free_lists: dict = {}       # capacity -> [addr]
        self.slab_cursor: dict = {}      # capacity -> (next, end)
        self.quarantine: dict = {}       # addr -> Allocation (freed, poisoned), FIFO
        self.kfence_pages: dict = {}     # page addr -> Allocation (live or freed)
        self.total_allocs = 0
        self.on_problem = None

    def _class_for(self, size: int) -> int:
        for cls in KMALLOC_CLASSES:
            if size <= cls:
                return cls
        return page_align(size)

    def _write(self, addr: int, data: bytes) -> None:
        self.region.uc.mem_write(addr, data)

    def _read(self, addr: int, size: int) -> bytes:
        return bytes(self.region.uc.mem_read(addr, size))

    def _problem(self, problem: HeapProblem) -> None:
        if self.on_problem is not None:
            self.on_problem(problem)

    def alloc(self, size: int, kind: str = "kmalloc", caller_addr: int = 0,
              owner: str | None = None, zero: bool = False) -> int:
        """Allocate ``size`` bytes; returns the address, or 0 when the heap's
        ``limit`` (or the region's address space) cannot hold it."""
        capacity = self._class_for(max(size, 1))
        if size < 0 or capacity > self.limit - self.live_bytes or \
                self.region.next_addr + capacity + 2 * PAGE_SIZE > \
                self.region.base_addr + self.region.size:
            self.failed_allocs += 1
            return 0
        kfence = False
        if self.kfence_budget > 0 and capacity <= PAGE_SIZE:
            self.kfence_budget -= 1
            page = self.region.map(PAGE_SIZE, guard=PAGE_SIZE)
            self.region.next_addr += PAGE_SIZE               # the guard page after it
            addr = page + PAGE_SIZE - align(max(size, 1), 8)
            self._write(page, bytes([KFENCE_CANARY]) * PAGE_SIZE)
            self._write(addr, bytes(align(max(size, 1), 8)))
            capacity, kfence = align(max(size, 1), 8), True
        elif capacity > KMALLOC_CLASSES[-1]:
            addr = self.region.map(capacity, guard=PAGE_SIZE if self.sanitize else 0)
        else:
            free = self.free_lists.get(capacity)
            if free:
                addr = free.pop()
            else:
                stride = capacity + (REDZONE if self.sanitize else 0)
                nxt, end = self.slab_cursor.get(capacity, (0, 0))
                if nxt + stride > end:
                    slab = max(stride * 8, 4 * PAGE_SIZE)
                    nxt = self.region.map(slab)
                    end = nxt + slab
                addr = nxt
                self.slab_cursor[capacity] = (nxt + stride, end)
            if zero:
                self._write(addr, bytes(capacity))
            if self.sanitize:
                self._write(addr + size, _redzone(capacity - size + REDZONE))
        obj = Allocation(addr, size, capacity, kind, caller_addr, owner)
        obj.kfence = kfence
        if kfence:
            self.kfence_pages[addr & ~(PAGE_SIZE - 1)] = obj
        self.live[addr] = obj
        self.live_bytes += capacity
        self.total_allocs += 1
        return addr

    def free(self, addr: int, caller_addr: int = 0) -> Allocation | None:
        """Free an object; reports double and invalid frees and broken redzones.

        Returns the freed Allocation, or None if ``addr`` was not a live object.
        """
        obj = self.live.pop(addr, None)
        if obj is None:
            old = self.quarantine.get(addr) or self._kfence_freed(addr)
            self._problem(HeapProblem("double-free" if old else "invalid-free", old, addr,
                                      caller_addr=caller_addr))
            return None
        obj.free_caller = caller_addr
        self.live_bytes -= obj.capacity
        if getattr(obj, "kfence", False):
            page = addr & ~(PAGE_SIZE - 1)
            data = self._read(page, PAGE_SIZE)
            head = addr - page
            bad = _first_diff(data[:head], bytes([KFENCE_CANARY]) * head)
            if bad is None:
                slack = obj.capacity - obj.size
                tail_bad = _first_diff(data[head + obj.size:head + obj.capacity], bytes(slack))
                if tail_bad is not None:
                    bad = head + obj.size + tail_bad
            if bad is not None:
                self._problem(HeapProblem("kfence-canary", obj, page + bad, bad - (addr - page),
                                          data[bad], caller_addr))
            self.region.unmap(page, PAGE_SIZE)
            obj.freed = True
            return obj
        if obj.capacity > KMALLOC_CLASSES[-1]:
            self.region.unmap(addr, obj.capacity)
            obj.freed = True
            self.quarantine[addr] = obj
            self._trim_quarantine()
            return obj
        if self.sanitize:
            red = self._read(addr + obj.size, obj.capacity - obj.size + REDZONE)
            bad = _first_diff(red, _redzone(len(red)))
            if bad is not None:
                self._problem(HeapProblem("redzone", obj, addr + obj.size + bad, obj.size + bad,
                                          red[bad], caller_addr))
            self._write(addr, _poison(obj.capacity))
            self.quarantine[addr] = obj
            self._trim_quarantine()
        else:
            self.free_lists.setdefault(obj.capacity, []).append(addr)
        return obj

    def _trim_quarantine(self) -> None:
        while len(self.quarantine) > self.quarantine_max:
            addr, obj = next(iter(self.quarantine.items()))
            del self.quarantine[addr]
            if obj.capacity > KMALLOC_CLASSES[-1]:
                continue
            self.check_poison(obj)
            self.free_lists.setdefault(obj.capacity, []).append(addr)

    def check_poison(self, obj) -> bool:
        """Verify a quarantined object's free poison (a use-after-free write breaks it)."""
        data = self._read(obj.addr, obj.capacity)
        bad = _first_diff(data, _poison(obj.capacity))
        if bad is None:
            return True
        self._problem(HeapProblem("poison", obj, obj.addr + bad, bad, data[bad]))
        return False

    def check_quarantine(self) -> None:
        """Verify every quarantined object's poison now (at unload, say)."""
        for obj in list(self.quarantine.values()):
            if obj.capacity <= KMALLOC_CLASSES[-1] and not self.check_poison(obj):
                self._write(obj.addr, _poison(obj.capacity))

    def _kfence_freed(self, addr: int):
        obj = self.kfence_pages.get(addr & ~(PAGE_SIZE - 1))
        return obj if obj is not None and getattr(obj, "freed", False) and obj.addr == addr else None

    def describe_fault(self, addr: int):
        """For a faulting access: ("kfence-oob"|"kfence-uaf", object) or None."""
        page = addr & ~(PAGE_SIZE - 1)
        obj = self.kfence_pages.get(page)
        if obj is not None and getattr(obj, "freed", False):
            return "kfence-uaf", obj
        before = self.kfence_pages.get(page - PAGE_SIZE)
        if before is not None and not getattr(before, "freed", False):
            return "kfence-oob", before
        after = self.kfence_pages.get(page + PAGE_SIZE)
        if after is not None and not getattr(after, "freed", False):
            return "kfence-oob", after
        for obj in self.quarantine.values():
            if obj.capacity > KMALLOC_CLASSES[-1] and obj.addr <= addr < obj.addr + obj.capacity:
                return "kfence-uaf", obj
        return None

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
