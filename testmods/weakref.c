// SPDX-License-Identifier: GPL-2.0
/*
 * weakref.c - a weak reference to a symbol nobody exports.
 *
 * simplify_symbols() resolves an undefined STB_WEAK symbol that no one
 * exports to 0 instead of failing the load, so the module loads and sees
 * kemu_weak_missing == NULL.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>

extern int kemu_weak_missing(void) __attribute__((weak));

static int __init weakref_init(void)
{
	pr_info("weakref: missing=%d\n", kemu_weak_missing == NULL);
	return 0;
}

static void __exit weakref_exit(void)
{
	pr_info("weakref: exit\n");
}

module_init(weakref_init);
module_exit(weakref_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: unresolved weak symbol resolves to 0");
/* A .modinfo key longer than 15 characters: modinfo's "%s:%-*s" pads it oddly. */
MODULE_INFO(kemu_long_modinfo_key, "padded by abs(15 - keylen)");
