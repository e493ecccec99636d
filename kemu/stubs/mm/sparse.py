"""mm/sparse.c: the memory sections behind pfn_valid() (SPARSEMEM_EXTREME).

``mem_section`` is the root of the section tables that the inline
pfn_valid()/__nr_to_section() walk. kemu's machine builds no memory map at
boot (mm/page_alloc.py maps struct pages on first touch), so the root is
NULL: every section lookup finds none and pfn_valid() is false, which modules
only consult for user-supplied pages (videobuf2's USERPTR frames) that kemu's
processes never hand over.
"""
from __future__ import annotations

from kemu import data


@data("struct mem_section **mem_section")
def mem_section(k, addr):
    """NULL: no section table."""
