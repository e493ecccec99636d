// SPDX-License-Identifier: GPL-2.0
/*
 * leaky.c - a module with the two classic exit bugs: a kmalloc() buffer that is
 * never freed and a /proc/leaky entry that exit does not remove. fixed=1 frees
 * and removes both.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static bool fixed;
module_param(fixed, bool, 0444);
MODULE_PARM_DESC(fixed, "free the buffer and remove /proc/leaky at exit");

static char *buf;

static int leaky_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", buf);
	return 0;
}

static int __init leaky_init(void)
{
	buf = kmalloc(100, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	strscpy(buf, "leaky buffer", 100);
	if (!proc_create_single("leaky", 0444, NULL, leaky_show)) {
		kfree(buf);
		return -ENOMEM;
	}
	pr_info("leaky: loaded\n");
	return 0;
}

static void __exit leaky_exit(void)
{
	if (fixed) {
		remove_proc_entry("leaky", NULL);
		kfree(buf);
	}
	pr_info("leaky: unloaded\n");
}

module_init(leaky_init);
module_exit(leaky_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: a leak and a /proc entry left registered at exit");
