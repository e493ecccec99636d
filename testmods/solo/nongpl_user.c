// SPDX-License-Identifier: GPL-2.0
/*
 * nongpl_user.c - a proprietary module using exporter.ko's plain export
 * exporter_counter and its GPL-only export exporter_gpl_value.  The GPL-only
 * symbol is invisible to it, so the load fails with "Unknown symbol
 * exporter_gpl_value (err -2)".  Built apart (see Kbuild): modpost knows
 * neither symbol, so __versions has no entry for them.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

#include "exporter.h"

static int __init nongpl_user_init(void)
{
	pr_info("nongpl_user: exporter_counter=%d exporter_gpl_value()=0x%x\n",
		exporter_counter, exporter_gpl_value());
	return 0;
}

static void __exit nongpl_user_exit(void)
{
	pr_info("nongpl_user: exit\n");
}

module_init(nongpl_user_init);
module_exit(nongpl_user_exit);

MODULE_LICENSE("Proprietary");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: proprietary module using a GPL-only export");
