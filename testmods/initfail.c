// SPDX-License-Identifier: GPL-2.0
/*
 * initfail.c - init fails with -ENODEV; exit must never run.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/errno.h>

static int __init initfail_init(void)
{
	pr_info("initfail: init running, about to return -ENODEV\n");
	return -ENODEV;
}

static void __exit initfail_exit(void)
{
	pr_err("initfail: exit must not run\n");
}

module_init(initfail_init);
module_exit(initfail_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: init returns -ENODEV");
