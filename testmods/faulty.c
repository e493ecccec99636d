// SPDX-License-Identifier: GPL-2.0
/*
 * faulty.c - an error path that leaks: when the second allocation fails,
 * init returns -ENOMEM without freeing the first one. The third allocation's
 * failure is handled correctly, and the misc device registration unwinds
 * both buffers. For kemu's fault injection (kemu faultsweep).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/slab.h>
#include <linux/errno.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>

static char *faulty_buf;
static char *faulty_table;
static char *faulty_name;

static const struct file_operations faulty_fops = {
	.owner = THIS_MODULE,
};

static struct miscdevice faulty_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "faulty",
	.fops = &faulty_fops,
};

static int __init faulty_init(void)
{
	int ret;

	faulty_buf = kzalloc(64, GFP_KERNEL);
	if (!faulty_buf)
		return -ENOMEM;
	faulty_table = kmalloc(256, GFP_KERNEL);
	if (!faulty_table)
		return -ENOMEM;		/* bug: faulty_buf leaks */
	faulty_name = kstrdup("faulty", GFP_KERNEL);
	if (!faulty_name) {
		ret = -ENOMEM;
		goto free_table;
	}
	ret = misc_register(&faulty_dev);
	if (ret)
		goto free_name;
	pr_info("faulty: ready\n");
	return 0;

free_name:
	kfree(faulty_name);
free_table:
	kfree(faulty_table);
	kfree(faulty_buf);
	return ret;
}

static void __exit faulty_exit(void)
{
	misc_deregister(&faulty_dev);
	kfree(faulty_name);
	kfree(faulty_table);
	kfree(faulty_buf);
}

module_init(faulty_init);
module_exit(faulty_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: an error path that leaks when the second allocation fails");
