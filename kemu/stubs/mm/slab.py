"""mm/slab_common.c, mm/slub.c: kmalloc, kmem_cache and kfree on kemu's heap."""
import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from .page_alloc import KMALLOC_MAX_SIZE, warn_order

members("struct kmem_cache", "name", "cpu_slab", "flags", "min_partial", "size", "object_size",
        "offset", "ctor", "inuse", "align", "red_left_pad", "list", "useroffset", "usersize",
        "refcount")

KMALLOC_SHIFT_HIGH = 13          # PAGE_SHIFT + 1 (SLUB)
NR_KMALLOC_TYPES = 4             # NORMAL, DMA, CGROUP, RECLAIM (ZONE_DMA, MEMCG_KMEM on)
KMALLOC_INDEX_SIZE = {0: 0, 1: 96, 2: 192, **{i: 1 << i for i in range(3, KMALLOC_SHIFT_HIGH + 1)}}
ZERO_SIZE_PTR = 16
# 6.8 moved struct kmem_cache into mm/slab.h: modules of later lines hold only
# pointers to it, and kemu gives it a size of its own
OPAQUE_KMEM_CACHE_SIZE = 256


def _struct_size(t) -> int:
    """sizeof(struct kmem_cache) where the headers define it, else kemu's."""
    return t.sizeof("kmem_cache") if "kmem_cache" in t.sizes else OPAQUE_KMEM_CACHE_SIZE


class Slab:
    """Per-kernel slab state: the kmem_caches and their objects."""

    def __init__(self, k):
        self.k = k
        self.caches = {}                 # struct kmem_cache address -> Cache

    def new_cache(self, name: str, size: int, align: int = 8, ctor: int = 0, owner=None):
        t = self.k.target
        addr = self.k.heap.alloc(_struct_size(t), kind="kmem_cache", zero=True)
        m = self.k.machine
        for member, value in (("object_size", size), ("size", size), ("align", align)):
            if t.has_offset(f"kmem_cache.{member}"):
                m.write_u32(addr + t.offset(f"kmem_cache.{member}"), value)
        name_addr = self.k.heap.alloc(len(name) + 1, kind="kmem_cache name")
        m.write(name_addr, name.encode() + b"\0")
        if t.has_offset("kmem_cache.name"):
            m.write_u64(addr + t.offset("kmem_cache.name"), name_addr)
        self.caches[addr] = Cache(addr, name, size, align, ctor, owner, name_addr)
        return self.caches[addr]


class Cache:
    """One kmem_cache."""

    def __init__(self, addr, name, size, align, ctor, owner, name_addr):
        self.addr, self.name, self.size, self.align = addr, name, size, align
        self.ctor, self.owner, self.name_addr = ctor, owner, name_addr
        self.objects = set()


def _gfp_zero(k, flags) -> bool:
    return bool(flags & k.target.const("__GFP_ZERO"))


def _caller(k) -> int:
    return k.machine.read_u64(k.machine.reg("rsp"))


def _owner(k):
    entry = k.current_entry
    return entry.module.name if entry and entry.module is not None else None


def kmalloc(k, size: int, flags: int, kind: str = "kmalloc") -> int:
    """Allocate like kmalloc(): ZERO_SIZE_PTR for 0, zeroed with __GFP_ZERO."""
    if size == 0:
        return ZERO_SIZE_PTR
    if size > KMALLOC_MAX_SIZE:          # kmalloc_large(): an order past MAX_ORDER
        warn_order(k, flags)
        return 0
    return k.heap.alloc(size, kind=kind, caller_addr=_caller(k), owner=_owner(k),
                        zero=_gfp_zero(k, flags))


def kfree_addr(k, addr: int, func: str = "kfree") -> None:
    """kfree() semantics: NULL and ZERO_SIZE_PTR are ignored; double and invalid
    frees are reported by the heap's checks."""
    if addr <= ZERO_SIZE_PTR:
        return
    k.heap.free(addr, caller_addr=_caller(k))


