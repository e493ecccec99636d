// SPDX-License-Identifier: GPL-2.0
/*
 * rk_hide.c - a rootkit-style test module: hides itself from the module list.
 *
 * The classic trick: list_del(&THIS_MODULE->list) in init. /proc/modules and
 * lsmod no longer list it, rmmod cannot find it, /sys/module/rk_hide stays.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/list.h>

static int __init rk_hide_init(void)
{
	pr_info("rk_hide: hiding from the module list\n");
	list_del(&THIS_MODULE->list);
	return 0;
}

static void __exit rk_hide_exit(void)
{
	pr_info("rk_hide: exit\n");
}

module_init(rk_hide_init);
module_exit(rk_hide_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: a module that unlinks itself from the module list");
