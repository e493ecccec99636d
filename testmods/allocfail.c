// SPDX-License-Identifier: GPL-2.0
/*
 * allocfail.c - allocations Linux refuses (issue 17's resource limits).
 *
 * An illegal per-CPU size (WARN, then quietly with __GFP_NOWARN), vmalloc()
 * of more than the machine's RAM (warn_alloc()), kmalloc() past
 * KMALLOC_MAX_SIZE (__alloc_pages()' WARN_ON_ONCE). Each returns NULL; init
 * returns -ENODEV so nothing stays loaded.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/percpu.h>

static int __init allocfail_init(void)
{
	void __percpu *p;
	void *v;

	p = __alloc_percpu(1 << 20, 8);
	pr_info("allocfail: percpu 1M -> %s\n", p ? "ok" : "NULL");
	free_percpu(p);
	p = __alloc_percpu_gfp(1 << 20, 8, GFP_KERNEL | __GFP_NOWARN);
	pr_info("allocfail: percpu 1M nowarn -> %s\n", p ? "ok" : "NULL");
	v = vmalloc(1UL << 40);
	pr_info("allocfail: vmalloc 1T -> %s\n", v ? "ok" : "NULL");
	vfree(v);
	v = kmalloc(1UL << 30, GFP_KERNEL);
	pr_info("allocfail: kmalloc 1G -> %s\n", v ? "ok" : "NULL");
	kfree(v);
	pr_info("allocfail: done\n");
	return -ENODEV;
}
module_init(allocfail_init);
MODULE_LICENSE("GPL");
