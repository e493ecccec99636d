"""lib/xarray.c: the xa_* API (xa_mark_t spelled unsigned int) and the xas_* calls modules make, as a Python-side model.

Each xarray's entries (index -> pointer or value entry, XA_ZERO_ENTRY for a
reserved index) and marks live in Python; the struct's ``xa_head`` is kept as
the inline helpers expect: NULL when empty, the entry itself when index 0 is
the only one used, else an (empty) node - so xa_empty() and friends agree.
The head mark bits of ``xa_flags`` (xa_marked()) follow the marks, the
XA_FREE_MARK of allocating arrays included. Semantics are the kernel's:
zero entries read as NULL but stay reserved, xa_store(NULL) reserves in
allocating arrays, "advanced" internal entries are refused with
WARN_ON_ONCE and XA_ERROR(-EINVAL), the allocators search [min, max] (index 0
is busy in XA_FLAGS_ALLOC1 arrays) and fail with -EBUSY, xa_alloc_cyclic
wraps. The non-__ calls take ``xa_lock`` as the kernel does.

An xa_state's ``xa_node`` is not a real node here: once positioned by
xas_load/xas_store/xas_find it holds 2 (an internal entry that no inline
helper takes for a node), so the inline iterators (xas_next_entry,
xas_next) fall back to the exported xas_find/__xas_next, which continue
after ``xa_index``. XAS_RESTART (3) and XAS_BOUNDS (1) mean what they do in
the kernel.
"""
from __future__ import annotations

import bisect
import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from ..kernel.locking.spinlock import _raw_spin_lock, _raw_spin_unlock
from .kemu_warn import warn_once

members("struct xarray", "xa_lock", "xa_flags", "xa_head")
members("struct xa_state", "xa_index", "xa_node", "xa", "xa_shift", "xa_sibs", "xa_offset",
        "xa_pad", "xa_alloc", "xa_update", "xa_lru")
members("struct xa_limit", "max", "min")
members("struct xa_node", "shift", "offset", "count", "nr_values", "parent", "array", "slots")

XAS_BOUNDS, XAS_POSITIONED, XAS_RESTART = 1, 2, 3
MASK64 = (1 << 64) - 1


def xa_mk_internal(v: int) -> int:
    return ((v << 2) | 2) & MASK64


class XArray:
    """One xarray's contents."""

    def __init__(self):
        self.entries: dict[int, int] = {}
        self.order: list[int] = []              # sorted indices
        self.marks: list[set] = [set(), set(), set()]

    def put(self, index: int, entry: int) -> int:
        old = self.entries.get(index, 0)
        if entry:
            if index not in self.entries:
                bisect.insort(self.order, index)
            self.entries[index] = entry
        elif index in self.entries:
            del self.entries[index]
            self.order.pop(bisect.bisect_left(self.order, index))
            for marks in self.marks:
                marks.discard(index)
        return old

    def first(self, start: int, end: int, mark: int | None, skip_zero: int = 0):
        """The first (index, entry) with start <= index <= end (marked ``mark``)."""
        i = bisect.bisect_left(self.order, start)
        while i < len(self.order) and self.order[i] <= end:
            index = self.order[i]
            entry = self.entries[index]
            if (mark is None or index in self.marks[mark]) and entry != skip_zero:
                return index, entry
            i += 1
        return None


