// SPDX-License-Identifier: GPL-2.0
/*
 * positive.c - init returns 1; the kernel warns ("suspiciously returned 1")
 * and loads the module anyway.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

static int __init positive_init(void)
{
	pr_info("positive: init returning 1\n");
	return 1;
}

static void __exit positive_exit(void)
{
	pr_info("positive: exit\n");
}

module_init(positive_init);
module_exit(positive_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: init returns a positive value");
