// SPDX-License-Identifier: GPL-2.0
/*
 * counter.c - a small module to show kemu's pytest plugin.
 *
 * It keeps a counter, starting at the `start` parameter, that counter_add()
 * advances; init and exit log it. Build with -DCOUNTER_BROKEN for the
 * deliberately broken version (an off-by-one in counter_add).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>

static int start;
module_param(start, int, 0444);
MODULE_PARM_DESC(start, "initial value of the counter");

static long *counter;

noinline long counter_add(long delta)
{
#ifdef COUNTER_BROKEN
	*counter += delta + 1;
#else
	*counter += delta;
#endif
	return *counter;
}

static int __init counter_init(void)
{
	if (start < 0) {
		pr_err("counter: start must not be negative (%d)\n", start);
		return -EINVAL;
	}
	counter = kmalloc(sizeof(*counter), GFP_KERNEL);
	if (!counter)
		return -ENOMEM;
	*counter = start;
	pr_info("counter: loaded, start=%d\n", start);
	return 0;
}

static void __exit counter_exit(void)
{
	pr_info("counter: unloading at %ld\n", *counter);
	kfree(counter);
}

module_init(counter_init);
module_exit(counter_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu example: a counter");
