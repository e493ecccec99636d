"""lib/scatterlist.c: scatterlist tables, walks and copies.

Pages are struct page addresses in vmemmap (kemu maps no struct pages: their
addresses are computed, never dereferenced); page_address() turns them back
into direct-map addresses, so buffers from kmalloc round-trip exactly.
"""
import errno

from kemu import export
from kemu.abi.exports import members

from ..arch.x86.mm.kaslr import PHYS_BASE, VMEMMAP_BASE
from ..mm.slab import kfree_addr, kmalloc
from .kemu_warn import warn

PAGE_SHIFT, PAGE_SIZE = 12, 4096
START_KERNEL_MAP = 0xFFFFFFFF80000000
U64 = (1 << 64) - 1


def _page_offset_base():
    from kemu.machine.emulator import DIRECT_MAP_ADDR
    return DIRECT_MAP_ADDR


def pa(addr: int) -> int:
    """__pa(): direct map or kernel image address to physical."""
    if addr >= START_KERNEL_MAP:
        return addr - START_KERNEL_MAP + PHYS_BASE
    return (addr - _page_offset_base()) & U64


def virt_to_page(k, addr: int) -> int:
    return VMEMMAP_BASE + (pa(addr) >> PAGE_SHIFT) * k.target.sizeof("page")


def page_address(k, page: int) -> int:
    pfn = (page - VMEMMAP_BASE) // k.target.sizeof("page")
    return _page_offset_base() + (pfn << PAGE_SHIFT)


def nth_page(k, page, n):
    return page + n * k.target.sizeof("page")


class SG:
    """Accessors of one struct scatterlist."""

    def __init__(self, k):
        self.k, self.m, t = k, k.machine, k.target
        self.size = t.sizeof("scatterlist")
        self.o_link = t.offset("scatterlist.page_link")
        self.o_off = t.offset("scatterlist.offset")
        self.o_len = t.offset("scatterlist.length")
        self.chain, self.end = t.const("SG_CHAIN"), t.const("SG_END")

    def link(self, sg):
        return self.m.read_u64(sg + self.o_link)

    def set_link(self, sg, v):
        self.m.write_u64(sg + self.o_link, v)

    def page(self, sg):
        return self.link(sg) & ~(self.chain | self.end)

    def offset(self, sg):
        return self.m.read_u32(sg + self.o_off)

    def length(self, sg):
        return self.m.read_u32(sg + self.o_len)

    def is_last(self, sg):
        return bool(self.link(sg) & self.end)

    def is_chain(self, sg):
        return bool(self.link(sg) & self.chain)

    def next(self, sg):
        """sg_next()."""
        if self.is_last(sg):
            return 0
        sg += self.size
        if self.is_chain(sg):
            sg = self.page(sg)
        return sg

    def virt(self, sg):
        return page_address(self.k, self.page(sg)) + self.offset(sg)

    def init_table(self, sgl, nents):
        self.m.fill(sgl, 0, self.size * nents)
        if nents:
            last = sgl + (nents - 1) * self.size
            self.set_link(last, (self.link(last) | self.end) & ~self.chain)

    def set_page(self, sg, page, length, offset):
        self.set_link(sg, (self.link(sg) & (self.chain | self.end)) | page)
        self.m.write_u32(sg + self.o_off, offset)
        self.m.write_u32(sg + self.o_len, length)

    def set_buf(self, sg, buf, length):
        self.set_page(sg, virt_to_page(self.k, buf), length, buf & (PAGE_SIZE - 1))

    def segments(self, sgl, nents):
        """(virtual address, length) of the first nents entries."""
        sg = sgl
        while sg and nents:
            yield self.virt(sg), self.length(sg)
            sg = self.next(sg)
            nents -= 1


@export("void sg_init_table(struct scatterlist *sgl, unsigned int nents)")
def sg_init_table(k, sgl, nents):
    SG(k).init_table(sgl, nents)


