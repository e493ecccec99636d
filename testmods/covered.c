// SPDX-License-Identifier: GPL-2.0
/*
 * covered.c - known line counts for kemu's line coverage: init calls
 * covered_step() `n` times (parameter), then takes one of two branches
 * depending on the sum; covered_unused() never runs.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

static int n = 3;
module_param(n, int, 0444);
MODULE_PARM_DESC(n, "how many steps init takes");

static noinline int covered_step(int i)
{
	return i * i + 1;
}

noinline int covered_unused(int x)
{
	pr_info("covered: unused %d\n", x);
	return x + 1;
}
EXPORT_SYMBOL_GPL(covered_unused);

static int __init covered_init(void)
{
	int i, sum = 0;

	for (i = 0; i < n; i++)
		sum += covered_step(i);
	if (sum > 100)
		pr_info("covered: big sum %d\n", sum);
	else
		pr_info("covered: small sum %d\n", sum);
	return 0;
}

static void __exit covered_exit(void)
{
	pr_info("covered: exit\n");
}

module_init(covered_init);
module_exit(covered_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: line coverage with known counts");
