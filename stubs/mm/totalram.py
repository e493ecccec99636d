"""mm/page_alloc.c: ``_totalram_pages``, the machine's usable RAM in pages.

kemu's emulated machine is taken to have MEMORY_BYTES of RAM (the amount
modules size their tables from: conntrack and hashlimit buckets, ...).
"""
from kemu import data

MEMORY_BYTES = 2 << 30


@data("long _totalram_pages")
def _totalram_pages(k, addr):
    k.machine.write_u64(addr, MEMORY_BYTES // k.target.const("PAGE_SIZE"))
