// SPDX-License-Identifier: GPL-2.0
/*
 * oops.c - init writes through a NULL struct pointer (a kernel oops).
 *
 * oops_helper() is noinline and noipa, so it keeps its name and GCC does not
 * specialise it for the NULL argument; the write goes to address 0x8.
 * Load with crash=0 to skip it.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

struct oops_thing {
	long first;
	long second;
};

/* No MODULE_PARM_DESC on purpose: modinfo then shows "parm: crash:bool". */
static bool crash = true;
module_param(crash, bool, 0444);

static noinline __attribute__((__noipa__)) void oops_helper(struct oops_thing *thing)
{
	thing->second = 42;
}

static int __init oopsmod_init(void)
{
	pr_info("oops: crash=%d\n", crash);
	if (crash)
		oops_helper(NULL);
	pr_info("oops: still alive\n");
	return 0;
}

static void __exit oopsmod_exit(void)
{
	pr_info("oops: exit\n");
}

module_init(oopsmod_init);
module_exit(oopsmod_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: NULL pointer write in init (oops)");