class XArrays:
    def __init__(self, k):
        self.k = k
        self.arrays: dict[int, XArray] = {}
        self.node = k.machine.alloc_kdata(k.target.sizeof("xa_node"), 8)   # the dummy node
        c = k.target.const
        self.ZERO = c("XA_ZERO_ENTRY")
        self.RETRY = c("XA_RETRY_ENTRY")
        self.TRACK_FREE = c("XA_FLAGS_TRACK_FREE")
        self.ZERO_BUSY = c("XA_FLAGS_ZERO_BUSY")
        self.WRAPPED = c("XA_FLAGS_ALLOC_WRAPPED")
        self.PRESENT = c("XA_PRESENT")
        self.MAX_MARKS = c("XA_MAX_MARKS")
        self.FREE_MARK = c("XA_FREE_MARK")
        self.mark_shift = c("__GFP_BITS_SHIFT")

    def of(self, xa: int) -> XArray:
        arr = self.arrays.get(xa)
        if arr is None or (arr.entries and not rd(self.k, xa, "xarray.xa_head")):
            arr = self.arrays[xa] = XArray()       # xa_init() (inline) emptied it
        return arr

    def flag_mark(self, mark: int) -> int:
        return 1 << (self.mark_shift + mark)

    def sync(self, xa: int, arr: XArray) -> None:
        """xa_head and the head mark bits of xa_flags, as the kernel keeps them."""
        k = self.k
        if not arr.entries:
            head = 0
        elif list(arr.entries) == [0]:
            head = arr.entries[0]
        else:
            head = self.node | 2                   # xa_mk_node()
        wr(k, xa, "xarray.xa_head", head)
        flags = rd(k, xa, "xarray.xa_flags", 4)
        track = flags & self.TRACK_FREE
        for mark in range(self.MAX_MARKS):
            if track and mark == self.FREE_MARK:
                # free indices remain; an empty ALLOC1 array has no tree to mark yet
                on = bool(arr.entries) or not flags & self.ZERO_BUSY
            else:
                on = bool(arr.marks[mark])
            bit = self.flag_mark(mark)
            flags = flags | bit if on else flags & ~bit
        wr(k, xa, "xarray.xa_flags", flags, 4)

    def advanced(self, entry: int) -> bool:
        """xa_is_advanced(): an internal entry up to XA_RETRY_ENTRY."""
        return (entry & 3) == 2 and entry <= self.RETRY

    def track_free(self, xa: int) -> bool:
        return bool(rd(self.k, xa, "xarray.xa_flags", 4) & self.TRACK_FREE)


def _x(k) -> XArrays:
    return k.model(XArrays)


def _visible(X, entry: int) -> int:
    """xas_result()/xa_load(): a zero entry reads as NULL."""
    return 0 if entry == X.ZERO else entry


def _einval(k, func: str, where: str) -> int:
    warn_once(k, where, func)
    return xa_mk_internal(-errno.EINVAL)


def _lock(k, xa):
    _raw_spin_lock(k, xa + k.target.offset("xarray.xa_lock"))


def _unlock(k, xa):
    _raw_spin_unlock(k, xa + k.target.offset("xarray.xa_lock"))


# ------------------------------------------------------------------ xa_*
@export("void *xa_load(struct xarray *xa, unsigned long index)")
def xa_load(k, xa, index):
    X = _x(k)
    return _visible(X, X.of(xa).entries.get(index, 0))


def store(k, xa: int, index: int, entry: int) -> int:
    """__xa_store(): returns the old entry (NULL for a reserved one) or XA_ERROR."""
    X = _x(k)
    if X.advanced(entry):
        return _einval(k, "__xa_store+0x10b/0x120", "lib/xarray.c:1582")
    if X.track_free(xa) and not entry:
        entry = X.ZERO
    arr = X.of(xa)
    old = arr.put(index, entry)
    X.sync(xa, arr)
    return _visible(X, old)


@export("void *__xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)")
def __xa_store(k, xa, index, entry, gfp):
    return store(k, xa, index, entry)


@export("void *xa_store(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)")
def xa_store(k, xa, index, entry, gfp):
    _lock(k, xa)
    curr = store(k, xa, index, entry)
    _unlock(k, xa)
    return curr


# Past this many indices a range store is refused as not modelled (entries are per index here).
XA_RANGE_MODELLED = 1 << 16


@export("void *xa_store_range(struct xarray *xa, unsigned long first, unsigned long last, "
        "void *entry, gfp_t gfp)")