@data("struct kmem_cache *kmalloc_caches[4][14]", size=8 * NR_KMALLOC_TYPES * (KMALLOC_SHIFT_HIGH + 1))
def kmalloc_caches(k, addr):
    """The kmalloc caches, built in one block of kernel data with their names."""
    slab, t, m = k.model(Slab), k.target, k.machine
    prefixes = ("kmalloc", "dma-kmalloc", "kmalloc-cg", "kmalloc-rcl")
    specs = [(typ, idx, f"{prefix}-{size}", size) for typ, prefix in enumerate(prefixes)
             for idx, size in KMALLOC_INDEX_SIZE.items() if size]
    csize = _struct_size(t)
    base = m.alloc_kdata(csize * len(specs), 64)
    names = b"".join(name.encode() + b"\0" for _, _, name, _ in specs)
    names_addr = m.alloc_kdata(len(names), 8)
    m.write(names_addr, names)
    fields = [(t.offset(f"kmem_cache.{member}"), member) for member in
              ("object_size", "size", "align") if t.has_offset(f"kmem_cache.{member}")]
    name_at = t.offset("kmem_cache.name") if t.has_offset("kmem_cache.name") else None
    block = bytearray(csize * len(specs))          # every cache built in Python, one write
    table = bytearray(8 * NR_KMALLOC_TYPES * (KMALLOC_SHIFT_HIGH + 1))
    name_off = 0
    for i, (typ, idx, name, size) in enumerate(specs):
        caddr, at = base + i * csize, i * csize
        for off, member in fields:
            block[at + off:at + off + 4] = (8 if member == "align" else size).to_bytes(4, "little")
        if name_at is not None:
            block[at + name_at:at + name_at + 8] = (names_addr + name_off).to_bytes(8, "little")
        slab.caches[caddr] = Cache(caddr, name, size, 8, 0, None, names_addr + name_off)
        name_off += len(name) + 1
        pos = 8 * (typ * (KMALLOC_SHIFT_HIGH + 1) + idx)
        table[pos:pos + 8] = caddr.to_bytes(8, "little")
    m.write(base, bytes(block))
    m.write(addr, bytes(table))


@export("void *__kmalloc(size_t size, gfp_t flags)", fails="NULL")
def __kmalloc(k, size, flags):
    return kmalloc(k, size, flags)


@export("void *__kmalloc_node(size_t size, gfp_t flags, int node)", fails="NULL")
def __kmalloc_node(k, size, flags, node):
    return kmalloc(k, size, flags)


# 6.11 (CONFIG_SLAB_BUCKETS, which Debian's 6.12 sets): the node allocators take
# the kmem_buckets of kmem_buckets_create() after the size; kemu has one set of caches
@export("void *__kmalloc_node_noprof(size_t size, kmem_buckets *b, gfp_t flags, int node)",
        since="6.11", fails="NULL")
def __kmalloc_node_buckets(k, size, b, flags, node):
    return kmalloc(k, size, flags)


@export("void *kmem_cache_alloc_trace(struct kmem_cache *s, gfp_t gfpflags, size_t size)",
        until="6.1", fails="NULL")
@export("void *kmalloc_trace(struct kmem_cache *s, gfp_t gfpflags, size_t size)",
        since="6.1", until="6.11", fails="NULL")
@export("void *__kmalloc_cache_noprof(struct kmem_cache *s, gfp_t gfpflags, size_t size)",
        since="6.11", fails="NULL")
def kmalloc_trace(k, s, gfpflags, size):
    return kmalloc(k, size, gfpflags)


@export("void *kmalloc_node_trace(struct kmem_cache *s, gfp_t gfpflags, int node, size_t size)", fails="NULL")
def kmalloc_node_trace(k, s, gfpflags, node, size):
    return kmalloc(k, size, gfpflags)


@export("void *kmalloc_order_trace(size_t size, gfp_t flags, unsigned int order)", until="6.1",
        fails="NULL")
