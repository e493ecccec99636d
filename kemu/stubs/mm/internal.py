"""mm/internal.h: what the page cache's users share: the cache of (mapping, index)
pages, kept by stubs/mm/filemap.py and emptied by inode eviction (stubs/fs/inode.py)."""
from __future__ import annotations

from kemu.abi.exports import members
from kemu.abi.toolkit import rd, wr

from .page_alloc import pages

members("struct page", "flags", "mapping", "index", "_refcount")
members("struct address_space", "host", "nrpages")


class PageCache:
    """The page cache: (mapping, index) -> struct page."""

    def __init__(self, k):
        self.k = k
        self.pages: dict[tuple[int, int], int] = {}

    def flag(self, page: int, bit: int) -> bool:
        return bool(rd(self.k, page, "page.flags") >> bit & 1)

    def set_flag(self, page: int, bit: int, on: bool = True) -> None:
        f = rd(self.k, page, "page.flags")
        wr(self.k, page, "page.flags", f | 1 << bit if on else f & ~(1 << bit))

    def ref(self, page: int, delta: int) -> int:
        n = (rd(self.k, page, "page._refcount", 4) + delta) & 0xFFFFFFFF
        wr(self.k, page, "page._refcount", n, 4)
        return n

    def find_or_create(self, mapping: int, index: int) -> int:
        """filemap_get_folio(FGP_CREAT): a new page is locked, not up to date, and
        holds the cache's reference; the caller gets one more."""
        k = self.k
        page = self.pages.get((mapping, index))
        if page is None:
            p = pages(k)
            addr = p.get(0)
            if not addr:
                return 0
            page = p.page_of(addr)
            wr(k, page, "page.mapping", mapping)
            wr(k, page, "page.index", index)
            wr(k, page, "page.flags", 1 << k.target.const("PG_locked"))
            self.pages[(mapping, index)] = page
            wr(k, mapping, "address_space.nrpages", rd(k, mapping, "address_space.nrpages") + 1)
        self.ref(page, 1)
        return page

    def drop(self, mapping: int, start: int = 0) -> None:
        """truncate_inode_pages_range(mapping, start, end of file)."""
        k = self.k
        p = pages(k)
        for (m, index), page in list(self.pages.items()):
            if m == mapping and index >= start:
                del self.pages[(m, index)]
                wr(k, page, "page.mapping", 0)
                wr(k, mapping, "address_space.nrpages",
                   rd(k, mapping, "address_space.nrpages") - 1)
                if self.ref(page, -1) == 0:
                    p.put(p.addr_of(page), 0, "truncate_inode_pages")


def page_cache(k) -> PageCache:
    return k.model(PageCache)
