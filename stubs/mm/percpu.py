"""mm/percpu.c: dynamic per-CPU allocations (one CPU), and numa_node."""
from kemu import export, percpu


class PercpuAllocs:
    """Per-CPU objects a module allocated: offset -> (size, owner)."""

    def __init__(self, k):
        self.live = {}


def _alloc(k, size, align):
    offset = k.machine.alloc_percpu(max(size, 1), max(align, 8))
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
    return _alloc(k, size, align)


@export("void free_percpu(void *ptr)")
def free_percpu(k, ptr):
    if not ptr:
        return
    if k.model(PercpuAllocs).live.pop(ptr, None) is None:
        k.log.emit(4, f"kemu: free_percpu() of {ptr:#x}, which is not a per-CPU allocation")
        k.finding("invalid-free", f"free_percpu() of unknown per-CPU pointer {ptr:#x}",
                  k.current_module())
        return
    k.unregister("percpu", ptr)


@percpu("int numa_node")
def numa_node(k, offset):
    k.machine.write_u32(k.machine.percpu_addr + offset, 0)
