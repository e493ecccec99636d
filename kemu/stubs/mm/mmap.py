"""mm/mmap.c mmap_region() and mm/memory.c for a device file: what a process sees
when it maps a module's file and reads the mapping.

:func:`mmap_view` does what mmap(2) then reading every byte of the mapping does:
a ``struct vm_area_struct`` (the opener's mm, the file, ``vm_pgoff``,
``VM_READ|VM_SHARED`` and their MAY bits, ``VM_WRITE`` for a writable file) is
handed to the file's ->mmap; the module maps memory with remap_pfn_range() or
vm_insert_page(), or leaves it to its ``vm_ops->fault``, called once per page
touched with a ``struct vm_fault``. The bytes come from the pages mapped, read
through the direct map; ``vm_ops->close`` runs at munmap.

Left out: page tables (no user access faults: the mapping is read through the
pages recorded), copy-on-write private mappings, vmalloc'd memory
(remap_vmalloc_range), writes through the mapping, and mremap/fork.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import kernel_api, members
from kemu.errors import strerror
from kemu.machine.emulator import DIRECT_MAP_ADDR

from ..arch.x86.mm.kaslr import VMEMMAP_BASE
from kemu.abi.toolkit import rd, s32, wr
from ..fs.open import FileError
from .page_alloc import __free_pages

# mmap(2) of a device file (stubs/mm/mmap.py)
members("struct vm_area_struct", "vm_start", "vm_end", "vm_mm", "vm_flags", "vm_pgoff",
        "vm_file", "vm_ops", "vm_page_prot", "vm_private_data")
members("struct vm_operations_struct", "close", "fault", "open")
members("struct vm_fault", "vma", "pgoff", "address", "flags", "page", "gfp_mask")
members("struct page", "_refcount", "flags", "_mapcount", "compound_head", "mapping", "index",
        "private", "lru")

USER_MAP_BASE = 0x7F0000000000          # where mmap() puts a mapping (below TASK_SIZE)


class Mappings:
    """The pages each live vma maps: vma -> {page-aligned user address: kernel address}."""

    def __init__(self, k):
        self.pages: dict[int, dict[int, int]] = {}
        self.refs: dict[int, list[int]] = {}     # vma -> struct pages it holds a reference on
        self.next_addr = USER_MAP_BASE


def _page_size(k) -> int:
    return k.target.const("PAGE_SIZE")


def _set_flags(k, vma, flags):
    wr(k, vma, "vm_area_struct.vm_flags", rd(k, vma, "vm_area_struct.vm_flags") | flags)


@export("int remap_pfn_range(struct vm_area_struct *vma, unsigned long addr, "
        "unsigned long pfn, unsigned long size, unsigned long prot)")   # pgprot_t: one word
def remap_pfn_range(k, vma, addr, pfn, size, prot):
    """Map ``size`` bytes of physical pages from ``pfn`` at ``addr`` (VM_IO|VM_PFNMAP)."""
    pages = k.model(Mappings).pages.get(vma)
    ps = _page_size(k)
    end = addr + size
    if pages is None or addr % ps or addr < rd(k, vma, "vm_area_struct.vm_start") or \
            end > rd(k, vma, "vm_area_struct.vm_end"):
        return -errno.EINVAL
    c = k.target.const
    _set_flags(k, vma, c("VM_IO") | c("VM_PFNMAP") | c("VM_DONTEXPAND") | c("VM_DONTDUMP"))
    for i, user in enumerate(range(addr, end, ps)):
        pages[user] = DIRECT_MAP_ADDR + (pfn + i) * ps
    return 0


def page_address_of(k, page: int) -> int:
    """page_address() of a struct page in vmemmap."""
    return DIRECT_MAP_ADDR + (page - VMEMMAP_BASE) // k.target.sizeof("page") * _page_size(k)


@export("int vm_insert_page(struct vm_area_struct *vma, unsigned long addr, struct page *page)")
def vm_insert_page(k, vma, addr, page):
    pages = k.model(Mappings).pages.get(vma)
    if pages is None or addr < rd(k, vma, "vm_area_struct.vm_start") or \
            addr >= rd(k, vma, "vm_area_struct.vm_end"):
        return -errno.EFAULT
    _set_flags(k, vma, k.target.const("VM_MIXEDMAP"))
    pages[addr - addr % _page_size(k)] = page_address_of(k, page)
    ref = page + k.target.offset("page._refcount")          # insert_page(): get_page()
    k.machine.write_u32(ref, k.machine.read_u32(ref) + 1)
    k.model(Mappings).refs[vma].append(page)
    return 0


def _fault(k, f, vma, user: int) -> int | None:
    """handle_mm_fault() -> vma->vm_ops->fault(vmf): the kernel address of the page."""
    t = k.target
    ops = rd(k, vma, "vm_area_struct.vm_ops")
    fault = rd(k, ops, "vm_operations_struct.fault") if ops else 0
    if not fault:
        return None
    vmf = k.heap.alloc(t.sizeof("vm_fault"), kind="vm_fault", zero=True)
    try:
        wr(k, vmf, "vm_fault.vma", vma)
        wr(k, vmf, "vm_fault.address", user)
        start = rd(k, vma, "vm_area_struct.vm_start")
        wr(k, vmf, "vm_fault.pgoff",
           rd(k, vma, "vm_area_struct.vm_pgoff") + (user - start) // _page_size(k))
        wr(k, vmf, "vm_fault.flags", t.const("FAULT_FLAG_USER"), 4)
        ret = f._call("fault", fault, vmf) & 0xFFFFFFFF
        if ret & t.const("VM_FAULT_ERROR"):
            return None
        page = rd(k, vmf, "vm_fault.page")
        if not page:
            return None
        k.model(Mappings).refs[vma].append(page)      # the handler's reference, the mapping's
        return page_address_of(k, page)
    finally:
        k.heap.free(vmf)


@kernel_api("mmap_read")
def mmap_view(k, f, length: int, offset: int = 0) -> bytes:
    """mmap(NULL, length, PROT_READ, MAP_SHARED, fd, offset), read every byte, munmap.

    FileError with the errno mmap(2) gives (ENODEV without ->mmap, EINVAL for a
    bad length or offset, the handler's error); reading a page nothing maps is
    SIGBUS (EFAULT here)."""
    t = k.target
    ps = _page_size(k)
    fn = f.ops.get("mmap")
    if not fn:
        raise FileError(f"{f.path}: mmap: {strerror(errno.ENODEV)}", errno.ENODEV)
    if length <= 0 or offset % ps or offset < 0:
        raise FileError(f"{f.path}: mmap: {strerror(errno.EINVAL)}", errno.EINVAL)
    from ..kernel.process import Processes
    maps = k.model(Mappings)
    size = -(-length // ps) * ps
    start = maps.next_addr
    maps.next_addr += size + ps
    vma = k.heap.alloc(t.sizeof("vm_area_struct"), kind="vm_area_struct", zero=True)
    c = t.const
    flags = c("VM_READ") | c("VM_MAYREAD") | c("VM_SHARED") | c("VM_MAYSHARE")
    if f.fmode() & c("FMODE_WRITE"):
        flags |= c("VM_WRITE") | c("VM_MAYWRITE")
    wr(k, vma, "vm_area_struct.vm_start", start)
    wr(k, vma, "vm_area_struct.vm_end", start + size)
    wr(k, vma, "vm_area_struct.vm_mm", k.model(Processes).mm)
    wr(k, vma, "vm_area_struct.vm_flags", flags)
    wr(k, vma, "vm_area_struct.vm_pgoff", offset // ps)
    wr(k, vma, "vm_area_struct.vm_file", f.file)
    maps.pages[vma] = {}
    maps.refs[vma] = []
    try:
        ret = s32(f._call("mmap", fn, f.file, vma))
        if ret:
            raise FileError(f"{f.path}: mmap: {strerror(ret)}", -ret)
        out = bytearray()
        for user in range(start, start + size, ps):
            kaddr = maps.pages[vma].get(user)
            if kaddr is None:
                kaddr = _fault(k, f, vma, user)
            if kaddr is None:
                raise FileError(f"{f.path}: mmap: reading the mapping: Bus error", errno.EFAULT)
            out += k.machine.read(kaddr, ps)
        return bytes(out[:length])
    finally:
        ops = rd(k, vma, "vm_area_struct.vm_ops")
        close = rd(k, ops, "vm_operations_struct.close") if ops else 0
        if close:
            f._call("vm close", close, vma)
        for page in maps.refs.pop(vma):                # zap_page_range(): put_page()
            __free_pages(k, page, 0)
        del maps.pages[vma]
        k.heap.free(vma)
