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
