"""mm/mempool.c: memory pools with a reserve of preallocated elements.

``mempool_create``/``mempool_init`` fill the reserve with ``min_nr``
elements from the pool's ``alloc`` callback (module code, or the kernel's
``mempool_alloc_slab``/``mempool_kmalloc``, all run in emulation),
``mempool_destroy``/``mempool_exit`` give them back through ``free``.
``mempool_alloc`` tries ``alloc`` first and falls back to the reserve;
``mempool_free`` refills the reserve before freeing. The pool is the
kernel's ``mempool_t`` in kernel memory. A pool a module never destroys
shows up as its leaked kmalloc'd objects.
``mempool_alloc_pages``/``mempool_free_pages`` need ``struct page``, which
kemu does not model: they are link-only.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from ..fs.internal import link_only
from kemu.abi.toolkit import kfree, kzalloc, rd, wr
from .slab import kfree_addr, kmalloc

members("struct mempool_s", "min_nr", "curr_nr", "elements", "pool_data", "alloc", "free",
        "wait", "lock")
members("struct wait_queue_head", "head")


def _add(k, pool, element):
    n = rd(k, pool, "mempool_s.curr_nr", 4)
    k.machine.write_u64(rd(k, pool, "mempool_s.elements") + 8 * n, element)
    wr(k, pool, "mempool_s.curr_nr", n + 1, 4)


def _remove(k, pool):
    n = rd(k, pool, "mempool_s.curr_nr", 4) - 1
    wr(k, pool, "mempool_s.curr_nr", n, 4)
    return k.machine.read_u64(rd(k, pool, "mempool_s.elements") + 8 * n)


def _exit(k, pool):
    """mempool_exit(): free the reserve through pool->free, then the element array."""
    while rd(k, pool, "mempool_s.curr_nr", 4):
        element = _remove(k, pool)
        yield k.call_request(rd(k, pool, "mempool_s.free"), element,
                             rd(k, pool, "mempool_s.pool_data"))
    kfree(k, rd(k, pool, "mempool_s.elements"))
    wr(k, pool, "mempool_s.elements", 0)


def _init(k, pool, min_nr, alloc_fn, free_fn, pool_data, gfp):
    """mempool_init_node()."""
    wr(k, pool, "mempool_s.min_nr", min_nr, 4)
    wr(k, pool, "mempool_s.pool_data", pool_data)
    wr(k, pool, "mempool_s.alloc", alloc_fn)
    wr(k, pool, "mempool_s.free", free_fn)
    wait = pool + k.target.offset("mempool_s.wait")
    head = wait + k.target.offset("wait_queue_head.head")
    wr(k, head, "list_head.next", head)
    wr(k, head, "list_head.prev", head)
    elements = kzalloc(k, max(min_nr, 1) * 8, "mempool elements")
    if not elements:
        return -errno.ENOMEM
    wr(k, pool, "mempool_s.elements", elements)
    while rd(k, pool, "mempool_s.curr_nr", 4) < min_nr:
        element = yield k.call_request(alloc_fn, gfp, pool_data)
        if not element:
            yield from _exit(k, pool)
            return -errno.ENOMEM
        _add(k, pool, element)
    return 0


def _create(k, min_nr, alloc_fn, free_fn, pool_data, gfp):
    pool = kzalloc(k, k.target.sizeof("mempool_s"), "mempool_t")
    if not pool:
        return 0
    if (yield from _init(k, pool, min_nr, alloc_fn, free_fn, pool_data, gfp)):
        kfree(k, pool)
        return 0
    return pool


_FNS = ("void *(*alloc_fn)(gfp_t gfp_mask, void *pool_data), "
        "void (*free_fn)(void *element, void *pool_data), void *pool_data")


@export(f"mempool_t *mempool_create(int min_nr, {_FNS})")
def mempool_create(k, min_nr, alloc_fn, free_fn, pool_data):
    return (yield from _create(k, min_nr, alloc_fn, free_fn, pool_data,
                               k.target.const("GFP_KERNEL")))


@export(f"mempool_t *mempool_create_node(int min_nr, {_FNS}, gfp_t gfp_mask, int node_id)")
def mempool_create_node(k, min_nr, alloc_fn, free_fn, pool_data, gfp_mask, node_id):
    return (yield from _create(k, min_nr, alloc_fn, free_fn, pool_data, gfp_mask))


@export(f"int mempool_init(mempool_t *pool, int min_nr, {_FNS})")
def mempool_init(k, pool, min_nr, alloc_fn, free_fn, pool_data):
    k.machine.write(pool, bytes(k.target.sizeof("mempool_s")))
    return (yield from _init(k, pool, min_nr, alloc_fn, free_fn, pool_data,
                             k.target.const("GFP_KERNEL")))


@export("void mempool_exit(mempool_t *pool)")
def mempool_exit(k, pool):
    yield from _exit(k, pool)


@export("void mempool_destroy(mempool_t *pool)")
def mempool_destroy(k, pool):
    if not pool:
        return
    yield from _exit(k, pool)
    kfree(k, pool)


@export("void *mempool_alloc(mempool_t *pool, gfp_t gfp_mask)")
def mempool_alloc(k, pool, gfp_mask):
    c = k.target.const
    gfp_temp = gfp_mask & ~(c("__GFP_DIRECT_RECLAIM") | c("__GFP_IO"))
    element = yield k.call_request(rd(k, pool, "mempool_s.alloc"), gfp_temp,
                                   rd(k, pool, "mempool_s.pool_data"))
    if element:
        return element
    if rd(k, pool, "mempool_s.curr_nr", 4):
        return _remove(k, pool)
    if gfp_temp != gfp_mask:
        return (yield k.call_request(rd(k, pool, "mempool_s.alloc"), gfp_mask,
                                     rd(k, pool, "mempool_s.pool_data")))
    return 0


@export("void mempool_free(void *element, mempool_t *pool)")
def mempool_free(k, element, pool):
    if not element:
        return
    if rd(k, pool, "mempool_s.curr_nr", 4) < rd(k, pool, "mempool_s.min_nr", 4):
        _add(k, pool, element)
        return
    yield k.call_request(rd(k, pool, "mempool_s.free"), element,
                         rd(k, pool, "mempool_s.pool_data"))


@export("int mempool_resize(mempool_t *pool, int new_min_nr)")
def mempool_resize(k, pool, new_min_nr):
    if new_min_nr <= 0:
        return -errno.EINVAL
    # shrink: free surplus reserve elements; grow: a bigger array, refilled by alloc
    while rd(k, pool, "mempool_s.curr_nr", 4) > new_min_nr:
        element = _remove(k, pool)
        yield k.call_request(rd(k, pool, "mempool_s.free"), element,
                             rd(k, pool, "mempool_s.pool_data"))
    old, n = rd(k, pool, "mempool_s.elements"), rd(k, pool, "mempool_s.curr_nr", 4)
    if new_min_nr > rd(k, pool, "mempool_s.min_nr", 4):
        new = kzalloc(k, new_min_nr * 8, "mempool elements")
        if not new:
            return -errno.ENOMEM
        if n:
            k.machine.write(new, k.machine.read(old, 8 * n))
        kfree(k, old)
        wr(k, pool, "mempool_s.elements", new)
    wr(k, pool, "mempool_s.min_nr", new_min_nr, 4)
    while rd(k, pool, "mempool_s.curr_nr", 4) < new_min_nr:
        element = yield k.call_request(rd(k, pool, "mempool_s.alloc"),
                                       k.target.const("GFP_KERNEL"),
                                       rd(k, pool, "mempool_s.pool_data"))
        if not element:
            break
        _add(k, pool, element)
    return 0


@export("void *mempool_alloc_slab(gfp_t gfp_mask, void *pool_data)")
def mempool_alloc_slab(k, gfp_mask, pool_data):
    from .slab import _cache_alloc
    return (yield from _cache_alloc(k, pool_data, gfp_mask))


@export("void mempool_free_slab(void *element, void *pool_data)")
def mempool_free_slab(k, element, pool_data):
    from .slab import kmem_cache_free
    kmem_cache_free(k, pool_data, element)


@export("void *mempool_kmalloc(gfp_t gfp_mask, void *pool_data)")
def mempool_kmalloc(k, gfp_mask, pool_data):
    return kmalloc(k, pool_data, gfp_mask)


@export("void mempool_kfree(void *element, void *pool_data)")
def mempool_kfree(k, element, pool_data):
    kfree_addr(k, element)


_NO_PAGES = "kemu does not model struct page"
link_only("void *mempool_alloc_pages(gfp_t gfp_mask, void *pool_data)", 0, _NO_PAGES)
link_only("void mempool_free_pages(void *element, void *pool_data)", None, _NO_PAGES)
