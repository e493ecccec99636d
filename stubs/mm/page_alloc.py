"""mm/page_alloc.c, mm/page_alloc.c's struct page side, mm/memremap.c.

Pages come from the direct map, page-aligned, and are unmapped when freed,
so a use after free_pages() faults where it happens. ``alloc_pages()``
hands out the ``struct page`` of a block: struct pages live at
``vmemmap_base`` as on x86_64 (``page = vmemmap + pfn``), and the part of
vmemmap describing a page is mapped the first time anything touches it
(kemu's machine has no memory map built at boot). A page kemu did not
allocate through the page allocator (a kmalloc buffer's page, say) reads as
an in-use page: one reference, no flags.

The machine has :data:`TOTALRAM_PAGES` pages of RAM, the oracle VM's
(``MemTotal: 468416 kB`` with ``-m 512M``), reported by ``_totalram_pages``
and ``si_meminfo()``.
"""
from kemu import data, export
from kemu.exports import unreachable
from kemu.machine import DIRECT_MAP_ADDR

from ..arch.x86.mm.kaslr import VMEMMAP_BASE

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
MAX_ORDER = 11
TOTALRAM_PAGES = 468416 * 1024 >> PAGE_SHIFT
VMEMMAP_SIZE = 1 << 40                          # enough for the whole direct map