def xa_store_range(k, xa, first, last, entry, gfp):
    """Every index of [first, last] reads as ``entry`` (NULL erases them)."""
    X = _x(k)
    if (entry & 3) == 2:                              # xa_is_internal()
        return _einval(k, "xa_store_range", "lib/xarray.c:1726")   # offset in it unknown
    if last < first:
        return xa_mk_internal(-errno.EINVAL)
    if last - first >= XA_RANGE_MODELLED:
        from kemu.abi.exports import not_modelled
        not_modelled(k, "xa_store_range", f"kemu keeps xarray entries per index (range of "
                                    f"{last - first + 1})")
        return xa_mk_internal(-errno.ENOMEM)
    _lock(k, xa)
    arr = X.of(xa)
    for index in range(first, last + 1):
        arr.put(index, entry)
    X.sync(xa, arr)
    _unlock(k, xa)
    return 0


def erase(k, xa: int, index: int) -> int:
    X = _x(k)
    arr = X.of(xa)
    old = arr.put(index, 0)
    X.sync(xa, arr)
    return _visible(X, old)


@export("void *__xa_erase(struct xarray *xa, unsigned long index)")
def __xa_erase(k, xa, index):
    return erase(k, xa, index)


@export("void *xa_erase(struct xarray *xa, unsigned long index)")
def xa_erase(k, xa, index):
    _lock(k, xa)
    old = erase(k, xa, index)
    _unlock(k, xa)
    return old


@export("int __xa_insert(struct xarray *xa, unsigned long index, void *entry, gfp_t gfp)")
def __xa_insert(k, xa, index, entry, gfp):
    """Store only at an unused index: -EBUSY when something (even a reservation) is there."""
    X = _x(k)
    if X.advanced(entry):
        warn_once(k, "lib/xarray.c:1676", "__xa_insert+0xd9/0xf0")
        return -errno.EINVAL
    entry = entry or X.ZERO
    arr = X.of(xa)
    if index in arr.entries:
        return -errno.EBUSY
    arr.put(index, entry)
    X.sync(xa, arr)
    return 0


@export("void *__xa_cmpxchg(struct xarray *xa, unsigned long index, void *old, void *entry, "
        "gfp_t gfp)")
def __xa_cmpxchg(k, xa, index, old, entry, gfp):
    X = _x(k)
    if X.advanced(entry):
        return _einval(k, "__xa_cmpxchg+0x11d/0x130", "lib/xarray.c:1632")
    arr = X.of(xa)
    curr = arr.entries.get(index, 0)
    if curr == old:
        arr.put(index, entry)
        X.sync(xa, arr)
    return _visible(X, curr)


def _find(k, xa, start, end, mark, X):
    arr = X.of(xa)
    if mark >= X.MAX_MARKS:
        return arr.first(start, end, None, X.ZERO)
    if X.track_free(xa) and mark == X.FREE_MARK:
        return None                               # free slots hold no entry to return
    return arr.first(start, end, mark, X.ZERO)


@export("void *xa_find(struct xarray *xa, unsigned long *indexp, unsigned long max, "
        "unsigned int filter)")
def xa_find(k, xa, indexp, max_, filt):
    X = _x(k)
    hit = _find(k, xa, k.machine.read_u64(indexp), max_, filt, X)
    if not hit:
        return 0
    k.machine.write_u64(indexp, hit[0])
    return hit[1]


@export("void *xa_find_after(struct xarray *xa, unsigned long *indexp, unsigned long max, "
        "unsigned int filter)")
def xa_find_after(k, xa, indexp, max_, filt):
    start = (k.machine.read_u64(indexp) + 1) & MASK64
    if start == 0:
        return 0
    X = _x(k)
    hit = _find(k, xa, start, max_, filt, X)
    if not hit:
        return 0
    k.machine.write_u64(indexp, hit[0])
    return hit[1]


@export("void xa_destroy(struct xarray *xa)")
def xa_destroy(k, xa):
    """Drop every entry (the entries themselves are the caller's to free)."""
    X = _x(k)
    _lock(k, xa)
    X.arrays[xa] = XArray()
    X.sync(xa, X.arrays[xa])
    _unlock(k, xa)


