// SPDX-License-Identifier: GPL-2.0
/*
 * rk_sct.c - a rootkit-style test module: finds kallsyms_lookup_name through a
 * kprobe's addr, looks up sys_call_table, clears CR0.WP with a raw mov (6.1's
 * write_cr0() pins WP), replaces openat and restores everything at exit.
 *
 * wp=0 writes the table without clearing WP (a page fault on Linux);
 * pinned=1 tries write_cr0() first (6.1 warns "CR0 WP bit went missing!?").
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/syscalls.h>
#include <linux/uaccess.h>
#include <asm/special_insns.h>

static int wp = 1;
module_param(wp, int, 0444);
static int pinned;
module_param(pinned, int, 0444);

typedef unsigned long (*kln_t)(const char *name);
typedef asmlinkage long (*syscall_t)(const struct pt_regs *regs);

static unsigned long *sct;
static syscall_t orig_openat;

static asmlinkage long hook_openat(const struct pt_regs *regs)
{
	char name[64];

	if (strncpy_from_user(name, (const char __user *)regs->si, sizeof(name)) > 0) {
		name[sizeof(name) - 1] = 0;
		pr_info("rk_sct: openat(\"%s\") by uid %u\n", name,
			from_kuid(&init_user_ns, current_uid()));
	}
	return orig_openat(regs);
}

static inline void cr0_write(unsigned long cr0)
{
	asm volatile("mov %0,%%cr0" : "+r"(cr0) : : "memory");
}

static void set_entry(int nr, unsigned long value)
{
	unsigned long cr0 = read_cr0();

	if (pinned)
		write_cr0(cr0 & ~X86_CR0_WP);
	if (wp)
		cr0_write(cr0 & ~X86_CR0_WP);
	sct[nr] = value;
	if (wp)
		cr0_write(cr0);
}

static int __init rk_sct_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	kln_t kln;
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err("rk_sct: register_kprobe: %d\n", ret);
		return ret;
	}
	kln = (kln_t)kp.addr;
	unregister_kprobe(&kp);
	pr_info("rk_sct: kallsyms_lookup_name at %pS\n", (void *)kln);

	sct = (unsigned long *)kln("sys_call_table");
	if (!sct) {
		pr_err("rk_sct: no sys_call_table\n");
		return -ENOENT;
	}
	pr_info("rk_sct: sys_call_table is %ps, openat is %ps, kill is %ps\n",
		sct, (void *)sct[__NR_openat], (void *)sct[__NR_kill]);
	orig_openat = (syscall_t)sct[__NR_openat];
	set_entry(__NR_openat, (unsigned long)hook_openat);
	pr_info("rk_sct: openat now %ps\n", (void *)sct[__NR_openat]);
	return 0;
}

static void __exit rk_sct_exit(void)
{
	set_entry(__NR_openat, (unsigned long)orig_openat);
	pr_info("rk_sct: openat restored to %ps\n", (void *)sct[__NR_openat]);
}

module_init(rk_sct_init);
module_exit(rk_sct_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: sys_call_table hooking through kallsyms_lookup_name");
