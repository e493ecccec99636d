"""lib/iov_iter.c: building, walking and copying through a struct iov_iter.

Iterators over user memory (ITER_UBUF, ITER_IOVEC), kernel memory
(ITER_KVEC), pages (ITER_BVEC: a bio_vec's page, offset and length, in the
direct map) and ITER_DISCARD are walked as the kernel's
``iterate_and_advance`` does: a user segment that faults ends the copy
short, and the iterator is advanced by what was copied. ITER_XARRAY and
ITER_PIPE iterators are built but only filesystems doing I/O copy through
them: such a copy is a ``not-modelled`` finding and copies nothing.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from ..fs.internal import link_only
from kemu.abi.toolkit import rd, wr
from .kemu_warn import warn, warn_once
from .usercopy import _mapped_prefix, access_ok, copy_in, copy_out

members("struct iov_iter", "iter_type", "data_source", "user_backed", "iov_offset", "count",
        "iov|__iov", "ubuf", "nr_segs", "xarray_start")
members("struct bio_vec", "bv_page", "bv_len", "bv_offset")
members("struct iovec", "iov_base", "iov_len")
members("struct kvec", "iov_base", "iov_len")

PAGE_SIZE = 4096
MAX_RW_COUNT = 0x7FFFFFFF & ~(PAGE_SIZE - 1)
READ, WRITE = 0, 1


def _c(k, name):
    return k.target.const(name)


def _type(k, it: int) -> int:
    return k.machine.read_u8(it + k.target.offset("iov_iter.iter_type"))


def _is(k, it: int, *names) -> bool:
    return _type(k, it) in tuple(_c(k, n) for n in names)


def _vec(k, it):
    """(struct name, its length member, its base reader) of an iovec/kvec/bvec iter."""
    t = k.target
    if _is(k, it, "ITER_BVEC"):
        from ..mm.page_alloc import pages
        P = pages(k)
        return ("bio_vec", "bio_vec.bv_len", 4,
                lambda v: P.addr_of(rd(k, v, "bio_vec.bv_page")) + rd(k, v, "bio_vec.bv_offset", 4))
    kind = "iovec" if _is(k, it, "ITER_IOVEC") else "kvec"
    return kind, f"{kind}.iov_len", 8, lambda v: rd(k, v, f"{kind}.iov_base")


def _seg_len(k, v, member, size):
    return rd(k, v, member, size)


def segments(k, it: int, n: int):
    """The (address, length, user) pieces holding the iter's next ``n`` bytes."""
    count = rd(k, it, "iov_iter.count")
    n = min(n, count)
    off = rd(k, it, "iov_iter.iov_offset")
    if n <= 0 or _is(k, it, "ITER_DISCARD"):
        return []
    if _is(k, it, "ITER_UBUF"):
        return [(rd(k, it, "iov_iter.ubuf") + off, n, True)]
    if not _is(k, it, "ITER_IOVEC", "ITER_KVEC", "ITER_BVEC"):
        return None
    struct, member, size, base = _vec(k, it)
    user = _is(k, it, "ITER_IOVEC")
    step = k.target.sizeof(struct)
    v = rd(k, it, "iov_iter.iov")
    out = []
    for _ in range(rd(k, it, "iov_iter.nr_segs")):
        if n <= 0:
            break
        length = _seg_len(k, v, member, size) - off
        if length > 0:
            take = min(length, n)
            out.append((base(v) + off, take, user))
            n -= take
        off = 0
        v += step
    return out


def _unmodelled(k, it: int, what: str) -> None:
    k.finding("not-modelled", f"{what} on an iov_iter of type {_type(k, it)} (xarray/pipe): "
                              "kemu models these only for filesystems doing I/O",
              k.current_module())


def iter_write(k, it: int, data: bytes) -> int:
    """Copy ``data`` into the iter and advance it; returns the bytes copied."""
    if _is(k, it, "ITER_DISCARD"):
        n = min(len(data), rd(k, it, "iov_iter.count"))
        advance(k, it, n)
        return n
    segs = segments(k, it, len(data))
    if segs is None:
        _unmodelled(k, it, "a copy")
        return 0
    done = 0
    for addr, length, user in segs:
        piece = data[done:done + length]
        if user:
            left = copy_out(k, addr, piece) if access_ok(addr, length) else length
        else:
            k.machine.write(addr, piece)
            left = 0
        done += length - left
        if left:
            break
    advance(k, it, done)
    return done


