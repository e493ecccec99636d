// SPDX-License-Identifier: GPL-2.0
/*
 * user.c - uses every symbol exporter.ko exports (so it depends on
 * exporter: loading it alone fails with Unknown symbol, and exporter cannot
 * be unloaded while user is loaded).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

#include "exporter.h"

static int __init user_init(void)
{
	int sum = exporter_add(2, 3);

	pr_info("user: exporter_add(2, 3)=%d\n", sum);
	pr_info("user: exporter_gpl_value()=0x%x\n", exporter_gpl_value());
	exporter_counter += 100;
	pr_info("user: exporter_counter=%d exporter_name=%s\n",
		exporter_counter, exporter_name);
	return 0;
}

static void __exit user_exit(void)
{
	pr_info("user: exit, exporter_counter=%d\n", exporter_counter);
}

module_init(user_init);
module_exit(user_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: uses the symbols exporter.ko exports");
