// SPDX-License-Identifier: GPL-2.0
/*
 * refs.c - module reference counting on itself.
 *
 * init takes and drops references in pairs (try_module_get/module_put,
 * __module_get/module_put) and prints module_refcount() after each step;
 * exit shows that try_module_get() fails once the module is going and what
 * module_refcount() says then.  With underflow=1, exit also calls
 * module_put() once more than it got (the kernel WARNs and ignores it).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

static bool underflow;
module_param(underflow, bool, 0444);
MODULE_PARM_DESC(underflow, "exit puts a reference it does not hold (default N)");

static int __init refs_init(void)
{
	bool got;

	pr_info("refs: init refcount=%d\n", module_refcount(THIS_MODULE));
	got = try_module_get(THIS_MODULE);
	pr_info("refs: try_module_get=%d refcount=%d\n", got, module_refcount(THIS_MODULE));
	module_put(THIS_MODULE);
	pr_info("refs: module_put refcount=%d\n", module_refcount(THIS_MODULE));
	__module_get(THIS_MODULE);
	pr_info("refs: __module_get refcount=%d\n", module_refcount(THIS_MODULE));
	module_put(THIS_MODULE);
	pr_info("refs: module_put refcount=%d\n", module_refcount(THIS_MODULE));
	return 0;
}

static void __exit refs_exit(void)
{
	bool got = try_module_get(THIS_MODULE);

	pr_info("refs: exit try_module_get=%d refcount=%d\n", got, module_refcount(THIS_MODULE));
	if (got)
		module_put(THIS_MODULE);
	if (underflow) {
		module_put(THIS_MODULE);
		pr_info("refs: after extra module_put refcount=%d\n", module_refcount(THIS_MODULE));
	}
}

module_init(refs_init);
module_exit(refs_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: try_module_get/__module_get/module_put on itself");
