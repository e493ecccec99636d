// SPDX-License-Identifier: GPL-2.0
/*
 * warnbug.c - WARN_ON(), WARN_ONCE() and BUG() from module code.
 *
 * mode=warn: WARN_ON(1) twice and WARN_ONCE(1, ...) twice, then init succeeds
 * (a WARN reports and execution goes on; WARN_ONCE reports once).
 * mode=bug:  BUG() in a helper: "kernel BUG at ...warnbug.c:LINE!" ends init.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/bug.h>

static char *mode = "warn";
module_param(mode, charp, 0444);

static int warned;

static noinline void warnbug_check(int value)
{
	if (WARN_ON(value > 1))
		warned++;
	WARN_ONCE(value > 1, "warnbug: value %d is too big\n", value);
}

static noinline void warnbug_die(void)
{
	BUG();
}

static int __init warnbug_init(void)
{
	if (!strcmp(mode, "bug")) {
		pr_info("warnbug: about to BUG\n");
		warnbug_die();
		pr_info("warnbug: survived BUG\n");
		return 0;
	}
	warnbug_check(2);
	warnbug_check(3);
	pr_info("warnbug: warned %d times, still running\n", warned);
	return 0;
}

static void __exit warnbug_exit(void)
{
	pr_info("warnbug: exit\n");
}

module_init(warnbug_init);
module_exit(warnbug_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: WARN_ON, WARN_ONCE and BUG");