def kmalloc_order_trace(k, size, flags, order):
    """5.10: kmalloc() above the largest cache (6.1: kmalloc_large())."""
    return kmalloc_large(k, size, flags)


@export("void *kmalloc_large(size_t size, gfp_t flags)", fails="NULL")
def kmalloc_large(k, size, flags):
    return kmalloc(k, size, flags, kind="kmalloc_large")


@export("void *kmalloc_large_node(size_t size, gfp_t flags, int node)", fails="NULL")
def kmalloc_large_node(k, size, flags, node):
    return kmalloc(k, size, flags, kind="kmalloc_large")


@export("void *__kmalloc_node_track_caller(size_t size, gfp_t gfpflags, int node, unsigned long caller)", fails="NULL")
def __kmalloc_node_track_caller(k, size, gfpflags, node, caller):
    return kmalloc(k, size, gfpflags)


@export("void *__kmalloc_node_track_caller_noprof(size_t size, kmem_buckets *b, gfp_t gfpflags, "
        "int node, unsigned long caller)", since="6.11", fails="NULL")
def __kmalloc_node_track_caller_buckets(k, size, b, gfpflags, node, caller):
    return kmalloc(k, size, gfpflags)


@export("void kfree(const void *objp)")
def kfree(k, objp):
    kfree_addr(k, objp)


@export("void kfree_sensitive(const void *p)")
def kfree_sensitive(k, p):
    obj = k.heap.find(p)
    if obj is not None:
        k.machine.write(p, bytes(obj.size))      # the object, not the redzone after it
    kfree_addr(k, p, "kfree_sensitive")


@export("size_t __ksize(const void *objp)")
def __ksize(k, objp):
    obj = k.heap.find_containing(objp)
    return obj.capacity if obj else 0


@export("size_t ksize(const void *objp)")
def ksize(k, objp):
    return __ksize(k, objp)


@export("void *krealloc(const void *p, size_t new_size, gfp_t flags)", fails="NULL")
def krealloc(k, p, new_size, flags):
    if p <= ZERO_SIZE_PTR:
        return kmalloc(k, new_size, flags)
    if new_size == 0:
        kfree_addr(k, p, "krealloc")
        return ZERO_SIZE_PTR
    obj = k.heap.find(p)
    if obj is None:
        return 0
    if new_size <= obj.capacity:
        obj.size = new_size
        return p
    new = kmalloc(k, new_size, flags)
    k.machine.write(new, k.machine.read(p, obj.size))
    kfree_addr(k, p, "krealloc")
    return new


@export("struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, "
        "unsigned int align, slab_flags_t flags, void (*ctor)(void *))", fails="NULL")
def kmem_cache_create(k, name, size, align, flags, ctor):
    label = k.machine.read_cstr(name, 256).decode("latin-1")
    return k.model(Slab).new_cache(label, size, align, ctor, _owner(k)).addr


@export("struct kmem_cache *kmem_cache_create_usercopy(const char *name, unsigned int size, "
        "unsigned int align, slab_flags_t flags, unsigned int useroffset, "
        "unsigned int usersize, void (*ctor)(void *))", fails="NULL")
def kmem_cache_create_usercopy(k, name, size, align, flags, useroffset, usersize, ctor):
    return kmem_cache_create(k, name, size, align, flags, ctor)


def _cache_alloc(k, s, flags):
    cache = k.model(Slab).caches.get(s)
    if cache is None:
        k.log.emit(KERN_ERR, f"kmem_cache_alloc: unknown cache {k.hash_pointer(s)}")
        return 0
    addr = k.heap.alloc(cache.size, kind=f"kmem_cache:{cache.name}", caller_addr=_caller(k),
                        owner=_owner(k), zero=_gfp_zero(k, flags))
    cache.objects.add(addr)
    if cache.ctor:
        result = yield k.call_request(cache.ctor, addr)
        del result
    return addr