class Pages:
    """Live page blocks (direct-map address -> order) and the mapped part of vmemmap."""

    def __init__(self, k):
        self.k = k
        self.live: dict[int, int] = {}
        self.vmemmap_mapped: set[int] = set()
        self.page_size = k.target.sizeof("page")
        # a vmemmap page of struct pages in use: one reference each, nothing else
        one = bytearray(self.page_size)
        ref = k.target.offset("page._refcount")
        one[ref:ref + 4] = (1).to_bytes(4, "little")
        self.in_use_page_of_structs = bytes(one) * (PAGE_SIZE // self.page_size)
        k.fault_handlers.append(self.on_fault)

    # ------------------------------------------------------------ vmemmap
    def page_of(self, addr: int) -> int:
        """virt_to_page() of a direct-map address."""
        return VMEMMAP_BASE + ((addr - DIRECT_MAP_ADDR) >> PAGE_SHIFT) * self.page_size

    def addr_of(self, page: int) -> int:
        """page_address()."""
        return DIRECT_MAP_ADDR + ((page - VMEMMAP_BASE) // self.page_size << PAGE_SHIFT)

    def ensure(self, page: int, count: int = 1) -> None:
        """Map (and initialise) the vmemmap pages holding ``count`` struct pages."""
        first = (page - VMEMMAP_BASE) & ~(PAGE_SIZE - 1)
        last = (page + count * self.page_size - 1 - VMEMMAP_BASE) & ~(PAGE_SIZE - 1)
        for chunk in range(first, last + PAGE_SIZE, PAGE_SIZE):
            if chunk in self.vmemmap_mapped:
                continue
            self.vmemmap_mapped.add(chunk)
            base = VMEMMAP_BASE + chunk
            self.k.machine.uc.mem_map(base, PAGE_SIZE)
            self.k.machine.write(base, self.in_use_page_of_structs)

    def on_fault(self, access: str, addr: int, size: int) -> bool:
        if VMEMMAP_BASE <= addr < VMEMMAP_BASE + VMEMMAP_SIZE and access in ("read", "write"):
            self.ensure(addr)
            return True
        return False

    # ---------------------------------------------------------- allocation
    def get(self, order: int) -> int:
        """A fresh zeroed block of 2**order pages: its direct-map address (0 if too big)."""
        if order >= MAX_ORDER:
            return 0
        k = self.k
        addr = k.machine.direct_map.map(1 << (PAGE_SHIFT + order))
        self.live[addr] = order
        page = self.page_of(addr)
        self.ensure(page, 1 << order)
        m, t = k.machine, k.target
        for i in range(1 << order):
            p = page + i * self.page_size
            m.write(p, bytes(self.page_size))
            m.write_u32(p + t.offset("page._refcount"), 1 if i == 0 else 0)
        owner = k.current_module()
        if owner is not None:
            k.register("pages", addr, owner, f"an order-{order} page block at {addr:#x}")
        return addr

    def put(self, addr: int, order: int, what: str) -> None:
        """Free a block (free_pages()/__free_pages()); a bad one is reported."""
        k = self.k
        if self.live.get(addr) != order:
            k.log.emit(4, f"kemu: {what}({addr:#x}, {order}) of a block that is not live "
                          "with that order")
            k.finding("invalid-free", f"{what}() of {addr:#x} order {order}, not a live block",
                      k.current_module())
            return
        del self.live[addr]
        k.unregister("pages", addr)
        k.machine.direct_map.unmap(addr, 1 << (PAGE_SHIFT + order))


def pages(k) -> Pages:
    return k.model(Pages)


@export("unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order)", fails="NULL")
def __get_free_pages(k, gfp_mask, order):
    return pages(k).get(order)                   # fresh mappings are zeroed


@export("unsigned long get_zeroed_page(gfp_t gfp_mask)", fails="NULL")
def get_zeroed_page(k, gfp_mask):
    return pages(k).get(0)


@export("void free_pages(unsigned long addr, unsigned int order)")
def free_pages(k, addr, order):
    if addr:
        pages(k).put(addr, order, "free_pages")


@export("struct page *alloc_pages(gfp_t gfp, unsigned int order)", fails="NULL")
def alloc_pages(k, gfp, order):
    p = pages(k)
    addr = p.get(order)
    return p.page_of(addr) if addr else 0


@export("struct page *__alloc_pages(gfp_t gfp, unsigned int order, int preferred_nid, "
        "nodemask_t *nodemask)", fails="NULL")
def __alloc_pages(k, gfp, order, preferred_nid, nodemask):
    return alloc_pages(k, gfp, order)


@export("void __free_pages(struct page *page, unsigned int order)")
def __free_pages(k, page, order):
    """Drop a reference; the last one frees the block (put_page_testzero())."""
    if not page:
        return
    p = pages(k)
    p.ensure(page)
    ref = page + k.target.offset("page._refcount")
    count = (k.machine.read_u32(ref) - 1) & 0xFFFFFFFF
    k.machine.write_u32(ref, count)
    if count == 0:
        p.put(p.addr_of(page), order, "__free_pages")


@export("void *alloc_pages_exact(size_t size, gfp_t gfp_mask)", fails="NULL")
def alloc_pages_exact(k, size, gfp_mask):
    order = max(0, (max(size, 1) - 1).bit_length() - PAGE_SHIFT)
    return pages(k).get(order)


@export("void free_pages_exact(void *virt, size_t size)")
def free_pages_exact(k, virt, size):
    if virt:
        order = max(0, (max(size, 1) - 1).bit_length() - PAGE_SHIFT)
        pages(k).put(virt, order, "free_pages_exact")


@data("atomic_long_t _totalram_pages")
def _totalram_pages(k, addr):
    k.machine.write_u64(addr, TOTALRAM_PAGES)


@export("void si_meminfo(struct sysinfo *val)")
def si_meminfo(k, val):
    """Total and free RAM in pages (mem_unit = PAGE_SIZE); no high memory."""
    t, m = k.target, k.machine
    m.write_u64(val + t.offset("sysinfo.totalram"), TOTALRAM_PAGES)
    m.write_u64(val + t.offset("sysinfo.sharedram"), 0)
    m.write_u64(val + t.offset("sysinfo.freeram"), free_pages_now(k))
    m.write_u64(val + t.offset("sysinfo.bufferram"), 0)
    m.write_u64(val + t.offset("sysinfo.totalhigh"), 0)
    m.write_u64(val + t.offset("sysinfo.freehigh"), 0)
    m.write_u32(val + t.offset("sysinfo.mem_unit"), PAGE_SIZE)


def free_pages_now(k) -> int:
    """Pages not handed out by the page allocator or the heap."""
    used = sum(1 << order for order in pages(k).live.values()) + \
        sum(obj.size for obj in k.heap.live.values()) // PAGE_SIZE
    return max(0, TOTALRAM_PAGES - used)


@export("unsigned long nr_free_buffer_pages(void)")
def nr_free_buffer_pages(k):
    """Free pages of the zones buffers may use (all of kemu's RAM is ZONE_NORMAL)."""
    return free_pages_now(k)


class NodeStats:
    """The node's vmstat counters (inc_node_page_state() and friends)."""

    def __init__(self, k):
        self.counts: dict[int, int] = {}


@export("void inc_node_page_state(struct page *page, enum node_stat_item item)")
def inc_node_page_state(k, page, item):
    c = k.model(NodeStats).counts
    c[item] = c.get(item, 0) + 1


@export("void dec_node_page_state(struct page *page, enum node_stat_item item)")
def dec_node_page_state(k, page, item):
    c = k.model(NodeStats).counts
    c[item] = c.get(item, 0) - 1


@export("bool __put_devmap_managed_page_refs(struct page *page, int refs)")
def __put_devmap_managed_page_refs(k, page, refs):
    """Only ZONE_DEVICE pages are devmap-managed, and kemu has no device memory:
    false, so put_page() goes on with the ordinary reference drop."""
    return False


unreachable("void dump_page(struct page *page, const char *reason)", None,
            "it prints a page's state for a VM_BUG_ON_PAGE(), which kemu does not model")
