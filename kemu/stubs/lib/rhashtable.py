"""lib/rhashtable.c (and include/linux/rhashtable.h, jhash.h): resizable hash tables.

The tables live in kernel memory with the kernel's layout, because modules
do lookups, fast inserts and removals inline: ``struct rhashtable`` (tbl,
key_len, max_elems, p, rhlist, run_work, mutex, lock, nelems), ``struct
bucket_table`` (size, nest, hash_rnd, walkers, future_tbl, buckets[]), each
bucket a ``struct rhash_lock_head *`` with bit 0 the bucket lock and NULL for
an empty chain, chains ending in the nulls marker of their bucket
(``RHT_NULLS_MARKER(bkt)`` = bkt | 1).

Ported from 6.1: ``rhashtable_init``/``rhltable_init`` (default hash jhash,
or jhash2 for keys a multiple of 4 bytes, both kernel functions the modules
may call through ``ht->p.hashfn``; a first table of 64 buckets or
nelem_hint * 4 / 3, at least min_size), ``rhashtable_insert_slow`` (lookup
under the bucket lock with RHT_ELASTICITY, rhlist chaining, growth
decisions -E2BIG/-EAGAIN and rehash attachment), the deferred worker
``rht_deferred_worker`` (a real work item on system_wq: expand above 75 %,
shrink below 30 % with automatic_shrinking, rehash chain by chain), the
walker API and the nested-table helpers. Hash and compare callbacks the
module supplies (hashfn, obj_hashfn, obj_cmpfn) are called as module code.
kemu's allocator does not fail, so tables are never nested (``nest`` 0); the
nested helpers are ported for the modules' inline ``rht_bucket()`` anyway.
"""
from __future__ import annotations

import errno
import types

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, static, static_addr

members("struct work_struct", "data", "entry", "func")
members("struct rhashtable", "tbl", "key_len", "max_elems", "p", "rhlist", "run_work", "mutex",
        "lock", "nelems")
members("struct rhashtable_params", "nelem_hint", "key_len", "key_offset", "head_offset",
        "max_size", "min_size", "automatic_shrinking", "hashfn", "obj_hashfn", "obj_cmpfn")
# buckets[] is the flexible array at the end: at sizeof(struct bucket_table)
members("struct bucket_table", "size", "nest", "hash_rnd", "walkers", "rcu", "future_tbl")
members("struct rhashtable_iter", "ht", "p", "list", "walker", "slot", "skip", "end_of_table")
members("struct rhashtable_walker", "list", "tbl")
members("struct rhash_head", "next")
members("struct rhlist_head", "next", "rhead")
members("struct rhashtable_compare_arg", "ht", "key")

HASH_DEFAULT_SIZE, HASH_MIN_SIZE = 64, 4
RHT_ELASTICITY = 16
PAGE_SHIFT = 12
NESTED_SHIFT = PAGE_SHIFT - 3          # PAGE_SHIFT - ilog2(sizeof(void *))
JHASH_INITVAL = 0xDEADBEEF
M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1


# ------------------------------------------------------------ jhash (include/linux/jhash.h)
def _rol32(x, s):
    return ((x << s) | (x >> (32 - s))) & M32


def _mix(a, b, c):
    a = (a - c) & M32; a ^= _rol32(c, 4); c = (c + b) & M32      # noqa: E702
    b = (b - a) & M32; b ^= _rol32(a, 6); a = (a + c) & M32      # noqa: E702
    c = (c - b) & M32; c ^= _rol32(b, 8); b = (b + a) & M32      # noqa: E702
    a = (a - c) & M32; a ^= _rol32(c, 16); c = (c + b) & M32     # noqa: E702
    b = (b - a) & M32; b ^= _rol32(a, 19); a = (a + c) & M32     # noqa: E702
    c = (c - b) & M32; c ^= _rol32(b, 4); b = (b + a) & M32      # noqa: E702
    return a, b, c


def _final(a, b, c):
    c ^= b; c = (c - _rol32(b, 14)) & M32      # noqa: E702
    a ^= c; a = (a - _rol32(c, 11)) & M32      # noqa: E702
    b ^= a; b = (b - _rol32(a, 25)) & M32      # noqa: E702
    c ^= b; c = (c - _rol32(b, 16)) & M32      # noqa: E702
    a ^= c; a = (a - _rol32(c, 4)) & M32       # noqa: E702
    b ^= a; b = (b - _rol32(a, 14)) & M32      # noqa: E702
    c ^= b; c = (c - _rol32(b, 24)) & M32      # noqa: E702
    return a, b, c


def jhash_bytes(key: bytes, initval: int) -> int:
    """jhash() of ``key``."""
    length = len(key)
    a = b = c = (JHASH_INITVAL + length + initval) & M32
    p = 0
    while length > 12:
        a = (a + int.from_bytes(key[p:p + 4], "little")) & M32
        b = (b + int.from_bytes(key[p + 4:p + 8], "little")) & M32
        c = (c + int.from_bytes(key[p + 8:p + 12], "little")) & M32
        a, b, c = _mix(a, b, c)
        length -= 12
        p += 12
    if length:
        tail = key[p:] + bytes(12 - length)
        a = (a + int.from_bytes(tail[0:4], "little")) & M32
        b = (b + int.from_bytes(tail[4:8], "little")) & M32
        c = (c + int.from_bytes(tail[8:12], "little")) & M32
        a, b, c = _final(a, b, c)
    return c


