"""mm/dmapool.c: pools of small coherent DMA blocks.

``dma_pool_create()`` checks its arguments as Linux does (alignment a power of
two, size at least 4 and rounded up to the alignment, boundary a power of two
no smaller than the size) and returns an opaque pool; blocks come from kemu's
heap, aligned, with the direct map's physical address as the DMA handle
(kemu's DMA is direct). A pool destroyed with blocks still allocated is
reported as Linux reports it; a pool left alive after its module's exit is a
leftover registration.
"""
from __future__ import annotations

from kemu import export
from kemu.machine.emulator import DIRECT_MAP_ADDR
from kemu.kernel.log import KERN_ERR

from kemu.abi.toolkit import cstr, kfree, kzalloc

PAGE_SIZE = 4096


class Pools:
    """Live pools: address -> (name, block size, {block: dma})."""

    def __init__(self, k):
        self.pools: dict[int, dict] = {}


def _align_up(v: int, a: int) -> int:
    return (v + a - 1) & ~(a - 1)


@export("struct dma_pool *dma_pool_create(const char *name, struct device *dev, size_t size, "
        "size_t align, size_t boundary)")
def dma_pool_create(k, name, dev, size, align, boundary):
    if align == 0:
        align = 1
    elif align & (align - 1):
        return 0
    if size == 0 or size > (1 << 31):
        return 0
    size = max(size, 4)
    size = _align_up(size, align)
    allocation = max(size, PAGE_SIZE)
    if not boundary:
        boundary = allocation
    elif boundary < size or boundary & (boundary - 1):
        return 0
    pool = kzalloc(k, 64, "dma_pool")                    # struct dma_pool is mm-private
    text = cstr(k, name, 32) if name else ""
    k.model(Pools).pools[pool] = {"name": text, "size": size, "align": align, "blocks": {},
                                  "dev": dev}
    owner = k.current_module()
    k.register("dma pool", pool, owner, f"DMA pool {text}")
    return pool


@export("void *dma_pool_alloc(struct dma_pool *pool, gfp_t mem_flags, dma_addr_t *handle)")
def dma_pool_alloc(k, pool, mem_flags, handle):
    p = k.model(Pools).pools.get(pool)
    if p is None:
        return 0
    block = k.heap.alloc(_align_up(p["size"], p["align"]) + p["align"], kind="dma_pool",
                         zero=True)
    addr = _align_up(block, p["align"])
    p["blocks"][addr] = block
    if handle:
        k.machine.write_u64(handle, addr - DIRECT_MAP_ADDR)
    return addr


@export("void dma_pool_free(struct dma_pool *pool, void *vaddr, dma_addr_t dma)")
def dma_pool_free(k, pool, vaddr, dma):
    p = k.model(Pools).pools.get(pool)
    if p is None or vaddr not in p["blocks"]:
        from ..drivers.base.dev_printk import dev_emit
        dev_emit(k, KERN_ERR, p["dev"] if p else 0,
                 f"dma_pool_free {p['name'] if p else '?'}, {vaddr:#x}/{dma:#x} (bad dma)\n"
                 .encode("utf-8", "surrogateescape"))
        return
    k.heap.free(p["blocks"].pop(vaddr))


@export("void dma_pool_destroy(struct dma_pool *pool)")
def dma_pool_destroy(k, pool):
    pools = k.model(Pools).pools
    p = pools.pop(pool, None)
    if p is None:
        return
    if p["blocks"]:
        from ..drivers.base.dev_printk import dev_emit
        dev_emit(k, KERN_ERR, p["dev"], f"dma_pool_destroy {p['name']}, {pool:#x} busy\n".encode("utf-8", "surrogateescape"))
    k.unregister("dma pool", pool)
    kfree(k, pool)
