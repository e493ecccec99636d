// SPDX-License-Identifier: GPL-2.0
/*
 * dupexport.c - exports its own exporter_add: it loads alone, but not
 * while exporter.ko is loaded ("exports duplicate symbol", -ENOEXEC).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

int exporter_add(int a, int b)
{
	return a + b + 1000;
}
EXPORT_SYMBOL(exporter_add);

static int __init dupexport_init(void)
{
	pr_info("dupexport: loaded, exporter_add(1, 2)=%d\n", exporter_add(1, 2));
	return 0;
}

static void __exit dupexport_exit(void)
{
	pr_info("dupexport: exit\n");
}

module_init(dupexport_init);
module_exit(dupexport_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: exports a symbol exporter.ko exports too");
