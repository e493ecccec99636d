// SPDX-License-Identifier: GPL-2.0
/*
 * exporter.c - exports a function (EXPORT_SYMBOL), a GPL-only function
 * (EXPORT_SYMBOL_GPL) and data (EXPORT_SYMBOL) for user.ko.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

#include "exporter.h"

int exporter_counter = 42;
EXPORT_SYMBOL(exporter_counter);

const char exporter_name[] = "kemu-exporter";
EXPORT_SYMBOL(exporter_name);

int exporter_add(int a, int b)
{
	exporter_counter++;
	return a + b;
}
EXPORT_SYMBOL(exporter_add);

int exporter_gpl_value(void)
{
	return 0x1234;
}
EXPORT_SYMBOL_GPL(exporter_gpl_value);

static int __init exporter_init(void)
{
	pr_info("exporter: loaded, counter=%d name=%s\n", exporter_counter, exporter_name);
	return 0;
}

static void __exit exporter_exit(void)
{
	pr_info("exporter: exit, counter=%d\n", exporter_counter);
}

module_init(exporter_init);
module_exit(exporter_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: exports a function, a GPL-only function and data");