def jhash2_words(words: list[int], initval: int) -> int:
    """jhash2() of u32 ``words``."""
    length = len(words)
    a = b = c = (JHASH_INITVAL + (length << 2) + initval) & M32
    p = 0
    while length > 3:
        a = (a + words[p]) & M32
        b = (b + words[p + 1]) & M32
        c = (c + words[p + 2]) & M32
        a, b, c = _mix(a, b, c)
        length -= 3
        p += 3
    if length:
        rest = words[p:] + [0] * (3 - length)
        a, b, c = _final((a + rest[0]) & M32, (b + rest[1]) & M32, (c + rest[2]) & M32)
    return c


@static("u32 jhash(const void *key, u32 length, u32 initval)")
def jhash(k, key, length, initval):
    return jhash_bytes(bytes(k.machine.read(key, length)) if length else b"", initval)


@static("u32 rhashtable_jhash2(const void *key, u32 length, u32 seed)")
def rhashtable_jhash2(k, key, length, seed):
    data = bytes(k.machine.read(key, 4 * length)) if length else b""
    return jhash2_words([int.from_bytes(data[i:i + 4], "little")
                         for i in range(0, len(data), 4)], seed)


# ------------------------------------------------------------ layout helpers
class _L:
    """Offsets of the rhashtable structures in kernel ``k``."""

    def __init__(self, k):
        o, s = k.target.offset, k.target.sizeof
        self.k, self.m = k, k.machine
        self.tbl, self.key_len = o("rhashtable.tbl"), o("rhashtable.key_len")
        self.max_elems, self.rhlist = o("rhashtable.max_elems"), o("rhashtable.rhlist")
        self.run_work, self.mutex = o("rhashtable.run_work"), o("rhashtable.mutex")
        self.lock, self.nelems = o("rhashtable.lock"), o("rhashtable.nelems")
        p = o("rhashtable.p")
        self.p = p
        self.p_nelem_hint = p + o("rhashtable_params.nelem_hint")
        self.p_key_len = p + o("rhashtable_params.key_len")
        self.p_key_offset = p + o("rhashtable_params.key_offset")
        self.p_head_offset = p + o("rhashtable_params.head_offset")
        self.p_max_size = p + o("rhashtable_params.max_size")
        self.p_min_size = p + o("rhashtable_params.min_size")
        self.p_shrink = p + o("rhashtable_params.automatic_shrinking")
        self.p_hashfn = p + o("rhashtable_params.hashfn")
        self.p_obj_hashfn = p + o("rhashtable_params.obj_hashfn")
        self.p_obj_cmpfn = p + o("rhashtable_params.obj_cmpfn")
        self.params_size = s("rhashtable_params")
        self.ht_size = s("rhashtable")
        self.t_size, self.t_nest = o("bucket_table.size"), o("bucket_table.nest")
        self.t_rnd, self.t_walkers = o("bucket_table.hash_rnd"), o("bucket_table.walkers")
        self.t_future = o("bucket_table.future_tbl")
        self.t_buckets = s("bucket_table")       # the flexible buckets[] (cacheline aligned)
        self.t_rcu = o("bucket_table.rcu")
        self.i_ht, self.i_p, self.i_list = (o("rhashtable_iter.ht"), o("rhashtable_iter.p"),
                                            o("rhashtable_iter.list"))
        self.i_walker, self.i_slot = o("rhashtable_iter.walker"), o("rhashtable_iter.slot")
        self.i_skip, self.i_end = o("rhashtable_iter.skip"), o("rhashtable_iter.end_of_table")
        self.w_list, self.w_tbl = o("rhashtable_walker.list"), o("rhashtable_walker.tbl")
        self.next = o("rhash_head.next")
        self.l_next = o("rhlist_head.next")
        self.ln, self.lp = o("list_head.next"), o("list_head.prev")
        self.w_func, self.w_data, self.w_entry = (o("work_struct.func"), o("work_struct.data"),
                                                  o("work_struct.entry"))

    # struct fields
    def u64(self, a):
        return self.m.read_u64(a)

    def u32(self, a):
        return self.m.read_u32(a)

    def u16(self, a):
        return self.m.read_u16(a)

    def tsize(self, tbl):
        return self.u32(tbl + self.t_size)

    def count(self, ht):
        return self.m.read_s32(ht + self.nelems)

    def is_rhlist(self, ht):
        return bool(self.m.read_u8(ht + self.rhlist))

    def obj(self, ht, he):
        """rht_obj(): the object holding rhash_head ``he``."""
        return he - self.u16(ht + self.p_head_offset)

    # list_head
    def list_init(self, head):
        self.m.write_u64(head + self.ln, head)
        self.m.write_u64(head + self.lp, head)

    def list_add(self, new, head):
        nxt = self.u64(head + self.ln)
        self.m.write_u64(nxt + self.lp, new)
        self.m.write_u64(new + self.ln, nxt)
        self.m.write_u64(new + self.lp, head)
        self.m.write_u64(head + self.ln, new)

    def list_del(self, entry):
        nxt, prv = self.u64(entry + self.ln), self.u64(entry + self.lp)
        self.m.write_u64(nxt + self.lp, prv)
        self.m.write_u64(prv + self.ln, nxt)
        self.m.write_u64(entry + self.ln, 0xDEAD000000000100)       # LIST_POISON1
        self.m.write_u64(entry + self.lp, 0xDEAD000000000122)       # LIST_POISON2

    def list_entries(self, head):
        p = self.u64(head + self.ln)
        while p != head:
            yield p
            p = self.u64(p + self.ln)


