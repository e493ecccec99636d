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
from kemu.abi.exports import members, unreachable
from kemu.kernel.log import KERN_INFO, KERN_WARNING
from kemu.machine.emulator import DIRECT_MAP_ADDR

from ..arch.x86.mm.kaslr import VMEMMAP_BASE

members("struct page", "_refcount")
members("struct sysinfo", "totalram", "freeram", "sharedram", "bufferram", "totalhigh",
        "freehigh", "mem_unit", "uptime", "loads", "totalswap", "freeswap", "procs")

PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
MAX_ORDER = 11
TOTALRAM_PAGES = 468416 * 1024 >> PAGE_SHIFT
VMEMMAP_SIZE = 1 << 40                          # enough for the whole direct map
KMALLOC_MAX_SIZE = 1 << (MAX_ORDER - 1 + PAGE_SHIFT)     # the largest order below MAX_ORDER

# __show_mem() of the oracle VM (the machine kemu models) right after boot:
# what warn_alloc() prints after its call trace. Recorded with
# real-kernel-oracle.sh from a module calling vmalloc(1UL << 40).
SHOW_MEM = (
    'Mem-Info:',
    'active_anon:456 inactive_anon:94 isolated_anon:0',
    ' active_file:0 inactive_file:0 isolated_file:0',
    ' unevictable:0 dirty:0 writeback:0',
    ' slab_reclaimable:2189 slab_unreclaimable:1495',
    ' mapped:448 shmem:515 pagetables:18',
    ' sec_pagetables:0 bounce:0',
    ' kernel_misc_reclaimable:0',
    ' free:109822 free_pcp:578 free_cma:0',
    'Node 0 active_anon:1824kB inactive_anon:376kB active_file:0kB inactive_file:0kB unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:1792kB dirty:0kB writeback:0kB shmem:2060kB shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB writeback_tmp:0kB kernel_stack:784kB pagetables:72kB sec_pagetables:0kB all_unreclaimable? no',
    'Node 0 DMA free:15232kB boost:0kB min:88kB low:108kB high:128kB reserved_highatomic:0KB active_anon:0kB inactive_anon:0kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB present:15992kB managed:15360kB mlocked:0kB bounce:0kB free_pcp:0kB local_pcp:0kB free_cma:0kB',
    'lowmem_reserve[]: 0 433 433 433 433',
    'Node 0 DMA32 free:424056kB boost:0kB min:2616kB low:3268kB high:3920kB reserved_highatomic:0KB active_anon:1824kB inactive_anon:376kB active_file:0kB inactive_file:0kB unevictable:0kB writepending:0kB present:507776kB managed:453056kB mlocked:0kB bounce:0kB free_pcp:2312kB local_pcp:2312kB free_cma:0kB',
    'lowmem_reserve[]: 0 0 0 0 0',
    'Node 0 DMA: 0*4kB 0*8kB 0*16kB 0*32kB 0*64kB 1*128kB (U) 1*256kB (U) 1*512kB (U) 0*1024kB 1*2048kB (M) 3*4096kB (M) = 15232kB',
    'Node 0 DMA32: 4*4kB (ME) 5*8kB (M) 8*16kB (UME) 4*32kB (M) 7*64kB (UME) 7*128kB (UM) 6*256kB (UME) 4*512kB (UM) 5*1024kB (UME) 2*2048kB (ME) 100*4096kB (M) = 424056kB',
    'Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB',
    '515 total pagecache pages',
    '0 pages in swap cache',
    'Free swap  = 0kB',
    'Total swap = 0kB',
    '130942 pages RAM',
    '0 pages HighMem/MovableOnly',
    '13838 pages reserved',
    '0 pages hwpoisoned',
)


def warn_order(k, gfp: int) -> None:
    """__alloc_pages(): WARN_ON_ONCE_GFP(order >= MAX_ORDER, gfp) (not with __GFP_NOWARN)."""
    if gfp & k.target.const("__GFP_NOWARN"):
        return
    from ..lib.kemu_warn import warn_once
    warn_once(k, "mm/page_alloc.c:5634", "__alloc_pages+0x2a9/0x330")


def warn_alloc(k, gfp: int, message: str, callers=()) -> None:
    """warn_alloc(): the message with the gfp mode, dump_stack() (``callers`` are
    the kernel frames between warn_alloc and the module) and __show_mem().
    Each warns; Linux rate-limits to one per 10 s (kemu's virtual clock rarely
    moves that far between two)."""
    if gfp & k.target.const("__GFP_NOWARN"):
        return
    from kemu.machine.oops import call_trace, cpu_lines
    mode = {k.target.const("GFP_KERNEL"): "GFP_KERNEL",
            k.target.const("GFP_KERNEL") | k.target.const("__GFP_ZERO"):
                "GFP_KERNEL|__GFP_ZERO"}.get(gfp, "?")
    k.log.emit(KERN_WARNING, f"insmod: {message}, mode:{gfp:#x}({mode}), nodemask=(null),cpuset=/,"
                  "mems_allowed=0")
    for line in cpu_lines(k) + call_trace(k, k.machine.registers(),
                                          (" dump_stack_lvl+0x44/0x5c",
                                           " warn_alloc+0x151/0x170", *callers)):
        k.log.emit(KERN_WARNING, line)
    for line in SHOW_MEM:
        k.log.emit(KERN_INFO, line)


class Pages:
    """Live page blocks (direct-map address -> order) and the mapped part of vmemmap."""

    def __init__(self, k):
        self.k = k
        self.live: dict[int, int] = {}
        self.live_bytes = 0              # counted with the heap's against its limit
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
        """Map (and initialise) the vmemmap pages holding ``count`` struct pages.

        A ``page`` outside vmemmap (a module's garbage) maps nothing: the access
        that follows faults there, as it would in Linux."""
        if not VMEMMAP_BASE <= page < VMEMMAP_BASE + VMEMMAP_SIZE:
            return
        count = min(count, (VMEMMAP_BASE + VMEMMAP_SIZE - page) // self.page_size)
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
    def get(self, order: int, gfp: int | None = None) -> int:
        """A fresh zeroed block of 2**order pages: its direct-map address (0 if too big,
        with __alloc_pages()'s WARN when the caller's ``gfp`` is given)."""
        if order >= MAX_ORDER:
            if gfp is not None:
                warn_order(self.k, gfp)
            return 0
        k = self.k
        size = 1 << (PAGE_SHIFT + order)
        if self.live_bytes + size > k.heap.limit - k.heap.live_bytes:
            return 0                     # the machine's memory is used up: NULL
        self.live_bytes += size
        addr = k.machine.direct_map.map(size)
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
            k.log.emit(KERN_WARNING, f"kemu: {what}({addr:#x}, {order}) of a block that is not live "
                          "with that order")
            k.finding("invalid-free", f"{what}() of {addr:#x} order {order}, not a live block",
                      k.current_module())
            return
        del self.live[addr]
        self.live_bytes -= 1 << (PAGE_SHIFT + order)
        k.unregister("pages", addr)
        k.machine.direct_map.unmap(addr, 1 << (PAGE_SHIFT + order))


def pages(k) -> Pages:
    return k.model(Pages)


@export("unsigned long __get_free_pages(gfp_t gfp_mask, unsigned int order)", fails="NULL")
def __get_free_pages(k, gfp_mask, order):
    return pages(k).get(order, gfp_mask)                   # fresh mappings are zeroed


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
    addr = p.get(order, gfp)
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
    return pages(k).get(order, gfp_mask)


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
