"""arch/x86/mm/ioremap.c: ioremap()/iounmap() of device memory.

kemu's machine has no device memory: a mapping is kernel memory filled with
all ones (what a read of an absent device's range returns), page-aligned
like the kernel's (the offset within the page kept). Mapping System RAM is
refused with the kernel's warning ("ioremap on RAM at ..."), as is a zero
size. A mapping still in place after its module's exit is reported.
"""
from __future__ import annotations

from kemu import export

PAGE = 4096


class IoMaps:
    """Per-kernel ioremap mappings: cookie -> (heap block, phys, size)."""

    def __init__(self, k):
        self.maps: dict[int, tuple[int, int, int]] = {}


def _is_ram(k, start, end) -> bool:
    from ....kernel.resource import resource_tree
    for depth, s, e, name in resource_tree(k, "iomem"):
        if depth == 0 and name == "System RAM" and s <= end and start <= e:
            return True
    return False


def do_ioremap(k, phys, size) -> int:
    if not size or phys + size - 1 < phys:
        return 0
    last = phys + size - 1
    if _is_ram(k, phys, last):
        from ....lib.kemu_warn import warn
        warn(k, "arch/x86/mm/ioremap.c:211", "__ioremap_caller+0x345/0x360",
             f"ioremap on RAM at 0x{phys:016x} - 0x{last:016x}")
        return 0
    offset = phys & (PAGE - 1)
    span = ((offset + size + PAGE - 1) // PAGE) * PAGE
    block = k.heap.alloc(span + PAGE, kind="ioremap", zero=False)
    if not block:
        return 0                       # ioremap() fails as when vmalloc space runs out
    base = (block + PAGE - 1) & ~(PAGE - 1)
    k.machine.write(base, b"\xff" * span)
    cookie = base + offset
    k.model(IoMaps).maps[base] = (block, phys, size)
    k.register("ioremap", base, k.current_module(),
               f"ioremap of {phys:#x}-{last:#x}")
    return cookie


for _name in ("ioremap", "ioremap_cache", "ioremap_uc", "ioremap_wc", "ioremap_wt",
              "ioremap_encrypted"):
    def _fn(k, phys_addr, size):
        return do_ioremap(k, phys_addr, size)
    _fn.__name__ = _name
    export(f"void *{_name}(resource_size_t phys_addr, unsigned long size)")(_fn)


@export("void iounmap(volatile void *addr)")
def iounmap(k, addr):
    base = addr & ~(PAGE - 1)
    rec = k.model(IoMaps).maps.pop(base, None)
    if rec is None:
        if addr:
            from ....lib.kemu_warn import warn_once
            warn_once(k, "arch/x86/mm/ioremap.c:480", "iounmap+0xbd/0xd0",
                      f"iounmap: bad address {addr:016x}")
        return
    k.heap.free(rec[0])
    k.unregister("ioremap", base)