def _l(k) -> _L:
    return k.model(_L)


def _drive(res):
    """Run ``res`` inline if it is a generator (a Python export of another model)."""
    if isinstance(res, types.GeneratorType):
        return (yield from res)
    return res


def is_nulls(p: int) -> bool:
    return bool(p & 1)


def nulls_marker(bkt: int) -> int:
    """RHT_NULLS_MARKER(bkt): NULLS_MARKER(bkt >> 1)."""
    return (1 | ((bkt >> 1) << 1)) & M64


def _rht_ptr(L: _L, bkt: int) -> int:
    """rht_ptr(): the first entry of the chain at ``bkt`` (or its nulls marker)."""
    p = L.u64(bkt) & ~1
    return p or nulls_marker(bkt)


# ------------------------------------------------------------ nested tables
def _nested_top(L: _L, tbl) -> int:
    return L.u64(tbl + L.t_buckets)            # nested_table_top(): buckets[0]


def _bucket_nested(k, tbl, hash_) -> int:
    """__rht_bucket_nested(): &ntbl[subhash].bucket, or 0."""
    L = _l(k)
    nest = L.u32(tbl + L.t_nest) & 31         # an int shift: x86 takes the count mod 32
    index = hash_ & ((1 << nest) - 1)
    size = L.tsize(tbl) >> nest
    subhash = hash_
    ntbl = _nested_top(L, tbl)
    ntbl = L.u64(ntbl + 8 * index)
    subhash >>= nest
    while ntbl and size > (1 << NESTED_SHIFT):
        index = subhash & ((1 << NESTED_SHIFT) - 1)
        ntbl = L.u64(ntbl + 8 * index)
        size >>= NESTED_SHIFT
        subhash >>= NESTED_SHIFT
    if not ntbl:
        return 0
    return ntbl + 8 * subhash


def rht_bucket(k, tbl, hash_) -> int:
    """rht_bucket(): the bucket slot (a static NULL slot for a missing nested part)."""
    L = _l(k)
    if L.u32(tbl + L.t_nest):
        return _bucket_nested(k, tbl, hash_) or _rhnull(k)
    return tbl + L.t_buckets + 8 * hash_


class _RhNull:
    def __init__(self, k):
        self.addr = k.machine.alloc_kdata(8, 8)          # static rhnull, NULL


def _rhnull(k) -> int:
    return k.model(_RhNull).addr


def _nested_alloc(k, prev) -> int:
    """nested_table_alloc(): the table at *prev, allocated (zeroed: NULL buckets) if absent."""
    ntbl = k.machine.read_u64(prev)
    if ntbl:
        return ntbl
    ntbl = kzalloc(k, 1 << PAGE_SHIFT, "rhashtable nested table")
    if ntbl:
        k.machine.write_u64(prev, ntbl)
    return ntbl


@export("struct rhash_lock_head **__rht_bucket_nested(const struct bucket_table *tbl, "
        "unsigned int hash)")
def __rht_bucket_nested(k, tbl, hash):
    return _bucket_nested(k, tbl, hash)


@export("struct rhash_lock_head **rht_bucket_nested(const struct bucket_table *tbl, "
        "unsigned int hash)")
def rht_bucket_nested(k, tbl, hash):
    return _bucket_nested(k, tbl, hash) or _rhnull(k)


@export("struct rhash_lock_head **rht_bucket_nested_insert(struct rhashtable *ht, "
        "struct bucket_table *tbl, unsigned int hash)")
def rht_bucket_nested_insert(k, ht, tbl, hash):
    L = _l(k)
    nest = L.u32(tbl + L.t_nest) & 31         # an int shift: x86 takes the count mod 32
    index = hash & ((1 << nest) - 1)
    size = L.tsize(tbl) >> nest
    ntbl = _nested_top(L, tbl)
    hash >>= nest
    ntbl = _nested_alloc(k, ntbl + 8 * index)
    while ntbl and size > (1 << NESTED_SHIFT):
        index = hash & ((1 << NESTED_SHIFT) - 1)
        size >>= NESTED_SHIFT
        hash >>= NESTED_SHIFT
        ntbl = _nested_alloc(k, ntbl + 8 * index)
    if not ntbl:
        return 0
    return ntbl + 8 * hash


def _nested_table_free(k, slot, size):
    L = _l(k)
    ntbl = L.u64(slot)
    if not ntbl:
        return
    length = 1 << NESTED_SHIFT
    if size > length:
        size >>= NESTED_SHIFT
        for i in range(length):
            _nested_table_free(k, ntbl + 8 * i, size)
    kfree(k, ntbl)


def _bucket_table_free(k, tbl):
    L = _l(k)
    nest = L.u32(tbl + L.t_nest) & 31         # an int shift: x86 takes the count mod 32
    if nest:
        size = L.tsize(tbl) >> nest
        top = _nested_top(L, tbl)
        for i in range(1 << nest):
            _nested_table_free(k, top + 8 * i, size)
        kfree(k, top)
    kfree(k, tbl)                                          # kvfree()