def _alloc(k, xa, idp, entry, lim_max, lim_min, X) -> int:
    if X.advanced(entry):
        warn_once(k, "lib/xarray.c:1822", "__xa_alloc+0x12f/0x140")
        return -errno.EINVAL
    if not X.track_free(xa):
        warn_once(k, "lib/xarray.c:1824", "__xa_alloc+0x125/0x140")
        return -errno.EINVAL
    entry = entry or X.ZERO
    arr = X.of(xa)
    index = lim_min
    if rd(k, xa, "xarray.xa_flags", 4) & X.ZERO_BUSY and index == 0:
        index = 1
    while index <= lim_max and index in arr.entries:
        index += 1
    if index > lim_max:
        return -errno.EBUSY
    k.machine.write_u32(idp, index)
    arr.put(index, entry)
    X.sync(xa, arr)
    return 0


def _limit(k, limit):
    """struct xa_limit passed by value in one register: max, then min."""
    lo_member = k.target.offset("xa_limit.max") * 8
    hi_member = k.target.offset("xa_limit.min") * 8
    return (limit >> lo_member) & 0xFFFFFFFF, (limit >> hi_member) & 0xFFFFFFFF


@export("int __xa_alloc(struct xarray *xa, u32 *id, void *entry, u64 limit, gfp_t gfp)")
def __xa_alloc(k, xa, idp, entry, limit, gfp):
    """The lowest free index in the limit (struct xa_limit, here as its 8 bytes)."""
    lim_max, lim_min = _limit(k, limit)
    return _alloc(k, xa, idp, entry, lim_max, lim_min, _x(k))


@export("int __xa_alloc_cyclic(struct xarray *xa, u32 *id, void *entry, u64 limit, "
        "u32 *next, gfp_t gfp)")
def __xa_alloc_cyclic(k, xa, idp, entry, limit, nextp, gfp):
    """From *next up, then wrapping to the minimum (returns 1 when it wrapped)."""
    X, m = _x(k), k.machine
    lim_max, lim_min = _limit(k, limit)
    lo = max(lim_min, m.read_u32(nextp))
    ret = _alloc(k, xa, idp, entry, lim_max, lo, X)
    flags = rd(k, xa, "xarray.xa_flags", 4)
    if flags & X.WRAPPED and ret == 0:
        wr(k, xa, "xarray.xa_flags", flags & ~X.WRAPPED, 4)
        ret = 1
    if ret < 0 and lo > lim_min:
        ret = _alloc(k, xa, idp, entry, lim_max, lim_min, X)
        if ret == 0:
            ret = 1
    if ret >= 0:
        nxt = (m.read_u32(idp) + 1) & 0xFFFFFFFF
        m.write_u32(nextp, nxt)
        if nxt == 0:
            wr(k, xa, "xarray.xa_flags", rd(k, xa, "xarray.xa_flags", 4) | X.WRAPPED, 4)
    return ret


def _set_mark(k, xa, index, mark, on: bool) -> None:
    X = _x(k)
    arr = X.of(xa)
    if mark >= X.MAX_MARKS or index not in arr.entries:
        return
    (arr.marks[mark].add if on else arr.marks[mark].discard)(index)
    X.sync(xa, arr)


@export("void __xa_set_mark(struct xarray *xa, unsigned long index, unsigned int mark)")
def __xa_set_mark(k, xa, index, mark):
    _set_mark(k, xa, index, mark, True)


@export("void __xa_clear_mark(struct xarray *xa, unsigned long index, unsigned int mark)")
def __xa_clear_mark(k, xa, index, mark):
    _set_mark(k, xa, index, mark, False)


@export("void xa_set_mark(struct xarray *xa, unsigned long index, unsigned int mark)")
def xa_set_mark(k, xa, index, mark):
    _lock(k, xa)
    _set_mark(k, xa, index, mark, True)
    _unlock(k, xa)


@export("void xa_clear_mark(struct xarray *xa, unsigned long index, unsigned int mark)")
def xa_clear_mark(k, xa, index, mark):
    _lock(k, xa)
    _set_mark(k, xa, index, mark, False)
    _unlock(k, xa)