@export("void sg_init_one(struct scatterlist *sg, const void *buf, unsigned int buflen)")
def sg_init_one(k, sg, buf, buflen):
    s = SG(k)
    s.init_table(sg, 1)
    s.set_buf(sg, buf, buflen)


@export("struct scatterlist *sg_next(struct scatterlist *sg)")
def sg_next(k, sg):
    return SG(k).next(sg)


@export("int sg_nents(struct scatterlist *sg)")
def sg_nents(k, sg):
    s, n = SG(k), 0
    while sg:
        n += 1
        sg = s.next(sg)
    return n


@export("int sg_nents_for_len(struct scatterlist *sg, u64 len)")
def sg_nents_for_len(k, sg, length):
    if not length:
        return 0
    s, n, total = SG(k), 0, 0
    while sg:
        n += 1
        total += s.length(sg)
        if total >= length:
            return n
        sg = s.next(sg)
    return -22


@export("struct scatterlist *sg_last(struct scatterlist *s, unsigned int nents)")
def sg_last(k, sgl, nents):
    s, ret, sg = SG(k), 0, sgl
    for _ in range(nents):
        ret = sg
        sg = s.next(sg)
    return ret


def copy_buffer(k, sgl, nents, buf, buflen, skip, to_buffer, zero=False):
    """sg_copy_buffer() / sg_zero_buffer(): bytes copied."""
    m, done = k.machine, 0
    for addr, length in SG(k).segments(sgl, nents):
        if done >= buflen:
            break
        if skip >= length:
            skip -= length
            continue
        addr, length = addr + skip, length - skip
        skip = 0
        n = min(length, buflen - done)
        if zero:
            m.fill(addr, 0, n)
        elif to_buffer:
            m.write(buf + done, m.read(addr, n))
        else:
            m.write(addr, m.read(buf + done, n))
        done += n
    return done


@export("size_t sg_copy_buffer(struct scatterlist *sgl, unsigned int nents, void *buf, "
        "size_t buflen, off_t skip, bool to_buffer)")
def sg_copy_buffer(k, sgl, nents, buf, buflen, skip, to_buffer):
    return copy_buffer(k, sgl, nents, buf, buflen, skip, to_buffer)


@export("size_t sg_copy_from_buffer(struct scatterlist *sgl, unsigned int nents, "
        "const void *buf, size_t buflen)")
def sg_copy_from_buffer(k, sgl, nents, buf, buflen):
    return copy_buffer(k, sgl, nents, buf, buflen, 0, False)


@export("size_t sg_copy_to_buffer(struct scatterlist *sgl, unsigned int nents, void *buf, "
        "size_t buflen)")
def sg_copy_to_buffer(k, sgl, nents, buf, buflen):
    return copy_buffer(k, sgl, nents, buf, buflen, 0, True)


@export("size_t sg_pcopy_from_buffer(struct scatterlist *sgl, unsigned int nents, "
        "const void *buf, size_t buflen, off_t skip)")
def sg_pcopy_from_buffer(k, sgl, nents, buf, buflen, skip):
    return copy_buffer(k, sgl, nents, buf, buflen, skip, False)


@export("size_t sg_pcopy_to_buffer(struct scatterlist *sgl, unsigned int nents, void *buf, "
        "size_t buflen, off_t skip)")
def sg_pcopy_to_buffer(k, sgl, nents, buf, buflen, skip):
    return copy_buffer(k, sgl, nents, buf, buflen, skip, True)


@export("size_t sg_zero_buffer(struct scatterlist *sgl, unsigned int nents, size_t buflen, "
        "off_t skip)")
def sg_zero_buffer(k, sgl, nents, buflen, skip):
    return copy_buffer(k, sgl, nents, 0, buflen, skip, False, zero=True)


# ------------------------------------------------------------------ sg tables
def _table(k, member):
    return k.target.offset(f"sg_table.{member}")


