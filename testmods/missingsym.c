// SPDX-License-Identifier: GPL-2.0
/*
 * missingsym.c - references a symbol nobody exports.
 *
 * The build succeeds (the Makefile sets KBUILD_MODPOST_WARN so modpost only
 * warns); loading fails with "Unknown symbol kemu_no_such_symbol (err -2)".
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

extern int kemu_no_such_symbol(void);

static int __init missingsym_init(void)
{
	pr_info("missingsym: must never run (got %d)\n", kemu_no_such_symbol());
	return 0;
}

static void __exit missingsym_exit(void)
{
	pr_info("missingsym: exit\n");
}

module_init(missingsym_init);
module_exit(missingsym_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: undefined external symbol");
