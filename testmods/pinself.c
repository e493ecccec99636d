// SPDX-License-Identifier: GPL-2.0
/*
 * pinself.c - takes a reference on itself in init and never drops it, so
 * a normal rmmod fails (refcount 1); only a forced unload removes it.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

static int __init pinself_init(void)
{
	bool got = try_module_get(THIS_MODULE);

	pr_info("pinself: try_module_get(THIS_MODULE)=%d, refcount now %d\n",
		got, module_refcount(THIS_MODULE));
	return 0;
}

static void __exit pinself_exit(void)
{
	/* deliberately no module_put() */
	pr_info("pinself: exit (only reachable by a forced unload)\n");
}

module_init(pinself_init);
module_exit(pinself_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: module pins itself with try_module_get");