@export("int sg_alloc_table(struct sg_table *table, unsigned int nents, gfp_t gfp_mask)", fails="-ENOMEM")
def sg_alloc_table(k, table, nents, gfp_mask):
    """__sg_alloc_table() with SG_MAX_SINGLE_ALLOC-entry chunks chained together."""
    s, m = SG(k), k.machine
    m.write(table, bytes(k.target.sizeof("sg_table")))
    if nents == 0:
        return -22
    max_ents = k.target.const("SG_MAX_SINGLE_ALLOC")
    left, prv = nents, 0
    while left:
        alloc_size = min(left, max_ents)
        sg_size = alloc_size - 1 if left > max_ents else alloc_size
        left -= sg_size
        m.check_deadline()
        sg = kmalloc(k, alloc_size * s.size, gfp_mask, kind="sg table")
        if not sg:                             # __sg_alloc_table() fails; sg_free_table()
            if m.read_u64(table + _table(k, "sgl")):
                sg_free_table(k, table)
            return -errno.ENOMEM
        s.init_table(sg, alloc_size)
        m.write_u32(table + _table(k, "nents"), m.read_u32(table + _table(k, "nents")) + sg_size)
        m.write_u32(table + _table(k, "orig_nents"),
                    m.read_u32(table + _table(k, "orig_nents")) + sg_size)
        if prv:                                # sg_chain(prv, max_ents, sg)
            chain = prv + (max_ents - 1) * s.size
            m.write_u32(chain + s.o_off, 0)
            m.write_u32(chain + s.o_len, 0)
            s.set_link(chain, (sg | s.chain) & ~s.end)
        else:
            m.write_u64(table + _table(k, "sgl"), sg)
        if not left:
            last = sg + (sg_size - 1) * s.size
            s.set_link(last, (s.link(last) | s.end) & ~s.chain)
        prv = sg
    return 0


@export("void sg_free_table(struct sg_table *table)")
def sg_free_table(k, table):
    s, m = SG(k), k.machine
    sgl = m.read_u64(table + _table(k, "sgl"))
    left = m.read_u32(table + _table(k, "orig_nents"))
    max_ents = k.target.const("SG_MAX_SINGLE_ALLOC")
    while left and sgl:
        if left > max_ents:
            nxt = s.page(sgl + (max_ents - 1) * s.size)
            left -= max_ents - 1
        else:
            nxt, left = 0, 0
        kfree_addr(k, sgl)
        sgl = nxt
    m.write_u64(table + _table(k, "sgl"), 0)


# ------------------------------------------------------------- mapping iterator
def _mi(k, member):
    return k.target.offset(f"sg_mapping_iter.{member}")


def _pi(k, member):
    return k.target.offset("sg_mapping_iter.piter") + k.target.offset(f"sg_page_iter.{member}")


def _page_count(s, sg):
    return ((s.offset(sg) + s.length(sg) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)) >> PAGE_SHIFT


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def _page_iter_next(k, mi) -> bool:
    """__sg_page_iter_next() on miter->piter."""
    s, m = SG(k), k.machine
    nents = m.read_u32(mi + _pi(k, "__nents"))
    sg = m.read_u64(mi + _pi(k, "sg"))
    if not nents or not sg:
        return False
    pgoff = m.read_u32(mi + _pi(k, "sg_pgoffset")) + _s32(m.read_u32(mi + _pi(k, "__pg_advance")))
    m.write_u32(mi + _pi(k, "__pg_advance"), 1)
    ok = True
    while pgoff >= _page_count(s, sg):
        pgoff -= _page_count(s, sg)
        sg = s.next(sg)
        nents -= 1
        if not nents or not sg:
            ok = False
            break
    m.write_u32(mi + _pi(k, "sg_pgoffset"), pgoff)
    m.write_u64(mi + _pi(k, "sg"), sg)
    m.write_u32(mi + _pi(k, "__nents"), nents)
    return ok


@export("void sg_miter_start(struct sg_mapping_iter *miter, struct scatterlist *sgl, "
        "unsigned int nents, unsigned int flags)")
