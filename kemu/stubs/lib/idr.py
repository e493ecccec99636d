"""lib/idr.c (and idr_preload/idr_destroy of lib/radix-tree.c): ID allocators.

An IDR maps integer ids (offset by ``idr_base``) to pointers; an IDA only
allocates ids. kemu keeps the map in Python, keyed by the ``struct idr`` /
``struct ida`` address, and mirrors emptiness into ``xa_head`` (NULL when
empty, non-NULL otherwise) so that the header's inline ``idr_is_empty()`` /
``ida_is_empty()`` see the truth. A structure whose ``xa_head`` was reset to
NULL by an inline ``idr_init()``/``ida_init()`` starts afresh. Ids are given
lowest-free first like the radix tree; ``idr_alloc_cyclic`` follows
``idr_next``. A NULL pointer reserves its id (``idr_find`` gives NULL).
``idr_preload`` disables preemption until the inline ``idr_preload_end``.

Python API: ``idr_entries(k, idr) -> {id: ptr}``, ``ida_ids(k, ida) -> set``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import err_ptr, rd, s32, wr

members("struct idr", "idr_rt", "idr_base", "idr_next")
members("struct xarray", "xa_head")
members("struct ida", "xa")

INT_MAX = 0x7FFFFFFF


class IdMaps:
    """Per-kernel maps: struct idr/ida address -> {id: ptr} (sorted id lists alongside)."""

    def __init__(self, k):
        self.k = k
        self.maps: dict[int, dict[int, int]] = {}
        self.marker = k.machine.alloc_kdata(64, 64)     # what xa_head holds when non-empty

    def get(self, xa: int) -> dict[int, int]:
        """The map of the xarray at ``xa`` (a fresh one after an inline re-init)."""
        head = self.k.machine.read_u64(xa + self.k.target.offset("xarray.xa_head"))
        m = self.maps.get(xa)
        if m is None or (m and not head):
            m = self.maps[xa] = {}
        return m

    def sync(self, xa: int) -> None:
        """Mirror emptiness into xa_head."""
        m = self.maps.get(xa) or {}
        self.k.machine.write_u64(xa + self.k.target.offset("xarray.xa_head"),
                                 self.marker if m else 0)


def _xa_of_idr(k, idr):
    return idr + k.target.offset("idr.idr_rt")


def _xa_of_ida(k, ida):
    return ida + k.target.offset("ida.xa")


def _first_free(used: dict, lo: int, hi: int) -> int | None:
    """The lowest id in [lo, hi] not in ``used``."""
    ids = sorted(i for i in used if i >= lo)
    i = lo
    for u in ids:
        if u > i:
            break
        if u == i:
            i += 1
    return i if i <= hi else None


def alloc_u32(k, idr, ptr, want: int, max_: int):
    """idr_alloc_u32(): (0, id) or (-errno, id)."""
    ids = k.model(IdMaps)
    xa = _xa_of_idr(k, idr)
    m = ids.get(xa)
    base = rd(k, idr, "idr.idr_base", 4)
    lo = 0 if want < base else want - base
    hi = max_ - base if max_ >= base else -1
    if hi < 0:
        return -errno.ENOSPC, want
    got = _first_free(m, lo, hi)
    if got is None:
        return -errno.ENOSPC, want
    m[got] = ptr
    ids.sync(xa)
    return 0, got + base


@export("int idr_alloc_u32(struct idr *idr, void *ptr, u32 *nextid, unsigned long max, "
        "gfp_t gfp)")
def idr_alloc_u32(k, idr, ptr, nextid, max_, gfp):
    ret, got = alloc_u32(k, idr, ptr, k.machine.read_u32(nextid), max_)
    if not ret:
        k.machine.write_u32(nextid, got)
    return ret


def _warn_once(k, where, fn):
    from .kemu_warn import warn_once
    warn_once(k, where, fn)


@export("int idr_alloc(struct idr *idr, void *ptr, int start, int end, gfp_t gfp)", fails="-ENOMEM")
def idr_alloc(k, idr, ptr, start, end, gfp):
    start, end = s32(start), s32(end)
    if start < 0:
        _warn_once(k, "lib/idr.c:86", "idr_alloc+0x57/0x70")
        return -errno.EINVAL
    ret, got = alloc_u32(k, idr, ptr, start, end - 1 if end > 0 else INT_MAX)
    return ret if ret else got


@export("int idr_alloc_cyclic(struct idr *idr, void *ptr, int start, int end, gfp_t gfp)")
def idr_alloc_cyclic(k, idr, ptr, start, end, gfp):
    start, end = s32(start), s32(end)
    nxt = rd(k, idr, "idr.idr_next", 4)
    max_ = end - 1 if end > 0 else INT_MAX
    want = start if s32(nxt) < start else nxt
    ret, got = alloc_u32(k, idr, ptr, want, max_)
    if ret == -errno.ENOSPC and want > start:
        ret, got = alloc_u32(k, idr, ptr, start, max_)
    if ret:
        return ret
    wr(k, idr, "idr.idr_next", (got + 1) & 0xFFFFFFFF, 4)
    return got


@export("void *idr_remove(struct idr *idr, unsigned long id)")
def idr_remove(k, idr, id_):
    ids = k.model(IdMaps)
    xa = _xa_of_idr(k, idr)
    m = ids.get(xa)
    ptr = m.pop(id_ - rd(k, idr, "idr.idr_base", 4), 0) if id_ >= rd(k, idr, "idr.idr_base", 4) \
        else 0
    ids.sync(xa)
    return ptr


@export("void *idr_find(const struct idr *idr, unsigned long id)")
def idr_find(k, idr, id_):
    m = k.model(IdMaps).get(_xa_of_idr(k, idr))
    return m.get(id_ - rd(k, idr, "idr.idr_base", 4), 0)


@export("void *idr_replace(struct idr *idr, void *ptr, unsigned long id)")
def idr_replace(k, idr, ptr, id_):
    m = k.model(IdMaps).get(_xa_of_idr(k, idr))
    key = id_ - rd(k, idr, "idr.idr_base", 4)
    if key not in m:
        return err_ptr(-errno.ENOENT)
    old, m[key] = m[key], ptr
    return old


@export("int idr_for_each(const struct idr *idr, int (*fn)(int id, void *p, void *data), "
        "void *data)")
def idr_for_each(k, idr, fn, data):
    m = k.model(IdMaps).get(_xa_of_idr(k, idr))
    base = rd(k, idr, "idr.idr_base", 4)
    for key in sorted(m):
        ptr = m.get(key, 0)
        if not ptr:
            continue
        ret = s32((yield k.call_request(fn, key + base, ptr, data)))
        if ret:
            return ret
    return 0


def _get_next(k, idr, start: int):
    m = k.model(IdMaps).get(_xa_of_idr(k, idr))
    base = rd(k, idr, "idr.idr_base", 4)
    for key in sorted(m):
        if key + base >= start and m[key]:
            return key + base, m[key]
    return None, 0


@export("void *idr_get_next(struct idr *idr, int *nextid)")
def idr_get_next(k, idr, nextid):
    got, ptr = _get_next(k, idr, s32(k.machine.read_u32(nextid)))
    if got is None or got > INT_MAX:
        return 0
    k.machine.write_u32(nextid, got)
    return ptr


@export("void *idr_get_next_ul(struct idr *idr, unsigned long *nextid)")
def idr_get_next_ul(k, idr, nextid):
    got, ptr = _get_next(k, idr, k.machine.read_u64(nextid))
    if got is None:
        return 0
    k.machine.write_u64(nextid, got)
    return ptr


@export("void idr_destroy(struct idr *idr)")
def idr_destroy(k, idr):
    ids = k.model(IdMaps)
    xa = _xa_of_idr(k, idr)
    ids.maps.pop(xa, None)
    ids.sync(xa)


@export("void idr_preload(gfp_t gfp_mask)")
def idr_preload(k, gfp_mask):
    """radix_tree_preload: local_lock(&radix_tree_preloads.lock), i.e. preempt_disable()."""
    from ..arch.x86.kernel.fpu import _preempt_count_add
    _preempt_count_add(k, 1)


# ------------------------------------------------------------ IDA
@export("int ida_alloc_range(struct ida *ida, unsigned int min, unsigned int max, gfp_t gfp)", fails="-ENOMEM")
def ida_alloc_range(k, ida, min_, max_, gfp):
    if s32(min_) < 0:
        return -errno.ENOSPC
    if s32(max_) < 0:
        max_ = INT_MAX
    ids = k.model(IdMaps)
    xa = _xa_of_ida(k, ida)
    m = ids.get(xa)
    got = _first_free(m, min_, max_)
    if got is None:
        return -errno.ENOSPC
    m[got] = 1
    ids.sync(xa)
    return got


@export("void ida_free(struct ida *ida, unsigned int id)")
def ida_free(k, ida, id_):
    ids = k.model(IdMaps)
    xa = _xa_of_ida(k, ida)
    m = ids.get(xa)
    if m.pop(id_, None) is None:
        from .kemu_warn import warn
        warn(k, "lib/idr.c:527", "ida_free+0xe2/0x140",
             f"ida_free called for id={s32(id_)} which is not allocated.")
        return
    ids.sync(xa)


@export("void ida_destroy(struct ida *ida)")
def ida_destroy(k, ida):
    ids = k.model(IdMaps)
    xa = _xa_of_ida(k, ida)
    ids.maps.pop(xa, None)
    ids.sync(xa)


# ------------------------------------------------------------ Python API
def idr_entries(k, idr) -> dict:
    """{id: ptr} of an IDR (ids with idr_base added)."""
    base = rd(k, idr, "idr.idr_base", 4)
    return {i + base: p for i, p in k.model(IdMaps).get(_xa_of_idr(k, idr)).items()}


def ida_ids(k, ida) -> set:
    """The allocated ids of an IDA."""
    return set(k.model(IdMaps).get(_xa_of_ida(k, ida)))

