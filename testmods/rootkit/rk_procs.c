// SPDX-License-Identifier: GPL-2.0
/*
 * rk_procs.c - a rootkit-style test module: walks the task list from
 * init_task as a process-hiding rootkit does (for_each_process), finds tasks
 * by pid (find_vpid/pid_task, and find_task_by_vpid through kallsyms), reads
 * their comm and credentials, and enumerates vmlinux's symbols with
 * kallsyms_on_each_symbol() (not exported: found with kallsyms_lookup_name,
 * itself found through a kprobe's addr).
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kallsyms.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/string.h>

typedef unsigned long (*kln_t)(const char *name);
typedef struct task_struct *(*find_task_t)(pid_t nr);
typedef int (*each_fn_t)(void *data, const char *name, struct module *mod,
			 unsigned long addr);
typedef int (*on_each_t)(each_fn_t fn, void *data);

struct sym_search {
	const char *name;
	unsigned long addr;
	unsigned long visited;
};

static int sym_visit(void *data, const char *name, struct module *mod, unsigned long addr)
{
	struct sym_search *s = data;

	s->visited++;
	if (strcmp(name, s->name))
		return 0;
	s->addr = addr;
	return 1;
}

static kln_t find_kln(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	kln_t kln;

	if (register_kprobe(&kp) < 0)
		return NULL;
	kln = (kln_t)kp.addr;
	unregister_kprobe(&kp);
	return kln;
}

static int __init rk_procs_init(void)
{
	struct task_struct *p, *first = next_task(&init_task);
	struct sym_search s = { .name = "init_task" };
	find_task_t find_task;
	on_each_t on_each;
	char buf[KSYM_SYMBOL_LEN];
	int self = 0, ret;
	kln_t kln;

	pr_info("rk_procs: init_task: %s pid %d flags %#x uid %u, first process pid %d\n",
		init_task.comm, init_task.pid, init_task.flags & (PF_KTHREAD | PF_IDLE),
		from_kuid(&init_user_ns, init_task.cred->uid), first->pid);
	rcu_read_lock();
	for_each_process(p) {
		if (p == current)
			self = 1;
		if (p->real_parent == NULL || p->group_leader != p)
			pr_info("rk_procs: odd task %d\n", p->pid);
	}
	rcu_read_unlock();
	pr_info("rk_procs: %s on the task list: %s, pid_task(find_vpid(pid)) is current: %s\n",
		current->comm, self ? "yes" : "no",
		pid_task(find_vpid(current->pid), PIDTYPE_PID) == current ? "yes" : "no");

	kln = find_kln();
	if (!kln)
		return -ENOENT;
	find_task = (find_task_t)kln("find_task_by_vpid");
	on_each = (on_each_t)kln("kallsyms_on_each_symbol");
	if (!find_task || !on_each)
		return -ENOENT;
	pr_info("rk_procs: find_task_by_vpid(%d) is current: %s, find_task_by_vpid(0): %px\n",
		current->pid, find_task(current->pid) == current ? "yes" : "no", find_task(0));
	ret = on_each(sym_visit, &s);
	pr_info("rk_procs: kallsyms_on_each_symbol returned %d after %lu symbols: %s %s\n",
		ret, s.visited, s.name,
		s.addr == kln("init_task") && s.addr == (unsigned long)&init_task ?
		"where kallsyms_lookup_name says" : "elsewhere");
	sprint_symbol(buf, kln("commit_creds") + 4);
	pr_info("rk_procs: %pS, %s, %ps\n", (void *)kln("prepare_creds"), buf, (void *)on_each);
	return 0;
}

static void __exit rk_procs_exit(void)
{
}

module_init(rk_procs_init);
module_exit(rk_procs_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kemu test: the task list from init_task, kallsyms_on_each_symbol");
