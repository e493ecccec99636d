"""mm/page_alloc.c: whole pages by address (__get_free_pages and friends).

Pages come from the direct map, page-aligned, and are unmapped when freed,
so a use after free_pages() faults where it happens.
"""
from kemu import export

PAGE_SHIFT = 12


class Pages:
    """Live page blocks: address -> order."""

    def __init__(self, k):
        self.live = {}


def _get(k, order: int) -> int:
    if order > 10:                              # MAX_ORDER - 1
        return 0
    addr = k.machine.direct_map.map(1 << (PAGE_SHIFT + order))
    k.model(Pages).live[addr] = order
    owner = k.current_module()
    if owner is not None:
        k.register("pages", addr, owner, f"an order-{order} page block at {addr:#x}")
    return addr


@export("unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order)")
def __get_free_pages(k, gfp_mask, order):
    return _get(k, order)                        # fresh mappings are zeroed


@export("unsigned long get_zeroed_page(gfp_t gfp_mask)")
def get_zeroed_page(k, gfp_mask):
    return _get(k, 0)


@export("void free_pages(unsigned long addr, unsigned int order)")
def free_pages(k, addr, order):
    if not addr:
        return
    live = k.model(Pages).live
    if live.get(addr) != order:
        k.log.emit(4, f"kemu: free_pages({addr:#x}, {order}) of a block that is not live "
                      "with that order")
        k.finding("invalid-free", f"free_pages() of {addr:#x} order {order}, not a live block",
                  k.current_module())
        return
    del live[addr]
    k.unregister("pages", addr)
    k.machine.direct_map.unmap(addr, 1 << (PAGE_SHIFT + order))