# ------------------------------------------------------------ tables
class _Freed:
    """Bucket tables the rehash has retired (call_rcu'd in the kernel)."""

    def __init__(self, k):
        self.tables: set[int] = set()


def _bucket_table_alloc(k, ht, nbuckets) -> int:
    """bucket_table_alloc(): size, walkers, a random hash_rnd, NULL buckets."""
    from .random import get_random_u32
    L = _l(k)
    tbl = kzalloc(k, L.t_buckets + 8 * nbuckets, "bucket_table")
    if not tbl:
        return 0
    k.model(_Freed).tables.discard(tbl)
    k.machine.write_u32(tbl + L.t_size, nbuckets)
    L.list_init(tbl + L.t_walkers)
    k.machine.write_u32(tbl + L.t_rnd, get_random_u32(k))
    return tbl


def _last_table(L: _L, tbl) -> int:
    """rhashtable_last_table()."""
    while True:
        new = L.u64(tbl + L.t_future)
        if not new:
            return tbl
        tbl = new


def _grow_above_75(L, ht, tbl):
    size, max_size = L.tsize(tbl), L.u32(ht + L.p_max_size)
    return L.count(ht) > size // 4 * 3 and (not max_size or size < max_size)


def _shrink_below_30(L, ht, tbl):
    size = L.tsize(tbl)
    return L.count(ht) < size * 3 // 10 and size > L.u16(ht + L.p_min_size)


def _grow_above_100(L, ht, tbl):
    size, max_size = L.tsize(tbl), L.u32(ht + L.p_max_size)
    return L.count(ht) > size and (not max_size or size < max_size)


def _grow_above_max(L, ht, tbl):
    return L.count(ht) >= L.u32(ht + L.max_elems)


def _schedule_work(k, ht):
    """schedule_work(&ht->run_work)."""
    from ..kernel.workqueue import SystemWorkqueues, queue_work_on
    queue_work_on(k, k.target.const("WORK_CPU_UNBOUND"),
                  k.model(SystemWorkqueues).by_name["events"], ht + _l(k).run_work)


def _head_hashfn(k, ht, tbl, he):
    """rht_head_hashfn(ht, tbl, he, ht->p) (a generator: the hash functions are code)."""
    L = _l(k)
    ptr = L.obj(ht, he)
    obj_hashfn = L.u64(ht + L.p_obj_hashfn)
    rnd = L.u32(tbl + L.t_rnd)
    if obj_hashfn:
        h = yield k.call_request(obj_hashfn, ptr, L.u16(ht + L.p_key_len), rnd)
    else:
        key = ptr + L.u16(ht + L.p_key_offset)
        h = yield k.call_request(L.u64(ht + L.p_hashfn), key, L.u32(ht + L.key_len), rnd)
    return (h & M32) & (L.tsize(tbl) - 1)


def _lock(k, bkt):
    """rht_lock(): bit_spin_lock(0, bkt); a bucket already locked can never be taken."""
    m = k.machine
    v = m.read_u64(bkt)
    if v & 1:
        k.finding("deadlock", f"rhashtable bucket {bkt:#x} is locked: bit_spin_lock() would "
                              "spin forever", k.current_module())
    m.write_u64(bkt, v | 1)


def _unlock(k, bkt):
    m = k.machine
    m.write_u64(bkt, m.read_u64(bkt) & ~1)


def _assign_locked(k, bkt, obj):
    """rht_assign_locked(): the new first entry, keeping the lock bit."""
    if is_nulls(obj):
        obj = 0
    k.machine.write_u64(bkt, obj | 1)


# ------------------------------------------------------------ init / destroy
def _roundup_pow2(n):
    return 1 << (n - 1).bit_length() if n > 1 else 1


def _rounddown_pow2(n):
    return 1 << (n.bit_length() - 1) if n else 0


@static("void rht_deferred_worker(struct work_struct *work)")
def rht_deferred_worker(k, work):
    from ..kernel.locking.mutex import mutex_lock_common, mutex_unlock_
    from ..kernel.sched.core import sched
    L = _l(k)
    ht = work - L.run_work
    yield from mutex_lock_common(k, ht + L.mutex, sched(k).TASK_UNINTERRUPTIBLE,
                                 "rht_deferred_worker", 0)
    tbl = _last_table(L, L.u64(ht + L.tbl))
    err = 0
    if _grow_above_75(L, ht, tbl):
        err = _rehash_alloc(k, ht, tbl, L.tsize(tbl) * 2)
    elif L.m.read_u8(ht + L.p_shrink) and _shrink_below_30(L, ht, tbl):
        err = _shrink(k, ht)
    elif L.u32(tbl + L.t_nest):
        err = _rehash_alloc(k, ht, tbl, L.tsize(tbl))
    if not err or err == -errno.EEXIST:
        nerr = yield from _rehash_table(k, ht)
        err = err or nerr
    mutex_unlock_(k, ht + L.mutex)
    if err:
        _schedule_work(k, ht)


def _rehash_alloc(k, ht, old_tbl, size) -> int:
    L = _l(k)
    new_tbl = _bucket_table_alloc(k, ht, size)
    if not new_tbl:
        return -errno.ENOMEM
    if L.u64(old_tbl + L.t_future):                    # rhashtable_rehash_attach(): cmpxchg
        _bucket_table_free(k, new_tbl)
        return -errno.EEXIST
    k.machine.write_u64(old_tbl + L.t_future, new_tbl)
    return 0


