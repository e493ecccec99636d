// SPDX-License-Identifier: GPL-2.0
/*
 * kthreads.c - kernel threads that sleep on wait queues, spin on schedule()
 * and fault:
 *
 *   mode=0  a thread sleeps in wait_event_interruptible() until init wakes it
 *           (after msleep) or kthread_stop() ends the wait
 *   mode=1  init spins on schedule() until a thread sets a flag after msleep(5)
 *   mode=2  the thread dereferences NULL 10 ms after it started
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/wait.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/jiffies.h>

static int mode;
module_param(mode, int, 0444);
MODULE_PARM_DESC(mode, "scenario (0-2)");

static DECLARE_WAIT_QUEUE_HEAD(wq);
static int events, flag;
static struct task_struct *thr;

struct victim {
	int pad[4];
	int value;
};

static noinline int poke(struct victim *v)
{
	return READ_ONCE(v->value);
}

static int waiter_fn(void *data)
{
	int ret;

	while (!kthread_should_stop()) {
		ret = wait_event_interruptible(wq, READ_ONCE(flag) || kthread_should_stop());
		if (READ_ONCE(flag)) {
			flag = 0;
			events++;
		}
		if (ret)
			pr_info("kthreads: wait interrupted: %d\n", ret);
	}
	return events;
}

static int setter_fn(void *data)
{
	msleep(5);
	WRITE_ONCE(flag, 1);
	while (!kthread_should_stop())
		msleep(1000);
	return 0;
}

static int crasher_fn(void *data)
{
	msleep(10);
	return poke(data);
}

static int __init kthreads_init(void)
{
	unsigned long t0 = jiffies;

	switch (mode) {
	case 0:
		thr = kthread_run(waiter_fn, NULL, "kthreads_wait");
		msleep(10);
		WRITE_ONCE(flag, 1);
		wake_up_interruptible(&wq);
		msleep(10);
		break;
	case 1:
		thr = kthread_run(setter_fn, NULL, "kthreads_set");
		while (!READ_ONCE(flag))
			schedule();
		break;
	case 2:
		thr = kthread_run(crasher_fn, NULL, "kthreads_crash");
		get_task_struct(thr);
		break;
	}
	if (IS_ERR(thr))
		return PTR_ERR(thr);
	pr_info("kthreads: mode %d init done after %lu jiffies, %s is pid %d\n", mode,
		jiffies - t0, thr->comm, thr->pid);
	return 0;
}

static void __exit kthreads_exit(void)
{
	int ret = kthread_stop(thr);

	if (mode == 2)
		put_task_struct(thr);
	pr_info("kthreads: stopped, ret=%d events=%d\n", ret, events);
}

module_init(kthreads_init);
module_exit(kthreads_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: kernel threads on wait queues, spinning on schedule(), faulting");
