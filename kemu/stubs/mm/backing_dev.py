"""mm/backing-dev.c: backing_dev_info objects (what mtd, fuse and network
filesystems allocate for their own superblocks).

``bdi_alloc()`` returns a zeroed, initialised bdi with one reference (ra_pages
and io_pages at VM_READAHEAD_PAGES, max_ratio 100%); ``bdi_register()``
names it (``bdi/<name>`` in Linux's class) and records the registration;
``bdi_unregister()`` removes it; ``bdi_put()`` drops a reference and frees the
bdi with the last one. A bdi still registered when its module is gone, or one
never put, is reported.
"""
import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, rd, wr
from ..kernel.printk import vformat

members("struct backing_dev_info", "ra_pages", "io_pages", "refcnt", "min_ratio", "max_ratio",
        "id", "dev", "dev_name", "capabilities", "owner")


@export("struct backing_dev_info *bdi_alloc(int node_id)")
def bdi_alloc(k, node_id):
    t = k.target
    bdi = kzalloc(k, t.sizeof("backing_dev_info"), "backing_dev_info")
    wr(k, bdi, "backing_dev_info.refcnt", 1, 4)                   # kref_init()
    pages = t.const("VM_READAHEAD_PAGES")
    wr(k, bdi, "backing_dev_info.ra_pages", pages)
    wr(k, bdi, "backing_dev_info.io_pages", pages)
    wr(k, bdi, "backing_dev_info.max_ratio", 100, 4)
    return bdi


@export("int bdi_register(struct backing_dev_info *bdi, const char *fmt, ...)")
def bdi_register(k, bdi, fmt, va):
    if k.registrations.get(("bdi", bdi)):
        return 0                                                    # already registered
    name = vformat(k, fmt, va).decode("latin-1")
    owner = k.module_containing(bdi) or k.current_module()
    k.register("bdi", bdi, owner, f"backing device bdi/{name}")
    return 0


@export("void bdi_unregister(struct backing_dev_info *bdi)")
def bdi_unregister(k, bdi):
    k.unregister("bdi", bdi)


@export("void bdi_put(struct backing_dev_info *bdi)")
def bdi_put(k, bdi):
    ref = bdi + k.target.offset("backing_dev_info.refcnt")
    count = (k.machine.read_u32(ref) - 1) & 0xFFFFFFFF
    k.machine.write_u32(ref, count)
    if count == 0:                                                  # release_bdi()
        k.unregister("bdi", bdi)
        kfree(k, bdi)


@export("int bdi_set_max_ratio(struct backing_dev_info *bdi, unsigned int max_ratio)")
def bdi_set_max_ratio(k, bdi, max_ratio):
    """A share of the dirty limit: above 100%, or below min_ratio, is -EINVAL."""
    if max_ratio > 100 or rd(k, bdi, "backing_dev_info.min_ratio", 4) > max_ratio:
        return -errno.EINVAL
    wr(k, bdi, "backing_dev_info.max_ratio", max_ratio, 4)
    return 0
