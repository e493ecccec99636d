"""mm/percpu.c: dynamic per-CPU allocations (one CPU), and numa_node."""
from kemu import export, percpu
from kemu.kernel.log import KERN_WARNING


class PercpuAllocs:
    """Per-CPU objects a module allocated: offset -> (size, owner)."""

    def __init__(self, k):
        self.live = {}


PCPU_MIN_ALLOC_SIZE = 4                  # mm/percpu-internal.h
PCPU_MIN_UNIT_SIZE = 32 << 10            # include/linux/percpu.h
PAGE_SIZE = 4096


def _alloc(k, size, align, gfp=None):
    """pcpu_alloc(): NULL for an illegal size or alignment (WARN unless
    __GFP_NOWARN) and when the per-CPU area is full (the pr_warn)."""
    gfp = k.target.const("GFP_KERNEL") if gfp is None else gfp
    do_warn = not gfp & k.target.const("__GFP_NOWARN")
    align = max(align, PCPU_MIN_ALLOC_SIZE)
    size = (size + PCPU_MIN_ALLOC_SIZE - 1) & ~(PCPU_MIN_ALLOC_SIZE - 1) & ((1 << 64) - 1)
    if not size or size > PCPU_MIN_UNIT_SIZE or align > PAGE_SIZE or align & (align - 1):
        if do_warn:
            from ..lib.kemu_warn import warn
            warn(k, "mm/percpu.c:1758", "pcpu_alloc+0x7e0/0x830",
                 f"illegal size ({size}) or align ({align}) for percpu allocation")
        return 0
    offset = k.machine.alloc_percpu(size, max(align, 8))
    if offset is None:
        is_atomic = not gfp & k.target.const("__GFP_DIRECT_RECLAIM")
        if not is_atomic and do_warn:
            k.log.emit(KERN_WARNING, f"percpu: allocation failed, size={size} align={align} atomic=0, "
                          "failed to allocate new chunk")
        return 0
    k.machine.write(k.machine.percpu_addr + offset, bytes(size))
    owner = k.current_module()
    k.model(PercpuAllocs).live[offset] = (size, owner)
    if owner is not None:
        k.register("percpu", offset, owner, f"a {size}-byte per-CPU allocation")
    return offset


@export("void *__alloc_percpu(size_t size, size_t align)", fails="NULL")
def __alloc_percpu(k, size, align):
    return _alloc(k, size, align)


@export("void *__alloc_percpu_gfp(size_t size, size_t align, gfp_t gfp)", fails="NULL")
def __alloc_percpu_gfp(k, size, align, gfp):
    return _alloc(k, size, align, gfp)


@export("void *pcpu_alloc_noprof(size_t size, size_t align, bool reserved, gfp_t gfp)",
        since="6.10", fails="NULL")
def pcpu_alloc_noprof(k, size, align, reserved, gfp):
    """6.10 (allocation profiling): __alloc_percpu_gfp() and friends are macros
    over pcpu_alloc_noprof(); modules never ask for the reserved chunk."""
    return _alloc(k, size, align, gfp)


@export("void free_percpu(void *ptr)")
def free_percpu(k, ptr):
    if not ptr:
        return
    if k.model(PercpuAllocs).live.pop(ptr, None) is None:
        k.log.emit(KERN_WARNING, f"kemu: free_percpu() of {ptr:#x}, which is not a per-CPU allocation")
        k.finding("invalid-free", f"free_percpu() of unknown per-CPU pointer {ptr:#x}",
                  k.current_module())
        return
    k.unregister("percpu", ptr)


@percpu("int numa_node")
def numa_node(k, offset):
    k.machine.write_u32(k.machine.percpu_addr + offset, 0)
