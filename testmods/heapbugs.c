// SPDX-License-Identifier: GPL-2.0
/*
 * heapbugs.c - heap bugs for kemu's sanitizer: bug=oob|uaf|double|invalid|poison.
 * Each bug sits in its own noinline helper so reports can name it.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *bug = "none";
module_param(bug, charp, 0444);

static noinline void heapbugs_overflow(char *buf, int len)
{
	buf[len] = 'X';			/* one byte past the end */
}

static noinline long heapbugs_read_freed(long *p)
{
	return READ_ONCE(*p);
}

static noinline void heapbugs_write_freed(long *p)
{
	WRITE_ONCE(*p, 0x4141414141414141L);
}

static int __init heapbugs_init(void)
{
	char *buf = kmalloc(40, GFP_KERNEL);
	long *obj = kmalloc(sizeof(long) * 4, GFP_KERNEL);

	if (!buf || !obj)
		return -ENOMEM;
	if (!strcmp(bug, "oob"))
		heapbugs_overflow(buf, 40);
	kfree(buf);
	if (!strcmp(bug, "uaf")) {
		kfree(obj);
		pr_info("heapbugs: read %lx\n", heapbugs_read_freed(obj));
		return 0;
	}
	if (!strcmp(bug, "poison")) {
		kfree(obj);
		heapbugs_write_freed(obj);
		return 0;
	}
	if (!strcmp(bug, "double")) {
		kfree(obj);
		kfree(obj);
		return 0;
	}
	if (!strcmp(bug, "invalid")) {
		kfree(obj + 1);
		kfree(obj);
		return 0;
	}
	kfree(obj);
	pr_info("heapbugs: clean\n");
	return 0;
}

static void __exit heapbugs_exit(void)
{
}

module_init(heapbugs_init);
module_exit(heapbugs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: heap bugs for the sanitizers");