@export("bool xa_get_mark(struct xarray *xa, unsigned long index, unsigned int mark)")
def xa_get_mark(k, xa, index, mark):
    X = _x(k)
    return mark < X.MAX_MARKS and index in X.of(xa).marks[mark]


# ------------------------------------------------------------------ xas_*
def _xs(k, xas, member):
    return rd(k, xas, f"xa_state.{member}")


def _set_node(k, xas, value):
    wr(k, xas, "xa_state.xa_node", value)


def _is_err(node: int) -> bool:
    return (node & 3) == 2 and node >= xa_mk_internal(-4095)


@export("void *xas_load(struct xa_state *xas)")
def xas_load(k, xas):
    """The entry at xa_index (reserved entries as XA_ZERO_ENTRY)."""
    X = _x(k)
    if _is_err(_xs(k, xas, "xa_node")):
        return 0
    _set_node(k, xas, XAS_POSITIONED)
    return X.of(_xs(k, xas, "xa")).entries.get(_xs(k, xas, "xa_index"), 0)


@export("void *xas_store(struct xa_state *xas, void *entry)")
def xas_store(k, xas, entry):
    X = _x(k)
    if _is_err(_xs(k, xas, "xa_node")):
        return 0
    xa = _xs(k, xas, "xa")
    arr = X.of(xa)
    old = arr.put(_xs(k, xas, "xa_index"), entry)
    X.sync(xa, arr)
    _set_node(k, xas, XAS_POSITIONED)
    return old


def _xas_find(k, xas, max_, mark):
    X = _x(k)
    node = _xs(k, xas, "xa_node")
    if _is_err(node) or node == XAS_BOUNDS:
        return 0
    index = _xs(k, xas, "xa_index")
    if index > max_:
        _set_node(k, xas, XAS_BOUNDS)
        return 0
    start = index if node == XAS_RESTART else index + 1
    arr = X.of(_xs(k, xas, "xa"))
    hit = arr.first(start, max_, mark) if start <= MASK64 else None
    if hit is None:
        _set_node(k, xas, XAS_BOUNDS)
        return 0
    wr(k, xas, "xa_state.xa_index", hit[0])
    _set_node(k, xas, XAS_POSITIONED)
    return hit[1]


@export("void *xas_find(struct xa_state *xas, unsigned long max)")
def xas_find(k, xas, max_):
    """The next present entry (this index first after a restart), or NULL at the bounds."""
    return _xas_find(k, xas, max_, None)


@export("void *xas_find_marked(struct xa_state *xas, unsigned long max, unsigned int mark)")
def xas_find_marked(k, xas, max_, mark):
    return _xas_find(k, xas, max_, mark if mark < _x(k).MAX_MARKS else None)


@export("void *__xas_next(struct xa_state *xas)")
def __xas_next(k, xas):
    """xas_next() beyond a node: step to xa_index + 1 and load it."""
    node = _xs(k, xas, "xa_node")
    if _is_err(node):
        return 0
    if node not in (XAS_RESTART,):
        index = (_xs(k, xas, "xa_index") + 1) & MASK64
        wr(k, xas, "xa_state.xa_index", index)
    return xas_load(k, xas)


@export("void xas_pause(struct xa_state *xas)")
def xas_pause(k, xas):
    """Let the caller drop the lock: the next xas_find() resumes after xa_index."""
    node = _xs(k, xas, "xa_node")
    if node != XAS_POSITIONED:
        return                                   # xas_invalid(): nothing to do
    index = (_xs(k, xas, "xa_index") + 1) & MASK64
    wr(k, xas, "xa_state.xa_index", index)
    _set_node(k, xas, XAS_BOUNDS if index == 0 else XAS_RESTART)


@export("bool xas_nomem(struct xa_state *xas, gfp_t gfp)")
def xas_nomem(k, xas, gfp):
    """No retry needed: the model's stores never run out of nodes."""
    return False