@export("void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfpflags)", fails="NULL")
def kmem_cache_alloc(k, s, gfpflags):
    return (yield from _cache_alloc(k, s, gfpflags))


@export("void *kmem_cache_alloc_lru(struct kmem_cache *s, struct list_lru *lru, gfp_t gfpflags)", fails="NULL")
def kmem_cache_alloc_lru(k, s, lru, gfpflags):
    return (yield from _cache_alloc(k, s, gfpflags))


@export("void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t gfpflags, int node)", fails="NULL")
def kmem_cache_alloc_node(k, s, gfpflags, node):
    return (yield from _cache_alloc(k, s, gfpflags))


@export("void kmem_cache_free(struct kmem_cache *s, void *x)")
def kmem_cache_free(k, s, x):
    cache = k.model(Slab).caches.get(s)
    if cache is not None:
        cache.objects.discard(x)
    kfree_addr(k, x, "kmem_cache_free")


@export("void kmem_cache_destroy(struct kmem_cache *s)")
def kmem_cache_destroy(k, s):
    slab = k.model(Slab)
    cache = slab.caches.pop(s, None)
    if cache is None:
        return
    if cache.objects:
        k.log.emit(KERN_ERR, f"BUG {cache.name} (Tainted: {k.taint_string()}): Objects remaining in "
                      f"{cache.name} on __kmem_cache_shutdown()")
    k.heap.free(s)


@export("unsigned int kmem_cache_size(struct kmem_cache *s)")
def kmem_cache_size(k, s):
    cache = k.model(Slab).caches.get(s)
    return cache.size if cache else 0


@export("char *kstrdup(const char *s, gfp_t gfp)", fails="NULL")
def kstrdup(k, s, gfp):
    if not s:
        return 0
    text = k.machine.read_cstr(s)
    addr = kmalloc(k, len(text) + 1, gfp)
    k.machine.write(addr, text + b"\0")
    return addr


@export("const char *kstrdup_const(const char *s, gfp_t gfp)", fails="NULL")
def kstrdup_const(k, s, gfp):
    return kstrdup(k, s, gfp)


@export("void kfree_const(const void *x)")
def kfree_const(k, x):
    if k.heap.find(x) is not None:
        kfree_addr(k, x)


@export("char *kstrndup(const char *s, size_t max, gfp_t gfp)")
def kstrndup(k, s, max_, gfp):
    if not s:
        return 0
    text = k.machine.read_cstr(s, max_)[:max_]
    addr = kmalloc(k, len(text) + 1, gfp)
    k.machine.write(addr, text + b"\0")
    return addr


@export("void *kmemdup(const void *src, size_t len, gfp_t gfp)", fails="NULL")
def kmemdup(k, src, length, gfp):
    addr = kmalloc(k, length, gfp)
    if addr > ZERO_SIZE_PTR:
        k.machine.write(addr, k.machine.read(src, length))
    return addr


@export("void *kmemdup_array(const void *src, size_t count, size_t element_size, gfp_t gfp)",
        since="6.12", fails="NULL")
def kmemdup_array(k, src, count, element_size, gfp):
    """mm/util.c: kmemdup() of size_mul(element_size, count), SIZE_MAX on overflow."""
    size = count * element_size
    return kmemdup(k, src, size if size < 1 << 64 else (1 << 64) - 1, gfp)


@export("char *kmemdup_nul(const char *s, size_t len, gfp_t gfp)", fails="NULL")
def kmemdup_nul(k, s, length, gfp):
    addr = kmalloc(k, length + 1, gfp)
    k.machine.write(addr, k.machine.read(s, length) + b"\0")
    return addr


@export("void *memdup_user(const void *src, size_t len)", fails="ERR_PTR(-ENOMEM)")
def memdup_user(k, src, length):
    addr = kmalloc(k, length, 0)
    try:
        k.machine.write(addr, k.machine.read(src, length))
    except Exception:
        kfree_addr(k, addr)
        return -errno.EFAULT
    return addr
