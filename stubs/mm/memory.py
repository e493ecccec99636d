"""mm/memory.c: the page-table calls drivers make from their mmap paths.

kemu maps no user VMA through a driver's page tables, so these are
link-only: a call is reported as not modelled (they are reached from
mmap or teardown of such a mapping, never from init or exit).
"""
from __future__ import annotations

from ..drivers.base.link_only import link_only

link_only("void zap_vma_ptes(struct vm_area_struct *vma, unsigned long address, "
          "unsigned long size)", None, "kemu maps no driver memory into a user VMA")
