// SPDX-License-Identifier: GPL-2.0
/*
 * commonsym.c - keeps a SHN_COMMON symbol.
 *
 * Built with -fcommon (CFLAGS_commonsym.o in the Makefile), the tentative
 * definition below stays a COMMON symbol in the .ko; the kernel refuses
 * such a module ("please compile with -fno-common", -ENOEXEC).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

int kemu_common_var;	/* tentative definition -> SHN_COMMON with -fcommon */

static int __init commonsym_init(void)
{
	kemu_common_var += 5;
	pr_info("commonsym: kemu_common_var=%d\n", kemu_common_var);
	return 0;
}

static void __exit commonsym_exit(void)
{
	pr_info("commonsym: exit (kemu_common_var=%d)\n", kemu_common_var);
}

module_init(commonsym_init);
module_exit(commonsym_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: SHN_COMMON symbol");
