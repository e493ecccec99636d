"""kfifo, dma pools, bsearch, kobject paths on a built module; usbcore, hid and
rc-core (the cores hundreds of Debian's driver modules depend on) strict."""
import pytest

from kemu.kernel.facade import Kernel
from kemu.module.modprobe import shared_tree
from kemu.testing import build_module

SOURCE = r'''#include <linux/module.h>
#include <linux/kfifo.h>
#include <linux/dmapool.h>
#include <linux/bsearch.h>
#include <linux/kobject.h>
#include <linux/slab.h>
static int cmp(const void *key, const void *elt)
{
	return *(const int *)key - *(const int *)elt;
}
static const int sorted[] = { 2, 3, 5, 7, 11, 13, 17, 19, 23 };
static int __init lc_init(void)
{
	struct kfifo fifo;
	struct dma_pool *pool;
	dma_addr_t dma;
	char out[8] = { 0 }, *path;
	unsigned int n;
	void *blk;
	int key = 13, missing = 4, *hit;
	struct kobject *parent, *child;

	if (kfifo_alloc(&fifo, 6, GFP_KERNEL))
		return -ENOMEM;
	n = kfifo_in(&fifo, "abcdefghij", 10);
	pr_info("lc: fifo size=%u in=%u len=%u\n", kfifo_size(&fifo), n, kfifo_len(&fifo));
	n = kfifo_out(&fifo, out, 3);
	kfifo_in(&fifo, "XYZ", 3);
	pr_info("lc: out=%u '%s' len=%u avail=%u\n", n, out, kfifo_len(&fifo), kfifo_avail(&fifo));
	kfifo_free(&fifo);

	pool = dma_pool_create("lc", NULL, 24, 16, 0);
	blk = pool ? dma_pool_alloc(pool, GFP_KERNEL, &dma) : NULL;
	pr_info("lc: pool=%d aligned=%d dma_matches=%d bad=%d\n", pool != NULL,
		blk && !((unsigned long)blk & 15), blk && dma == virt_to_phys(blk),
		dma_pool_create("bad", NULL, 24, 3, 0) == NULL);
	dma_pool_free(pool, blk, dma);
	dma_pool_destroy(pool);

	hit = bsearch(&key, sorted, ARRAY_SIZE(sorted), sizeof(int), cmp);
	pr_info("lc: bsearch=%ld none=%d\n", hit ? (long)(hit - sorted) : -1L,
		bsearch(&missing, sorted, ARRAY_SIZE(sorted), sizeof(int), cmp) == NULL);

	parent = kobject_create_and_add("lc_parent", kernel_kobj);
	child = kobject_create_and_add("lc_child", parent);
	path = kobject_get_path(child, GFP_KERNEL);
	pr_info("lc: path=%s\n", path);
	kfree(path);
	kobject_put(child);
	kobject_put(parent);
	return 0;
}
static void __exit lc_exit(void) { }
module_init(lc_init);
module_exit(lc_exit);
MODULE_LICENSE("GPL");
'''


def test_kfifo_dma_pool_bsearch_and_kobject_paths(kernel):
    kernel.unload(kernel.load(build_module({"lc.c": SOURCE})))
    log = kernel.dmesg
    assert "lc: fifo size=8 in=8 len=8" in log            # rounded up to a power of two
    assert "lc: out=3 'abc' len=8 avail=0" in log
    assert "lc: pool=1 aligned=1 dma_matches=1 bad=1" in log
    assert "lc: bsearch=5 none=1" in log
    assert "lc: path=/kernel/lc_parent/lc_child" in log
    assert kernel.registrations == {}


@pytest.mark.parametrize("name", ["usbcore", "hid_generic", "rc_core", "rc_rc6_mce"])
def test_driver_cores_load_and_unload_clean(debian_modules, name):
    tree = shared_tree(str(debian_modules.parent))
    k = Kernel(modules=tree)
    order = tree.modprobe_order(name)
    for mod in order:
        k.load(tree.path(mod))
    for mod in reversed(order):
        if mod in k.modules:
            k.unload(mod)
    assert k.findings == [] and k.registrations == {}
    k.log.flush()
    assert not [r.text for r in k.log.records if r.level <= 4]
