// SPDX-License-Identifier: GPL-2.0
/*
 * rk_root.c - a rootkit-style test module: gives the loading task root
 * credentials with commit_creds(prepare_kernel_cred(NULL)), as a "magic signal"
 * backdoor does for the process that sends it.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/uidgid.h>

static int __init rk_root_init(void)
{
	struct cred *cred = prepare_kernel_cred(NULL);

	if (!cred)
		return -ENOMEM;
	commit_creds(cred);
	pr_info("rk_root: %s now has uid %u euid %u\n", current->comm,
		from_kuid(&init_user_ns, current_uid()), from_kuid(&init_user_ns, current_euid()));
	return 0;
}

static void __exit rk_root_exit(void)
{
}

module_init(rk_root_init);
module_exit(rk_root_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: commit_creds(prepare_kernel_cred(NULL))");
