// SPDX-License-Identifier: GPL-2.0
/* kemu warn-site triggers: x_tables templates (real kernel and kemu) */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/netfilter/x_tables.h>

#define MARK(s) pr_info("ws: " s "\n")

static int ws_table_init(struct net *net)
{
	return 0;
}

static const struct xt_table ws_table = { .name = "wstable", .af = NFPROTO_IPV4, .me = THIS_MODULE };

static int __init ws_init(void)
{
	int ret;

	MARK("xt_register_template twice");
	ret = xt_register_template(&ws_table, ws_table_init);
	pr_info("ws: ret %d\n", ret);
	ret = xt_register_template(&ws_table, ws_table_init);
	pr_info("ws: ret %d\n", ret);
	xt_unregister_template(&ws_table);
	MARK("xt_unregister_template unregistered");
	xt_unregister_template(&ws_table);
	MARK("done");
	return 0;
}

static void __exit ws_exit(void)
{
}

module_init(ws_init);
module_exit(ws_exit);
MODULE_LICENSE("GPL");
