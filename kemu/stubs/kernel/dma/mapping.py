"""kernel/dma/mapping.c with dma-direct: DMA masks, coherent memory, streaming mappings.

x86_64 without an IOMMU maps directly: a DMA address is the physical
address (kemu's ``__pa``), caches are coherent so the sync calls do
nothing, and every mask of at least 24 bits (ZONE_DMA) is supported.
``dma_set_mask`` needs ``dev->dma_mask`` (-EIO without, as in Linux);
``dma_alloc_attrs`` gives zeroed, page-aligned memory (WARNing for a device
with no coherent mask), ``dma_free_attrs`` frees it; the ``dmam_`` variants
are released with the device's devres.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from ...lib.scatterlist import SG, pa

PAGE = 4096
SIZE_MAX = (1 << 64) - 1


class Coherent:
    """dma_alloc_attrs() blocks: cpu address -> (heap block, size)."""

    def __init__(self, k):
        self.blocks: dict[int, tuple[int, int]] = {}


def _supported(mask) -> bool:
    return mask >= 0xFFFFFF


@export("int dma_set_mask(struct device *dev, u64 mask)")
def dma_set_mask(k, dev, mask):
    mask &= SIZE_MAX
    ptr = rd(k, dev, "device.dma_mask")
    if not ptr or not _supported(mask):
        return -errno.EIO
    k.machine.write_u64(ptr, mask)
    return 0


@export("int dma_set_coherent_mask(struct device *dev, u64 mask)")
def dma_set_coherent_mask(k, dev, mask):
    if not _supported(mask):
        return -errno.EIO
    wr(k, dev, "device.coherent_dma_mask", mask)
    return 0


def alloc_coherent(k, dev, size, handle) -> int:
    if not rd(k, dev, "device.coherent_dma_mask"):
        from ...lib.kemu_warn import warn_once
        warn_once(k, "kernel/dma/mapping.c:499", "dma_alloc_attrs+0x49/0x60")
        return 0
    span = (size + PAGE - 1) // PAGE * PAGE or PAGE
    block = k.heap.alloc(span + PAGE, kind="dma_coherent", zero=True)
    cpu = (block + PAGE - 1) & ~(PAGE - 1)
    k.model(Coherent).blocks[cpu] = (block, size)
    k.machine.write_u64(handle, pa(cpu))
    return cpu


def free_coherent(k, cpu) -> None:
    rec = k.model(Coherent).blocks.pop(cpu, None)
    if rec is not None:
        k.heap.free(rec[0])


@export("void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, "
        "gfp_t flag, unsigned long attrs)", fails="NULL")
def dma_alloc_attrs(k, dev, size, dma_handle, flag, attrs):
    return alloc_coherent(k, dev, size, dma_handle)


@export("void dma_free_attrs(struct device *dev, size_t size, void *cpu_addr, "
        "dma_addr_t dma_handle, unsigned long attrs)")
def dma_free_attrs(k, dev, size, cpu_addr, dma_handle, attrs):
    free_coherent(k, cpu_addr)


def _dmam_release(k, dev, cpu):
    free_coherent(k, cpu)
    return
    yield


@export("void *dmam_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, "
        "gfp_t gfp, unsigned long attrs)")
def dmam_alloc_attrs(k, dev, size, dma_handle, gfp, attrs):
    from ...drivers.base.devres import add_py
    cpu = alloc_coherent(k, dev, size, dma_handle)
    if cpu:
        add_py(k, dev, "dmam_release", _dmam_release, cpu)
    return cpu


@export("void dmam_free_coherent(struct device *dev, size_t size, void *vaddr, "
        "dma_addr_t dma_handle)")
def dmam_free_coherent(k, dev, size, vaddr, dma_handle):
    from ...drivers.base.devres import Devres
    lst = k.model(Devres).lists.get(dev, [])
    for res in reversed(lst):
        if res.py is _dmam_release and res.data == vaddr:
            lst.remove(res)
            break
    else:
        from ...lib.kemu_warn import warn
        warn(k, "kernel/dma/mapping.c:66", "dmam_free_coherent+0x8f/0xa0")
    free_coherent(k, vaddr)


def _page_phys(k, page):
    from ...lib.scatterlist import VMEMMAP_BASE, PAGE_SHIFT
    return ((page - VMEMMAP_BASE) // k.target.sizeof("page")) << PAGE_SHIFT


@export("dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page, size_t offset, "
        "size_t size, enum dma_data_direction dir, unsigned long attrs)")
def dma_map_page_attrs(k, dev, page, offset, size, dir_, attrs):
    return _page_phys(k, page) + offset


@export("void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size, "
        "enum dma_data_direction dir, unsigned long attrs)")
def dma_unmap_page_attrs(k, dev, addr, size, dir_, attrs):
    """Direct mapping: nothing to undo."""


@export("int dma_map_sg_attrs(struct device *dev, struct scatterlist *sg, int nents, "
        "enum dma_data_direction dir, unsigned long attrs)")
def dma_map_sg_attrs(k, dev, sg, nents, dir_, attrs):
    acc = SG(k)
    cur = sg
    for _i in range(nents):
        wr(k, cur, "scatterlist.dma_address", _page_phys(k, acc.page(cur)) + acc.offset(cur))
        if k.target.has_offset("scatterlist.dma_length"):
            wr(k, cur, "scatterlist.dma_length", acc.length(cur), 4)
        if acc.is_last(cur):
            break
        cur = acc.next(cur)
    return nents


members("struct sg_table", "sgl", "nents", "orig_nents")


@export("int dma_map_sgtable(struct device *dev, struct sg_table *sgt, "
        "enum dma_data_direction dir, unsigned long attrs)")
def dma_map_sgtable(k, dev, sgt, dir_, attrs):
    """__dma_map_sg_attrs() over orig_nents; nents is what was mapped (0 on success)."""
    orig = rd(k, sgt, "sg_table.orig_nents", 4)
    n = dma_map_sg_attrs(k, dev, rd(k, sgt, "sg_table.sgl"), orig, dir_, attrs)
    wr(k, sgt, "sg_table.nents", n, 4)
    return 0


@export("void dma_unmap_sg_attrs(struct device *dev, struct scatterlist *sg, int nents, "
        "enum dma_data_direction dir, unsigned long attrs)")
def dma_unmap_sg_attrs(k, dev, sg, nents, dir_, attrs):
    """Direct mapping: nothing to undo."""


for _name in ("dma_sync_single_for_cpu", "dma_sync_single_for_device"):
    def _sync(k, dev, addr, size, dir_):
        """Coherent x86 caches: nothing to do."""
    _sync.__name__ = _name
    export(f"void {_name}(struct device *dev, dma_addr_t addr, size_t size, "
           "enum dma_data_direction dir)")(_sync)


@export("size_t dma_max_mapping_size(struct device *dev)")
def dma_max_mapping_size(k, dev):
    return SIZE_MAX


@export("bool dma_need_sync(struct device *dev, dma_addr_t dma_addr)")
def dma_need_sync(k, dev, dma_addr):
    return False


from kemu.abi.exports import link_only  # noqa: E402

members("struct device", "dma_mask", "coherent_dma_mask")
members("struct scatterlist", "dma_address", "dma_length")

link_only("int dma_mmap_attrs(struct device *dev, struct vm_area_struct *vma, void *cpu_addr, "
          "dma_addr_t dma_addr, size_t size, unsigned long attrs)", -errno.ENXIO,
          "kemu maps no user memory")


@data("const struct dma_map_ops *dma_ops", size=8)
def dma_ops(k, addr):
    """NULL: x86's direct mapping (no IOMMU ops installed on kemu's machine)."""


# Page-granular and non-contiguous DMA buffers are mapped to user space and synced
# around transfers by hardware kemu's machine does not have (mmap/hw_params paths).
for _p, _r in (
        ("bool dma_can_mmap(struct device *dev)", False),
        ("struct page *dma_alloc_pages(struct device *dev, size_t size, dma_addr_t *dma_handle, "
         "enum dma_data_direction dir, gfp_t gfp)", 0),
        ("void dma_free_pages(struct device *dev, size_t size, struct page *page, "
         "dma_addr_t dma_handle, enum dma_data_direction dir)", None),
        ("int dma_mmap_pages(struct device *dev, struct vm_area_struct *vma, size_t size, "
         "struct page *page)", -errno.ENXIO),
        ("struct sg_table *dma_alloc_noncontiguous(struct device *dev, size_t size, "
         "enum dma_data_direction dir, gfp_t gfp, unsigned long attrs)", 0),
        ("void dma_free_noncontiguous(struct device *dev, size_t size, struct sg_table *sgt, "
         "enum dma_data_direction dir)", None),
        ("void *dma_vmap_noncontiguous(struct device *dev, size_t size, struct sg_table *sgt)", 0),
        ("void dma_vunmap_noncontiguous(struct device *dev, void *vaddr)", None),
        ("int dma_mmap_noncontiguous(struct device *dev, struct vm_area_struct *vma, size_t size, "
         "struct sg_table *sgt)", -errno.ENXIO),
        ("void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems, "
         "enum dma_data_direction dir)", None),
        ("void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems, "
         "enum dma_data_direction dir)", None),
):
    link_only(_p, _r, "kemu's machine has no DMA-capable device to map or sync buffers for")
