"""lib/genalloc.c, kernel/iomem.c, and the USB
async-I/O signal: what only a device's memory or a user's mmap reaches.

No device has on-chip memory in kemu's machine and no user process maps a
device, so these run only in a probe or an mmap that cannot happen; a call is
a not-modelled finding failing as Linux fails without the resource.
"""
from kemu.abi.exports import unreachable

WHY = "kemu's machine has no device memory and no user mappings"
for _proto, _result in (
        ("struct gen_pool *devm_gen_pool_create(struct device *dev, int min_alloc_order, "
         "int nid, const char *name)", -12 & ((1 << 64) - 1)),
        ("int gen_pool_add_owner(struct gen_pool *pool, unsigned long addr, "
         "unsigned long long phys, size_t size, int nid, void *owner)", -12),
        ("void gen_pool_free_owner(struct gen_pool *pool, unsigned long addr, size_t size, "
         "void **owner)", None),
        ("void *gen_pool_dma_alloc(struct gen_pool *pool, size_t size, dma_addr_t *dma)", 0),
        ("void *gen_pool_dma_alloc_align(struct gen_pool *pool, size_t size, dma_addr_t *dma, "
         "int align)", 0),
        ("void *devm_memremap(struct device *dev, unsigned long long offset, size_t size, "
         "unsigned long flags)", -6 & ((1 << 64) - 1)),
        ("int kill_pid_usb_asyncio(int sig, int errno_, void *addr, struct pid *pid, "
         "const struct cred *cred)", -3),
        ("int input_ff_event(struct input_dev *dev, unsigned int type, unsigned int code, "
         "int value)", -38),
):
    unreachable(_proto, _result, WHY)
