"""mm/vmalloc.c and mm/util.c's kvmalloc: page-granular allocations."""
from kemu import export
from kemu.abi.exports import unreachable

from .page_alloc import KMALLOC_MAX_SIZE, PAGE_SHIFT, TOTALRAM_PAGES, warn_alloc
from .slab import ZERO_SIZE_PTR, _owner, kfree_addr, kmalloc


def _vmalloc(k, size: int, zero: bool = True, gfp: int | None = None) -> int:
    """__vmalloc_node_range(): NULL for 0 bytes (WARN_ON_ONCE) and, with warn_alloc()'s
    report, for more than the machine's RAM."""
    if size == 0:
        return 0
    if size >> PAGE_SHIFT > TOTALRAM_PAGES:
        if gfp is None:
            gfp = k.target.const("GFP_KERNEL") | (k.target.const("__GFP_ZERO") if zero else 0)
        warn_alloc(k, gfp, f"vmalloc error: size {size}, exceeds total pages",
                   (" __vmalloc_node_range+0x838/0x880", " __vmalloc_node+0x4a/0x60"))
        return 0
    return k.heap.alloc(max(size, 4097), kind="vmalloc", zero=zero,
                        caller_addr=k.machine.read_u64(k.machine.reg("rsp")),
                        owner=_owner(k))


@export("void *vmalloc(unsigned long size)", fails="NULL")
def vmalloc(k, size):
    return _vmalloc(k, size, zero=False)


@export("void *vzalloc(unsigned long size)", fails="NULL")
def vzalloc(k, size):
    return _vmalloc(k, size)


@export("void *vmalloc_node(unsigned long size, int node)", fails="NULL")
def vmalloc_node(k, size, node):
    return _vmalloc(k, size, zero=False)


@export("void *vzalloc_node(unsigned long size, int node)", fails="NULL")
def vzalloc_node(k, size, node):
    return _vmalloc(k, size)


@export("void *__vmalloc(unsigned long size, gfp_t gfp_mask)", fails="NULL")
def __vmalloc(k, size, gfp_mask):
    return _vmalloc(k, size, zero=bool(gfp_mask & k.target.const("__GFP_ZERO")), gfp=gfp_mask)


@export("void *vmalloc_user(unsigned long size)", fails="NULL")
def vmalloc_user(k, size):
    """Zeroed, for mapping to user space (VM_USERMAP; the mapping itself is mmap's)."""
    return _vmalloc(k, size)


@export("void vfree(const void *addr)")
def vfree(k, addr):
    kfree_addr(k, addr, "vfree")


@export("void *kvmalloc_node(size_t size, gfp_t flags, int node)", fails="NULL")
def kvmalloc_node(k, size, flags, node):
    """kmalloc first (quietly above a page, kmalloc_gfp_adjust()), then vmalloc."""
    if size <= KMALLOC_MAX_SIZE:
        return kmalloc(k, size, flags) or _vmalloc(k, size, bool(flags & k.target.const(
            "__GFP_ZERO")), flags)
    return _vmalloc(k, size, bool(flags & k.target.const("__GFP_ZERO")), flags)


@export("void *__kvmalloc_node_noprof(size_t size, kmem_buckets *b, gfp_t flags, int node)",
        since="6.11", fails="NULL")
def __kvmalloc_node_buckets(k, size, b, flags, node):
    """6.11's kvmalloc_node() with CONFIG_SLAB_BUCKETS (Debian's 6.12): the buckets
    argument after the size."""
    return kvmalloc_node(k, size, flags, node)


@export("void kvfree(const void *addr)")
def kvfree(k, addr):
    kfree_addr(k, addr, "kvfree")


@export("void kvfree_sensitive(const void *addr, size_t len)")
def kvfree_sensitive(k, addr, length):
    if addr > ZERO_SIZE_PTR:
        k.machine.fill(addr, 0, length)
    kfree_addr(k, addr, "kvfree_sensitive")


@export("void *kvrealloc(const void *p, size_t oldsize, size_t newsize, gfp_t flags)", fails="NULL")
def kvrealloc(k, p, oldsize, newsize, flags):
    new = kmalloc(k, newsize, flags)
    if p > ZERO_SIZE_PTR and new > ZERO_SIZE_PTR:
        k.machine.write(new, k.machine.read(p, min(oldsize, newsize)))
        kfree_addr(k, p, "kvrealloc")
    return new


# Mapping arbitrary struct pages into vmalloc space needs the pages' memory to
# appear at a second address; kemu's direct-map pages are Unicorn allocations
# that cannot be aliased, so these are reached only by code reading a mounted
# filesystem or a device's buffers, and fail as when vmalloc space runs out.
for _proto, _result in (
        ("void *vmap(struct page **pages, unsigned int count, unsigned long flags, "
         "unsigned long prot)", 0),                  # pgprot_t, one register
        ("void vunmap(const void *addr)", None),
        ("void *vm_map_ram(struct page **pages, unsigned int count, int node)", 0),
        ("void vm_unmap_ram(const void *mem, unsigned int count)", None),
        ("void vm_unmap_aliases(void)", None),
        ("struct page *vmalloc_to_page(const void *addr)", 0),
):
    unreachable(_proto, _result, "kemu cannot map pages at a second virtual address")