def _shrink(k, ht) -> int:
    L = _l(k)
    old_tbl = L.u64(ht + L.tbl)
    nelems = L.count(ht)
    size = _roundup_pow2(nelems * 3 // 2) if nelems else 0
    size = max(size, L.u16(ht + L.p_min_size))
    if L.tsize(old_tbl) <= size:
        return 0
    if L.u64(old_tbl + L.t_future):
        return -errno.EEXIST
    return _rehash_alloc(k, ht, old_tbl, size)


def _rehash_one(k, ht, bkt, old_hash):
    """rhashtable_rehash_one(): move the last entry of the chain (a generator)."""
    L = _l(k)
    old_tbl = L.u64(ht + L.tbl)
    new_tbl = _last_table(L, old_tbl)
    if L.u32(new_tbl + L.t_nest):
        return -errno.EAGAIN
    err = -errno.ENOENT
    pprev = 0
    entry = _rht_ptr(L, bkt)
    nxt = 0
    while not is_nulls(entry):
        err = 0
        nxt = L.u64(entry + L.next)
        if is_nulls(nxt):
            break
        pprev = entry + L.next
        entry = nxt
    if err:
        return err
    new_hash = yield from _head_hashfn(k, ht, new_tbl, entry)
    nbkt = new_tbl + L.t_buckets + 8 * new_hash
    head = _rht_ptr(L, nbkt)
    k.machine.write_u64(entry + L.next, head)
    k.machine.write_u64(nbkt, (k.machine.read_u64(nbkt) & 1) | entry)   # rht_assign_unlock
    if pprev:
        k.machine.write_u64(pprev, nxt)
    else:
        _assign_locked(k, bkt, nxt)
    return 0


def _rehash_table(k, ht):
    """rhashtable_rehash_table() (a generator)."""
    L = _l(k)
    old_tbl = L.u64(ht + L.tbl)
    new_tbl = L.u64(old_tbl + L.t_future)
    if not new_tbl:
        return 0
    for old_hash in range(L.tsize(old_tbl)):
        bkt = rht_bucket(k, old_tbl, old_hash)
        _lock(k, bkt)
        while True:
            err = yield from _rehash_one(k, ht, bkt, old_hash)
            if err:
                break
        _unlock(k, bkt)
        if err != -errno.ENOENT:
            return err
    k.machine.write_u64(ht + L.tbl, new_tbl)
    for walker in list(L.list_entries(old_tbl + L.t_walkers)):
        k.machine.write_u64(walker - L.w_list + L.w_tbl, 0)
    k.model(_Freed).tables.add(old_tbl)                # rcu_head_after_call_rcu() sees it
    _bucket_table_free(k, old_tbl)                     # call_rcu(bucket_table_free_rcu)
    return -errno.EAGAIN if L.u64(new_tbl + L.t_future) else 0


def init_table(k, ht, params) -> int:
    """rhashtable_init()."""
    from ..kernel.locking.mutex import __mutex_init
    L = _l(k)
    m = k.machine
    p_key_len = m.read_u16(params + (L.p_key_len - L.p))
    p_obj_hashfn = m.read_u64(params + (L.p_obj_hashfn - L.p))
    p_obj_cmpfn = m.read_u64(params + (L.p_obj_cmpfn - L.p))
    if (not p_key_len and not p_obj_hashfn) or (p_obj_hashfn and not p_obj_cmpfn):
        return -errno.EINVAL
    m.write(ht, bytes(L.ht_size))
    __mutex_init(k, ht + L.mutex, 0, 0)
    m.write(ht + L.p, bytes(m.read(params, L.params_size)))
    min_size = m.read_u16(params + (L.p_min_size - L.p))
    if min_size:
        m.write_u16(ht + L.p_min_size, _roundup_pow2(min_size))
    max_elems = 1 << 31
    max_size = m.read_u32(params + (L.p_max_size - L.p))
    if max_size:
        max_size = _rounddown_pow2(max_size)
        m.write_u32(ht + L.p_max_size, max_size)
        if max_size < max_elems // 2:
            max_elems = max_size * 2
    m.write_u32(ht + L.max_elems, max_elems)
    min_size = max(L.u16(ht + L.p_min_size), HASH_MIN_SIZE)
    m.write_u16(ht + L.p_min_size, min_size)
    hint = L.u16(ht + L.p_nelem_hint)
    size = max(_roundup_pow2(hint * 4 // 3), min_size) if hint else \
        max(HASH_DEFAULT_SIZE, min_size)                      # rounded_hashtable_size()
    key_len = L.u16(ht + L.p_key_len)
    if not m.read_u64(params + (L.p_hashfn - L.p)):
        fn = "jhash"
        if not key_len & 3:
            key_len //= 4
            fn = "rhashtable_jhash2"
        m.write_u64(ht + L.p_hashfn, static_addr(k, fn))
    m.write_u32(ht + L.key_len, key_len)
    tbl = _bucket_table_alloc(k, ht, size)
    m.write_u32(ht + L.nelems, 0)
    m.write_u64(ht + L.tbl, tbl)
    work = ht + L.run_work                                    # INIT_WORK(rht_deferred_worker)
    m.write_u64(work + L.w_data, WORK_STRUCT_NO_POOL)
    L.list_init(work + L.w_entry)
    m.write_u64(work + L.w_func, static_addr(k, "rht_deferred_worker"))
    return 0


# WORK_OFFQ_POOL_NONE << WORK_OFFQ_POOL_SHIFT (5 on x86_64 without CONFIG_DEBUG_OBJECTS_WORK)
WORK_STRUCT_NO_POOL = (((1 << (64 - 5)) - 1) << 5) & M64


@export("int rhashtable_init(struct rhashtable *ht, const struct rhashtable_params *params)")
def rhashtable_init(k, ht, params):
    return init_table(k, ht, params)


@export("int rhltable_init(struct rhltable *hlt, const struct rhashtable_params *params)")
def rhltable_init(k, hlt, params):
    err = init_table(k, hlt, params)
    k.machine.write_u8(hlt + _l(k).rhlist, 1)
    return err


@export("void rhashtable_free_and_destroy(struct rhashtable *ht, "
        "void (*free_fn)(void *ptr, void *arg), void *arg)")
def rhashtable_free_and_destroy(k, ht, free_fn, arg):
    yield from destroy(k, ht, free_fn, arg)


@export("void rhashtable_destroy(struct rhashtable *ht)")
def rhashtable_destroy(k, ht):
    yield from destroy(k, ht, 0, 0)


def destroy(k, ht, free_fn, arg):
    """rhashtable_free_and_destroy() (a generator)."""
    from ..kernel.locking.mutex import mutex_lock_common, mutex_unlock_
    from ..kernel.sched.core import caller, sched
    from ..kernel.workqueue import cancel_work_sync
    L = _l(k)
    yield from _drive(cancel_work_sync(k, ht + L.run_work))
    yield from mutex_lock_common(k, ht + L.mutex, sched(k).TASK_UNINTERRUPTIBLE,
                                 "rhashtable_free_and_destroy", caller(k))
    tbl = L.u64(ht + L.tbl)
    while tbl:
        if free_fn:
            for i in range(L.tsize(tbl)):
                pos = _rht_ptr(L, rht_bucket(k, tbl, i))
                while not is_nulls(pos):
                    nxt = L.u64(pos + L.next)
                    yield from _free_one(k, ht, pos, free_fn, arg)
                    pos = nxt
        next_tbl = L.u64(tbl + L.t_future)
        _bucket_table_free(k, tbl)
        tbl = next_tbl
    mutex_unlock_(k, ht + L.mutex)


def _free_one(k, ht, obj, free_fn, arg):
    L = _l(k)
    if not L.is_rhlist(ht):
        yield k.call_request(free_fn, L.obj(ht, obj), arg)
        return
    lst = obj                                    # container_of(obj, rhlist_head, rhead)
    while lst:
        obj = lst
        lst = L.u64(lst + L.l_next)
        yield k.call_request(free_fn, L.obj(ht, obj), arg)


# ------------------------------------------------------------ slow insert
def _lookup_one(k, ht, bkt, tbl, hash_, key, obj):
    """rhashtable_lookup_one() (a generator): the existing object, 0, or an errno."""
    L = _l(k)
    pprev = 0
    elasticity = RHT_ELASTICITY
    head = _rht_ptr(L, bkt)
    cmpfn = L.u64(ht + L.p_obj_cmpfn)
    while not is_nulls(head):
        elasticity -= 1
        differs = True
        if key:
            o = L.obj(ht, head)
            if cmpfn:
                arg = k.heap.alloc(k.target.sizeof("rhashtable_compare_arg"),
                                   kind="rhashtable_compare_arg", zero=True)
                k.machine.write_u64(arg + k.target.offset("rhashtable_compare_arg.ht"), ht)
                k.machine.write_u64(arg + k.target.offset("rhashtable_compare_arg.key"), key)
                differs = bool((yield k.call_request(cmpfn, arg, o)) & M32)
                k.heap.free(arg)
            else:                                          # rhashtable_compare(): memcmp
                n = L.u16(ht + L.p_key_len)
                differs = k.machine.read(o + L.u16(ht + L.p_key_offset), n) != \
                    k.machine.read(key, n)
        if differs:
            pprev = head + L.next
            head = L.u64(head + L.next)
            continue
        if not L.is_rhlist(ht):
            return L.obj(ht, head)
        # an rhlist: chain obj in front of the list of equal keys
        k.machine.write_u64(obj + L.l_next, head)
        k.machine.write_u64(obj + L.next, L.u64(head + L.next))
        if pprev:
            k.machine.write_u64(pprev, obj)
        else:
            _assign_locked(k, bkt, obj)
        return 0
    if elasticity <= 0:
        return -errno.EAGAIN
    return -errno.ENOENT


def _is_err(v) -> bool:
    return isinstance(v, int) and -4095 <= v < 0


def _insert_one(k, ht, bkt, tbl, hash_, obj, data):
    """rhashtable_insert_one(): (new_tbl, errno)."""
    L = _l(k)
    if data and not _is_err(data):
        return None, -errno.EEXIST
    if data not in (-errno.EAGAIN, -errno.ENOENT):
        return None, data                                  # ERR_CAST(data) (or NULL)
    new_tbl = L.u64(tbl + L.t_future)
    if new_tbl:
        return new_tbl, 0
    if data != -errno.ENOENT:
        return None, data
    if _grow_above_max(L, ht, tbl):
        return None, -errno.E2BIG
    if _grow_above_100(L, ht, tbl):
        return None, -errno.EAGAIN
    head = _rht_ptr(L, bkt)
    k.machine.write_u64(obj + L.next, head)
    if L.is_rhlist(ht):
        k.machine.write_u64(obj + L.l_next, 0)
    _assign_locked(k, bkt, obj)
    k.machine.write_u32(ht + L.nelems, (L.count(ht) + 1) & M32)
    if _grow_above_75(L, ht, tbl):
        _schedule_work(k, ht)
    return None, 0


def _insert_rehash(k, ht, tbl) -> int:
    """rhashtable_insert_rehash()."""
    L = _l(k)
    old_tbl = L.u64(ht + L.tbl)
    size = L.tsize(tbl)
    err = -errno.EBUSY
    if _grow_above_75(L, ht, tbl):
        size *= 2
    elif old_tbl != tbl:
        return 0 if L.u64(tbl + L.t_future) else err
    new_tbl = _bucket_table_alloc(k, ht, size)
    if not new_tbl:
        if L.u64(tbl + L.t_future):
            return 0
        _schedule_work(k, ht)
        return -errno.ENOMEM
    if L.u64(tbl + L.t_future):                            # rhashtable_rehash_attach()
        _bucket_table_free(k, new_tbl)
        return 0                                           # -EEXIST: someone else rehashes
    k.machine.write_u64(tbl + L.t_future, new_tbl)
    _schedule_work(k, ht)
    return 0


def _try_insert(k, ht, key, obj):
    """rhashtable_try_insert() (a generator): the object found, 0, or an errno."""
    L = _l(k)
    new_tbl = L.u64(ht + L.tbl)
    data = 0
    tbl = new_tbl
    while True:
        tbl = new_tbl
        hash_ = yield from _head_hashfn(k, ht, tbl, obj)
        if L.u64(tbl + L.t_future):
            bkt = rht_bucket(k, tbl, hash_) if not L.u32(tbl + L.t_nest) else \
                _bucket_nested(k, tbl, hash_)              # rht_bucket_var()
        elif L.u32(tbl + L.t_nest):
            bkt = rht_bucket_nested_insert(k, ht, tbl, hash_)
        else:
            bkt = tbl + L.t_buckets + 8 * hash_
        if not bkt:
            new_tbl = L.u64(tbl + L.t_future)
            data = -errno.EAGAIN
        else:
            _lock(k, bkt)
            data = yield from _lookup_one(k, ht, bkt, tbl, hash_, key, obj)
            new_tbl, err = _insert_one(k, ht, bkt, tbl, hash_, obj, data)
            if err != -errno.EEXIST:
                data = err
            _unlock(k, bkt)
        if not new_tbl:
            break
    if data == -errno.EAGAIN:
        data = _insert_rehash(k, ht, tbl) or -errno.EAGAIN
    return data


@export("void *rhashtable_insert_slow(struct rhashtable *ht, const void *key, "
        "struct rhash_head *obj)")
def rhashtable_insert_slow(k, ht, key, obj):
    from ..kernel.rcu import __rcu_read_lock, __rcu_read_unlock
    while True:
        __rcu_read_lock(k)
        data = yield from _try_insert(k, ht, key, obj)
        __rcu_read_unlock(k)
        if data != -errno.EAGAIN:
            return data & M64 if data < 0 else data


# ------------------------------------------------------------ walkers
def _spin(k, ht, take: bool):
    from ..kernel.locking.spinlock import spin_acquire, spin_release
    from ..kernel.sched.core import caller, sched
    s = sched(k)
    if take:
        s.add_preempt(1)
        spin_acquire(k, ht + _l(k).lock, s.current(), caller(k))
    elif spin_release(k, ht + _l(k).lock, s.current()):
        s.add_preempt(-1)


@export("void rhashtable_walk_enter(struct rhashtable *ht, struct rhashtable_iter *iter)")
def rhashtable_walk_enter(k, ht, iter):
    L, m = _l(k), k.machine
    m.write_u64(iter + L.i_ht, ht)
    m.write_u64(iter + L.i_p, 0)
    m.write_u32(iter + L.i_slot, 0)
    m.write_u32(iter + L.i_skip, 0)
    m.write_u8(iter + L.i_end, 0)
    _spin(k, ht, True)
    tbl = L.u64(ht + L.tbl)
    m.write_u64(iter + L.i_walker + L.w_tbl, tbl)
    L.list_add(iter + L.i_walker + L.w_list, tbl + L.t_walkers)
    _spin(k, ht, False)


@export("void rhashtable_walk_exit(struct rhashtable_iter *iter)")
def rhashtable_walk_exit(k, iter):
    L = _l(k)
    ht = L.u64(iter + L.i_ht)
    _spin(k, ht, True)
    if L.u64(iter + L.i_walker + L.w_tbl):
        L.list_del(iter + L.i_walker + L.w_list)
    _spin(k, ht, False)


@export("int rhashtable_walk_start_check(struct rhashtable_iter *iter)")
def rhashtable_walk_start_check(k, iter):
    from ..kernel.rcu import __rcu_read_lock
    L, m = _l(k), k.machine
    ht = L.u64(iter + L.i_ht)
    rhlist = L.is_rhlist(ht)
    __rcu_read_lock(k)
    _spin(k, ht, True)
    if L.u64(iter + L.i_walker + L.w_tbl):
        L.list_del(iter + L.i_walker + L.w_list)
    _spin(k, ht, False)
    if m.read_u8(iter + L.i_end):
        return 0
    tbl = L.u64(iter + L.i_walker + L.w_tbl)
    if not tbl:
        m.write_u64(iter + L.i_walker + L.w_tbl, L.u64(ht + L.tbl))
        m.write_u32(iter + L.i_slot, 0)
        m.write_u32(iter + L.i_skip, 0)
        return -errno.EAGAIN
    p_it = L.u64(iter + L.i_p)
    if p_it:
        want = L.u64(iter + L.i_list) if rhlist else p_it
        skip = 0
        p = _rht_ptr(L, rht_bucket(k, tbl, L.u32(iter + L.i_slot)))
        while not is_nulls(p):
            lst = p
            while lst:
                skip += 1
                if lst == want:
                    m.write_u64(iter + L.i_p, p)
                    m.write_u32(iter + L.i_skip, skip)
                    return 0
                lst = L.u64(lst + L.l_next) if rhlist else 0
            p = L.u64(p + L.next)
        m.write_u64(iter + L.i_p, 0)
    return 0


def _find_next(k, iter) -> int:
    """__rhashtable_walk_find_next()."""
    L, m = _l(k), k.machine
    tbl = L.u64(iter + L.i_walker + L.w_tbl)
    ht = L.u64(iter + L.i_ht)
    rhlist = L.is_rhlist(ht)
    lst = L.u64(iter + L.i_list)
    if not tbl:
        return 0
    while L.u32(iter + L.i_slot) < L.tsize(tbl):
        skip = L.u32(iter + L.i_skip)
        p = _rht_ptr(L, rht_bucket(k, tbl, L.u32(iter + L.i_slot)))
        found = False
        while not is_nulls(p):
            if rhlist:
                lst = p
                while lst:
                    if not skip:
                        found = True
                        break
                    skip -= 1
                    lst = L.u64(lst + L.l_next)
                if found:
                    break
                p = L.u64(p + L.next)
                continue
            if not skip:
                break
            skip -= 1
            p = L.u64(p + L.next)
        if not is_nulls(p):
            m.write_u32(iter + L.i_skip, L.u32(iter + L.i_skip) + 1)
            m.write_u64(iter + L.i_p, p)
            m.write_u64(iter + L.i_list, lst)
            return L.obj(ht, lst if rhlist else p)
        m.write_u32(iter + L.i_skip, 0)
        m.write_u32(iter + L.i_slot, L.u32(iter + L.i_slot) + 1)
    m.write_u64(iter + L.i_p, 0)
    future = L.u64(tbl + L.t_future)
    m.write_u64(iter + L.i_walker + L.w_tbl, future)
    if future:
        m.write_u32(iter + L.i_slot, 0)
        m.write_u32(iter + L.i_skip, 0)
        return -errno.EAGAIN & M64
    m.write_u8(iter + L.i_end, 1)
    return 0


@export("void *rhashtable_walk_next(struct rhashtable_iter *iter)")
def rhashtable_walk_next(k, iter):
    L, m = _l(k), k.machine
    lst = L.u64(iter + L.i_list)
    ht = L.u64(iter + L.i_ht)
    p = L.u64(iter + L.i_p)
    rhlist = L.is_rhlist(ht)
    if p:
        if not rhlist or not L.u64(lst + L.l_next):
            p = L.u64(p + L.next)
            lst = p
        else:
            lst = L.u64(lst + L.l_next)
        if not is_nulls(p):
            m.write_u32(iter + L.i_skip, L.u32(iter + L.i_skip) + 1)
            m.write_u64(iter + L.i_p, p)
            m.write_u64(iter + L.i_list, lst)
            return L.obj(ht, lst if rhlist else p)
        m.write_u32(iter + L.i_skip, 0)
        m.write_u32(iter + L.i_slot, L.u32(iter + L.i_slot) + 1)
    return _find_next(k, iter)


@export("void *rhashtable_walk_peek(struct rhashtable_iter *iter)")
def rhashtable_walk_peek(k, iter):
    L, m = _l(k), k.machine
    ht = L.u64(iter + L.i_ht)
    p = L.u64(iter + L.i_p)
    if p:
        return L.obj(ht, L.u64(iter + L.i_list) if L.is_rhlist(ht) else p)
    skip = L.u32(iter + L.i_skip)
    if skip:
        m.write_u32(iter + L.i_skip, skip - 1)
    return _find_next(k, iter)


@export("void rhashtable_walk_stop(struct rhashtable_iter *iter)")
def rhashtable_walk_stop(k, iter):
    from ..kernel.rcu import __rcu_read_unlock
    L = _l(k)
    tbl = L.u64(iter + L.i_walker + L.w_tbl)
    if tbl:
        ht = L.u64(iter + L.i_ht)
        _spin(k, ht, True)
        if tbl in k.model(_Freed).tables:              # being freed: don't re-link it
            k.machine.write_u64(iter + L.i_walker + L.w_tbl, 0)
        else:
            L.list_add(iter + L.i_walker + L.w_list, tbl + L.t_walkers)
        _spin(k, ht, False)
    __rcu_read_unlock(k)
