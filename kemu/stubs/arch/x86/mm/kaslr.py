"""arch/x86/mm/kaslr.c, physaddr.c, mem_encrypt.c: the x86_64 layout bases.

The values are those of a 4-level-paging boot without memory randomisation,
which is what kemu's address map is: the direct map at page_offset_base
(``kemu.machine.emulator.DIRECT_MAP_ADDR``), vmalloc space at vmalloc_base
(``VMALLOC_ADDR``), struct pages at vmemmap_base, so that __va(), __pa(),
virt_to_page() and page_address() computed by modules round-trip on kemu's heap.
"""
from kemu import data
from kemu.machine.emulator import DIRECT_MAP_ADDR, VMALLOC_ADDR

VMEMMAP_BASE = 0xFFFFEA0000000000          # __VMEMMAP_BASE_L4
PHYS_BASE = 0                              # kernel image not relocated physically
_PAGE_GLOBAL = 1 << 8


def _check(k):
    assert DIRECT_MAP_ADDR == k.target.const("__PAGE_OFFSET_BASE_L4") & ((1 << 64) - 1)


@data("unsigned long page_offset_base")
def page_offset_base(k, addr):
    _check(k)
    k.machine.write_u64(addr, DIRECT_MAP_ADDR)


@data("unsigned long vmalloc_base")
def vmalloc_base(k, addr):
    k.machine.write_u64(addr, VMALLOC_ADDR)


@data("unsigned long vmemmap_base")
def vmemmap_base(k, addr):
    k.machine.write_u64(addr, VMEMMAP_BASE)


@data("unsigned long phys_base")
def phys_base(k, addr):
    k.machine.write_u64(addr, PHYS_BASE)


@data("u64 sme_me_mask")
def sme_me_mask(k, addr):
    k.machine.write_u64(addr, 0)


@data("u64 __supported_pte_mask")
def __supported_pte_mask(k, addr):
    k.machine.write_u64(addr, (1 << 64) - 1)


@data("u64 __default_kernel_pte_mask")
def __default_kernel_pte_mask(k, addr):
    # page-table isolation is on for this (Meltdown-affected Intel) CPU: no global kernel pages
    k.machine.write_u64(addr, ((1 << 64) - 1) & ~_PAGE_GLOBAL)

