// SPDX-License-Identifier: GPL-2.0
/*
 * noexit.c - has module_init but no module_exit, so it cannot be unloaded
 * (delete_module fails with -EBUSY unless forced).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

static int __init noexit_init(void)
{
	pr_info("noexit: loaded; this module has no exit function\n");
	return 0;
}

module_init(noexit_init);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: module without an exit function");
