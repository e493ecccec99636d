// SPDX-License-Identifier: GPL-2.0
/*
 * spin.c - init never returns (a soft lockup) while spin_forever is set.
 *
 * spin_forever is a parameter (default Y), so the compiler cannot prove
 * the loop infinite; READ_ONCE() makes every iteration read it again.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/compiler.h>
#include <asm/processor.h>

static bool spin_forever = true;
module_param(spin_forever, bool, 0444);
MODULE_PARM_DESC(spin_forever, "spin in init until cleared (default Y)");

static int __init spin_init(void)
{
	pr_info("spin: spinning\n");
	while (READ_ONCE(spin_forever))
		cpu_relax();
	pr_info("spin: done\n");
	return 0;
}

static void __exit spin_exit(void)
{
	pr_info("spin: exit\n");
}

module_init(spin_init);
module_exit(spin_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: init spins forever (soft lockup)");
