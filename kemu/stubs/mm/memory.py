"""mm/memory.c: the page-table calls drivers make from their mmap paths.

kemu maps no user VMA through a driver's page tables, so these are
link-only: a call is reported as not modelled (they are reached from
mmap or teardown of such a mapping, never from init or exit).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only

link_only("void zap_vma_ptes(struct vm_area_struct *vma, unsigned long address, "
          "unsigned long size)", None, "kemu maps no driver memory into a user VMA")

for _p, _r in (
        ("pgprot_t vm_get_page_prot(unsigned long vm_flags)", 0),
        ("int vm_iomap_memory(struct vm_area_struct *vma, phys_addr_t start, unsigned long len)",
         -errno.EINVAL),
        ("int vm_map_pages(struct vm_area_struct *vma, struct page **pages, unsigned long num)",
         -errno.EINVAL),
        ("int vm_map_pages_zero(struct vm_area_struct *vma, struct page **pages, "
         "unsigned long num)", -errno.EINVAL),
        ("int remap_vmalloc_range(struct vm_area_struct *vma, void *addr, unsigned long pgoff)",
         -errno.EINVAL),
):
    link_only(_p, _r, "kemu maps no driver memory into a user VMA")