def sg_miter_start(k, miter, sgl, nents, flags):
    m, t = k.machine, k.target
    m.write(miter, bytes(t.sizeof("sg_mapping_iter")))
    m.write_u64(miter + _pi(k, "sg"), sgl)
    m.write_u32(miter + _pi(k, "__nents"), nents)
    if not flags & (t.const("SG_MITER_TO_SG") | t.const("SG_MITER_FROM_SG")):
        warn(k, "lib/scatterlist.c:792", "sg_miter_start+0x46/0x60")
    m.write_u32(miter + _mi(k, "__flags"), flags)


@export("void sg_miter_stop(struct sg_mapping_iter *miter)")
def sg_miter_stop(k, miter):
    m = k.machine
    consumed, length = m.read_u64(miter + _mi(k, "consumed")), m.read_u64(miter + _mi(k, "length"))
    if consumed > length:
        warn(k, "lib/scatterlist.c:911", "sg_miter_stop+0x6d/0x80")
    if m.read_u64(miter + _mi(k, "addr")):
        m.write_u32(miter + _mi(k, "__offset"), m.read_u32(miter + _mi(k, "__offset")) + consumed)
        m.write_u32(miter + _mi(k, "__remaining"),
                    m.read_u32(miter + _mi(k, "__remaining")) - consumed)
        for name in ("page", "addr", "length", "consumed"):
            m.write_u64(miter + _mi(k, name), 0)


@export("bool sg_miter_next(struct sg_mapping_iter *miter)")
def sg_miter_next(k, miter):
    s, m = SG(k), k.machine
    sg_miter_stop(k, miter)
    if not m.read_u32(miter + _mi(k, "__remaining")):
        if not _page_iter_next(k, miter):
            return False
        sg = m.read_u64(miter + _pi(k, "sg"))
        pgoff = m.read_u32(miter + _pi(k, "sg_pgoffset"))
        offset = 0 if pgoff else s.offset(sg)
        pgoff += offset >> PAGE_SHIFT
        offset &= PAGE_SIZE - 1
        remaining = s.offset(sg) + s.length(sg) - (pgoff << PAGE_SHIFT) - offset
        remaining = min(remaining & U64, PAGE_SIZE - offset)
        m.write_u32(miter + _pi(k, "sg_pgoffset"), pgoff)
        m.write_u32(miter + _mi(k, "__offset"), offset)
        m.write_u32(miter + _mi(k, "__remaining"), remaining)
    sg = m.read_u64(miter + _pi(k, "sg"))
    page = nth_page(k, s.page(sg), m.read_u32(miter + _pi(k, "sg_pgoffset")))
    remaining = m.read_u32(miter + _mi(k, "__remaining"))
    m.write_u64(miter + _mi(k, "page"), page)
    m.write_u64(miter + _mi(k, "consumed"), remaining)
    m.write_u64(miter + _mi(k, "length"), remaining)
    m.write_u64(miter + _mi(k, "addr"),
                page_address(k, page) + m.read_u32(miter + _mi(k, "__offset")))
    return True



# Page iterators over a mapped table walk DMA buffers of devices kemu's machine lacks.
from kemu.abi.exports import link_only  # noqa: E402

members("struct scatterlist", "page_link", "offset", "length")
members("struct sg_mapping_iter", "piter", "page", "addr", "length", "consumed", "__offset",
        "__remaining", "__flags")
members("struct sg_table", "sgl", "nents", "orig_nents")
members("struct sg_page_iter", "sg", "sg_pgoffset", "__nents", "__pg_advance")

for _p, _r in (
        ("void __sg_page_iter_start(struct sg_page_iter *piter, struct scatterlist *sglist, "
         "unsigned int nents, unsigned long pgoffset)", None),
        ("bool __sg_page_iter_next(struct sg_page_iter *piter)", False),
        ("bool __sg_page_iter_dma_next(struct sg_dma_page_iter *dma_iter)", False),
):
    link_only(_p, _r, "kemu's page iterators are not modelled (no device DMA)")
