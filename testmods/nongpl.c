// SPDX-License-Identifier: GPL-2.0
/*
 * nongpl.c - a non-GPL-compatible license: loading taints the kernel (P)
 * and GPL-only exports become unavailable to it.  Uses only plain exports.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

static int __init nongpl_init(void)
{
	pr_info("nongpl: proprietary module loaded\n");
	return 0;
}

static void __exit nongpl_exit(void)
{
	pr_info("nongpl: exit\n");
}

module_init(nongpl_init);
module_exit(nongpl_exit);

MODULE_LICENSE("Proprietary");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: module with a proprietary license");
