"""arch/x86/mm/pat/set_memory.c: changing the caching attribute of kernel pages.

Emulated memory has no cache: switching pages between write-back and
write-combining succeeds (0) and changes nothing observable, as on a
machine where the range is already in that mode. ``pgprot_writecombine``
adds the WC bits of the PAT table (arch/x86/mm/init.py).
"""
from __future__ import annotations

from kemu import export

from .init import cachemode2protval

for _p in ("int set_memory_wb(unsigned long addr, int numpages)",
           "int set_memory_wc(unsigned long addr, int numpages)",
           "int set_memory_uc(unsigned long addr, int numpages)",
           "int set_pages_array_wb(struct page **pages, int numpages)",
           "int set_pages_array_wc(struct page **pages, int numpages)",
           "int set_pages_array_uc(struct page **pages, int numpages)"):
    def _ok(k, *args):
        return 0
    _ok.__name__ = _p.split("(")[0].split()[-1]
    export(_p)(_ok)


@export("pgprot_t pgprot_writecombine(pgprot_t prot)")
def pgprot_writecombine(k, prot):
    return prot | cachemode2protval(k, k.target.const("_PAGE_CACHE_MODE_WC"))
