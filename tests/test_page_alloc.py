"""Whole pages (__get_free_pages, free_pages) and net_ratelimit()."""
from __future__ import annotations

import pytest

from kemu.errors import MemoryFault
from kemu.testing import build_module

SOURCE = r'''#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/net.h>
static char *bug = "none";
module_param(bug, charp, 0444);
static int __init pages_init(void)
{
	unsigned long p = __get_free_pages(GFP_KERNEL, 1), z = get_zeroed_page(GFP_KERNEL);
	int i, allowed = 0;

	if (!p || !z)
		return -ENOMEM;
	memset((void *)p, 0x5a, 8192);
	for (i = 0; i < 20; i++)
		allowed += net_ratelimit();
	pr_info("pages: %d %d %d\n", ((char *)p)[8191], ((char *)z)[17], allowed);
	free_pages(p, 1);
	if (!strcmp(bug, "uaf"))
		pr_info("pages: %d\n", ((volatile char *)p)[100]);
	if (strcmp(bug, "leak"))
		free_page(z);
	return 0;
}
static void __exit pages_exit(void) { }
module_init(pages_init);
module_exit(pages_exit);
MODULE_LICENSE("GPL");
'''


@pytest.fixture(scope="module")
def pages_ko():
    return build_module({"pages.c": SOURCE})


def test_pages_and_net_ratelimit(kernel, pages_ko):
    kernel.unload(kernel.load(pages_ko))
    assert "pages: 90 0 10" in kernel.dmesg          # 0x5a kept, zeroed page, burst of 10


@pytest.mark.kemu_findings
def test_use_after_free_pages_faults(kernel, pages_ko):
    with pytest.raises(MemoryFault):
        kernel.load(pages_ko, bug="uaf")


@pytest.mark.kemu_findings
def test_leaked_page_reported_at_unload(kernel, pages_ko):
    kernel.unload(kernel.load(pages_ko, bug="leak"))
    assert [f["kind"] for f in kernel.findings] == ["left-registered"]
    assert "order-0 page block" in kernel.findings[0]["message"]


STRUCT_PAGE = r'''#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/mm.h>
static int __init spage_init(void)
{
	struct page *page = alloc_pages(GFP_KERNEL, 2);
	struct page *other;
	struct sysinfo si;
	char *buf, *kbuf;

	if (!page)
		return -ENOMEM;
	buf = page_address(page);
	memset(buf, 0x33, 4 * PAGE_SIZE);
	get_page(page);                           /* two references now */
	pr_info("spage: refs=%d same=%d byte=%d\n", page_count(page),
		virt_to_page(buf) == page, buf[4 * PAGE_SIZE - 1]);
	put_page(page);
	kbuf = kmalloc(100, GFP_KERNEL);
	other = virt_to_page(kbuf);               /* a slab page: in use, one reference */
	pr_info("spage: kmalloc page refs=%d addr_ok=%d\n", page_count(other),
		page_address(other) == (void *)((unsigned long)kbuf & PAGE_MASK));
	kfree(kbuf);
	si_meminfo(&si);
	pr_info("spage: totalram=%lu unit=%u free_le_total=%d\n", totalram_pages(), si.mem_unit,
		si.freeram <= si.totalram);
	__free_pages(page, 2);
	return 0;
}
static void __exit spage_exit(void) { }
module_init(spage_init);
module_exit(spage_exit);
MODULE_LICENSE("GPL");
'''


def test_struct_pages_of_alloc_pages_and_kmalloc(kernel):
    ko = build_module({"spage.c": STRUCT_PAGE})
    kernel.unload(kernel.load(ko))
    assert "spage: refs=2 same=1 byte=51" in kernel.dmesg
    assert "spage: kmalloc page refs=1 addr_ok=1" in kernel.dmesg
    assert "spage: totalram=117104 unit=4096 free_le_total=1" in kernel.dmesg
    assert kernel.registrations == {}


ZERO_PAGE_SRC = r'''#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
static int __init zp_init(void)
{
	const char *z = page_address(ZERO_PAGE(0));
	int i, sum = 0;

	for (i = 0; i < PAGE_SIZE; i++)
		sum += z[i];
	pr_info("zp: alias=%d sum=%d\n", z == __va(__pa_symbol(empty_zero_page)), sum);
	return 0;
}
static void __exit zp_exit(void) { }
module_init(zp_init);
module_exit(zp_exit);
MODULE_LICENSE("GPL");
'''


def test_zero_page_through_the_direct_map_alias_of_kernel_data(kernel):
    # ZERO_PAGE(0) is virt_to_page(empty_zero_page), a kernel-image address:
    # page_address() of it is the image's direct-map alias, the same bytes
    ko = build_module({"zp.c": ZERO_PAGE_SRC})
    kernel.unload(kernel.load(ko))
    assert "zp: alias=1 sum=0" in kernel.dmesg
