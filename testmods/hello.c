// SPDX-License-Identifier: GPL-2.0
/*
 * hello.c - the bundled kemu sample module.
 *
 * Exercises: charp and int module parameters, pr_info/pr_warn/pr_cont,
 * kmalloc/kfree, snprintf, and an exit function.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *who = "world";
module_param(who, charp, 0444);
MODULE_PARM_DESC(who, "whom to greet (default \"world\")");

static int count = 1;
module_param(count, int, 0444);
MODULE_PARM_DESC(count, "how many greeting lines to print (default 1, capped at 10)");

static int __init hello_init(void)
{
	char *buf;
	int i, n;

	pr_info("hello: hello, %s (count=%d)\n", who, count);

	buf = kmalloc(64, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = snprintf(buf, 64, "%s*%d", who, count);
	pr_info("hello: snprintf gave \"%s\" (%d chars)\n", buf, n);
	kfree(buf);

	for (i = 0; i < count && i < 10; i++)
		pr_info("hello: greeting %d of %d\n", i + 1, count);

	pr_warn("hello: this line is a KERN_WARNING\n");
	pr_info("hello: continued");
	pr_cont(" line\n");
	return 0;
}

static void __exit hello_exit(void)
{
	pr_info("hello: goodbye, %s\n", who);
}

module_init(hello_init);
module_exit(hello_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu sample: hello world with parameters");
