// SPDX-License-Identifier: GPL-2.0
/*
 * kcalls.c - kernel-call throughput benchmark.
 *
 * n iterations of kmalloc(64) + strscpy + strlen + kfree; prints the total
 * length so the work cannot be optimised away.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/string.h>

static int n = 100000;
module_param(n, int, 0444);
MODULE_PARM_DESC(n, "number of kmalloc/strscpy/strlen/kfree rounds (default 100000)");

static int __init kcalls_init(void)
{
	unsigned long len = 0;
	char *p;
	int i;

	for (i = 0; i < n; i++) {
		p = kmalloc(64, GFP_KERNEL);
		if (!p) {
			pr_err("kcalls: kmalloc failed at iteration %d\n", i);
			return -ENOMEM;
		}
		strscpy(p, "abcdefghijklmnopqrstuvwxyz0123456789", 64);
		len += strlen(p);
		kfree(p);
	}
	pr_info("kcalls: n=%d total=%lu\n", n, len);
	return 0;
}

static void __exit kcalls_exit(void)
{
	pr_info("kcalls: exit\n");
}

module_init(kcalls_init);
module_exit(kcalls_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: kmalloc/strscpy/strlen/kfree call throughput");