def iter_read(k, it: int, n: int) -> bytes:
    """Up to ``n`` bytes out of the iter, advancing it."""
    if _is(k, it, "ITER_DISCARD"):
        return b""
    segs = segments(k, it, n)
    if segs is None:
        _unmodelled(k, it, "a copy")
        return b""
    out = bytearray()
    for addr, length, user in segs:
        piece = (copy_in(k, addr, length) if access_ok(addr, length) else b"") if user \
            else k.machine.read(addr, length)
        out += piece
        if len(piece) < length:
            break
    advance(k, it, len(out))
    return bytes(out)


def advance(k, it: int, size: int) -> None:
    """iov_iter_advance()."""
    count = rd(k, it, "iov_iter.count")
    size = min(size, count)
    if _is(k, it, "ITER_UBUF", "ITER_XARRAY"):
        wr(k, it, "iov_iter.iov_offset", rd(k, it, "iov_iter.iov_offset") + size)
        wr(k, it, "iov_iter.count", count - size)
    elif _is(k, it, "ITER_IOVEC", "ITER_KVEC", "ITER_BVEC"):
        if not count:
            return
        wr(k, it, "iov_iter.count", count - size)
        struct, member, lsize, _base = _vec(k, it)
        step = k.target.sizeof(struct)
        size += rd(k, it, "iov_iter.iov_offset")
        v = rd(k, it, "iov_iter.iov")
        nr = rd(k, it, "iov_iter.nr_segs")
        end = v + nr * step
        while v < end:
            length = _seg_len(k, v, member, lsize)
            if size < length:
                break
            size -= length
            v += step
        wr(k, it, "iov_iter.iov_offset", size)
        wr(k, it, "iov_iter.nr_segs", nr - (v - rd(k, it, "iov_iter.iov")) // step)
        wr(k, it, "iov_iter.iov", v)
    elif _is(k, it, "ITER_DISCARD"):
        wr(k, it, "iov_iter.count", count - size)
    else:
        _unmodelled(k, it, "iov_iter_advance")


def _init(k, it, itype, direction, ptr, nr_segs, count, user=False):
    t, m = k.target, k.machine
    m.write(it, bytes(t.sizeof("iov_iter")))
    m.write_u8(it + t.offset("iov_iter.iter_type"), _c(k, itype))
    m.write_u8(it + t.offset("iov_iter.data_source"), direction & 1)
    m.write_u8(it + t.offset("iov_iter.user_backed"), 1 if user else 0)
    wr(k, it, "iov_iter.iov", ptr)
    wr(k, it, "iov_iter.nr_segs", nr_segs)
    wr(k, it, "iov_iter.count", count)


@export("void iov_iter_init(struct iov_iter *i, unsigned int direction, "
        "const struct iovec *iov, unsigned long nr_segs, size_t count)")
def iov_iter_init(k, i, direction, iov, nr_segs, count):
    if direction & ~(READ | WRITE):
        warn(k, "lib/iov_iter.c:439", "iov_iter_init+0x5a/0x70")
    _init(k, i, "ITER_IOVEC", direction, iov, nr_segs, count, user=True)


@export("void iov_iter_kvec(struct iov_iter *i, unsigned int direction, "
        "const struct kvec *kvec, unsigned long nr_segs, size_t count)")
def iov_iter_kvec(k, i, direction, kvec, nr_segs, count):
    if direction & ~(READ | WRITE):
        warn(k, "lib/iov_iter.c:1249", "iov_iter_kvec+0x52/0x60")
    _init(k, i, "ITER_KVEC", direction, kvec, nr_segs, count)


@export("void iov_iter_bvec(struct iov_iter *i, unsigned int direction, "
        "const struct bio_vec *bvec, unsigned long nr_segs, size_t count)")
def iov_iter_bvec(k, i, direction, bvec, nr_segs, count):
    if direction & ~(READ | WRITE):
        warn(k, "lib/iov_iter.c:1265", "iov_iter_bvec+0x52/0x60")
    _init(k, i, "ITER_BVEC", direction, bvec, nr_segs, count)


@export("void iov_iter_discard(struct iov_iter *i, unsigned int direction, size_t count)")
def iov_iter_discard(k, i, direction, count):
    if direction != READ:
        from .kemu_warn import bug
        bug(k, "lib/iov_iter.c:1334")
    _init(k, i, "ITER_DISCARD", READ, 0, 0, count)


@export("void iov_iter_xarray(struct iov_iter *i, unsigned int direction, "
        "struct xarray *xarray, loff_t start, size_t count)")
def iov_iter_xarray(k, i, direction, xarray, start, count):
    _init(k, i, "ITER_XARRAY", direction & 1, xarray, 0, count)
    wr(k, i, "iov_iter.xarray_start", start)


@export("void iov_iter_advance(struct iov_iter *i, size_t size)")
def iov_iter_advance(k, i, size):
    advance(k, i, size)


@export("void iov_iter_revert(struct iov_iter *i, size_t unroll)")
def iov_iter_revert(k, i, unroll):
    """Step back ``unroll`` bytes (never past the start of the segments)."""
    if not unroll:
        return
    if unroll > MAX_RW_COUNT:
        warn(k, "lib/iov_iter.c:938", "iov_iter_revert+0x11c/0x130")
        return
    wr(k, i, "iov_iter.count", rd(k, i, "iov_iter.count") + unroll)
    if _is(k, i, "ITER_DISCARD"):
        return
    if _is(k, i, "ITER_PIPE"):
        _unmodelled(k, i, "iov_iter_revert")
        return
    off = rd(k, i, "iov_iter.iov_offset")
    if unroll <= off:
        wr(k, i, "iov_iter.iov_offset", off - unroll)
        return
    unroll -= off
    if _is(k, i, "ITER_XARRAY", "ITER_UBUF"):
        from .kemu_warn import bug
        bug(k, "lib/iov_iter.c:960")
    struct, member, lsize, _base = _vec(k, i)
    step = k.target.sizeof(struct)
    v = rd(k, i, "iov_iter.iov")
    while True:
        v -= step
        n = _seg_len(k, v, member, lsize)
        wr(k, i, "iov_iter.nr_segs", rd(k, i, "iov_iter.nr_segs") + 1)
        if unroll <= n:
            wr(k, i, "iov_iter.iov", v)
            wr(k, i, "iov_iter.iov_offset", n - unroll)
            return
        unroll -= n


@export("size_t _copy_to_iter(const void *addr, size_t bytes, struct iov_iter *i)")
def _copy_to_iter(k, addr, nbytes, i):
    if k.machine.read_u8(i + k.target.offset("iov_iter.data_source")):
        warn_once(k, "lib/iov_iter.c:631", "_copy_to_iter+0x3e3/0x450")
        return 0
    n = min(nbytes, rd(k, i, "iov_iter.count"))
    return iter_write(k, i, k.machine.read(addr, n) if n else b"")


@export("size_t _copy_from_iter(void *addr, size_t bytes, struct iov_iter *i)")
def _copy_from_iter(k, addr, nbytes, i):
    if not k.machine.read_u8(i + k.target.offset("iov_iter.data_source")):
        warn_once(k, "lib/iov_iter.c:753", "_copy_from_iter+0x2ab/0x360")
        return 0
    if _is(k, i, "ITER_DISCARD"):
        n = min(nbytes, rd(k, i, "iov_iter.count"))
        advance(k, i, n)
        return n
    data = iter_read(k, i, nbytes)
    if data:
        k.machine.write(addr, data)
    return len(data)


@export("size_t _copy_from_iter_nocache(void *addr, size_t bytes, struct iov_iter *i)")
def _copy_from_iter_nocache(k, addr, nbytes, i):
    return _copy_from_iter(k, addr, nbytes, i)


@export("size_t iov_iter_zero(size_t bytes, struct iov_iter *i)")
def iov_iter_zero(k, nbytes, i):
    n = min(nbytes, rd(k, i, "iov_iter.count"))
    done = 0
    while done < n:                   # a chunk at a time: the count is the module's
        chunk = min(n - done, 1 << 16)
        wrote = iter_write(k, i, bytes(chunk))
        done += wrote
        if wrote < chunk:
            break
        k.machine.check_deadline()
    return done


def _page_addr(k, page: int, offset: int) -> int:
    from ..mm.page_alloc import pages
    return pages(k).addr_of(page) + offset


@export("size_t copy_page_to_iter(struct page *page, size_t offset, size_t bytes, "
        "struct iov_iter *i)")
def copy_page_to_iter(k, page, offset, nbytes, i):
    return _copy_to_iter(k, _page_addr(k, page, offset), nbytes, i)


@export("size_t copy_page_from_iter(struct page *page, size_t offset, size_t bytes, "
        "struct iov_iter *i)")
def copy_page_from_iter(k, page, offset, nbytes, i):
    return _copy_from_iter(k, _page_addr(k, page, offset), nbytes, i)


@export("size_t copy_page_from_iter_atomic(struct page *page, unsigned int offset, "
        "size_t bytes, struct iov_iter *i)")
def copy_page_from_iter_atomic(k, page, offset, nbytes, i):
    if _is(k, i, "ITER_PIPE", "ITER_DISCARD"):
        warn(k, "lib/iov_iter.c:868", "copy_page_from_iter_atomic+0x3c6/0x3e0")
        return 0
    data = iter_read(k, i, nbytes)
    if data:
        k.machine.write(_page_addr(k, page, offset), data)
    return len(data)


@export("size_t iov_iter_single_seg_count(const struct iov_iter *i)")
def iov_iter_single_seg_count(k, i):
    count = rd(k, i, "iov_iter.count")
    if rd(k, i, "iov_iter.nr_segs") > 1 and _is(k, i, "ITER_IOVEC", "ITER_KVEC", "ITER_BVEC"):
        _struct, member, lsize, _base = _vec(k, i)
        first = _seg_len(k, rd(k, i, "iov_iter.iov"), member, lsize)
        return min(count, first - rd(k, i, "iov_iter.iov_offset"))
    return count


def _vec_walk(k, i):
    """(start address or offset, length) of each non-empty remaining piece (at most count)."""
    _struct, member, lsize, base = _vec(k, i)
    step = k.target.sizeof(_struct)
    size, skip = rd(k, i, "iov_iter.count"), rd(k, i, "iov_iter.iov_offset")
    v = rd(k, i, "iov_iter.iov")
    bvec = _is(k, i, "ITER_BVEC")
    for _ in range(rd(k, i, "iov_iter.nr_segs")):
        if not size:
            break
        length = _seg_len(k, v, member, lsize) - skip
        if length:
            start = (rd(k, v, "bio_vec.bv_offset", 4) if bvec else base(v)) + skip
            yield start, length, min(length, size)
            size -= min(length, size)
        skip = 0
        v += step


@export("unsigned long iov_iter_alignment(const struct iov_iter *i)")
def iov_iter_alignment(k, i):
    count = rd(k, i, "iov_iter.count")
    off = rd(k, i, "iov_iter.iov_offset")
    if _is(k, i, "ITER_UBUF"):
        return (rd(k, i, "iov_iter.ubuf") + off) | count if count else 0
    if _is(k, i, "ITER_XARRAY"):
        return (rd(k, i, "iov_iter.xarray_start") + off) | count
    if _is(k, i, "ITER_IOVEC", "ITER_KVEC", "ITER_BVEC"):
        res = 0
        for start, _length, take in _vec_walk(k, i):
            res |= start | take
        return res & ((1 << 64) - 1)
    return 0


def _div_up(a, b):
    return -(-a // b)


@export("int iov_iter_npages(const struct iov_iter *i, int maxpages)")
def iov_iter_npages(k, i, maxpages):
    count = rd(k, i, "iov_iter.count")
    if not count:
        return 0
    off = rd(k, i, "iov_iter.iov_offset")
    if _is(k, i, "ITER_UBUF"):
        offs = (rd(k, i, "iov_iter.ubuf") + off) % PAGE_SIZE
        return min(_div_up(offs + count, PAGE_SIZE), maxpages)
    if _is(k, i, "ITER_XARRAY"):
        offs = (rd(k, i, "iov_iter.xarray_start") + off) % PAGE_SIZE
        return min(_div_up(offs + count, PAGE_SIZE), maxpages)
    if _is(k, i, "ITER_IOVEC", "ITER_KVEC", "ITER_BVEC"):
        npages = 0
        for start, _length, take in _vec_walk(k, i):
            npages += _div_up(start % PAGE_SIZE + take, PAGE_SIZE)
            if npages > maxpages:
                return maxpages
        return npages
    return 0


@export("size_t fault_in_iov_iter_readable(const struct iov_iter *i, size_t bytes)")
def fault_in_iov_iter_readable(k, i, nbytes):
    """How many of the next ``bytes`` user bytes cannot be read (0 for kernel iters)."""
    if _is(k, i, "ITER_UBUF"):
        n = min(nbytes, rd(k, i, "iov_iter.count"))
        addr = rd(k, i, "iov_iter.ubuf") + rd(k, i, "iov_iter.iov_offset")
        ok = _mapped_prefix(k, addr, n) if access_ok(addr, n) else 0
        return nbytes - ok
    if _is(k, i, "ITER_IOVEC"):
        count = min(nbytes, rd(k, i, "iov_iter.count"))
        rest = nbytes - count
        for start, _length, take in _vec_walk(k, i):
            length = min(count, take)
            if not length:
                continue
            ok = _mapped_prefix(k, start, length) if access_ok(start, length) else 0
            count -= ok
            if ok < length:
                break
        return count + rest
    return 0


link_only("ssize_t iov_iter_get_pages2(struct iov_iter *i, struct page **pages, size_t maxsize, "
          "unsigned int maxpages, size_t *start)", -errno.EFAULT,
          "kemu does not pin pages of an iov_iter (direct I/O)")
link_only("ssize_t iov_iter_get_pages_alloc2(struct iov_iter *i, struct page ***pages, "
          "size_t maxsize, size_t *start)", -errno.EFAULT,
          "kemu does not pin pages of an iov_iter (direct I/O)")
