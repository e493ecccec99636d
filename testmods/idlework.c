// SPDX-License-Identifier: GPL-2.0
/*
 * idlework.c - what runs between insmod returning and the shell's next
 * command. init queues a work item, schedules a tasklet, starts a kthread with
 * kthread_run() and arms a timer 1 s ahead, then returns at once. On Linux the
 * work, the tasklet and the thread have all run before the next command (the
 * CPU was idle); the timer has not fired yet. exit stops the thread and
 * deletes the timer.
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/workqueue.h>
#include <linux/interrupt.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/timer.h>
#include <linux/jiffies.h>

static struct task_struct *thr;
static struct timer_list timer;
static int work_runs, tasklet_runs, thread_runs;

static void work_fn(struct work_struct *work)
{
	work_runs++;
	pr_info("idlework: work ran\n");
}
static DECLARE_WORK(work, work_fn);

static void tasklet_fn(struct tasklet_struct *t)
{
	tasklet_runs++;
	pr_info("idlework: tasklet ran\n");
}
static DECLARE_TASKLET(tasklet, tasklet_fn);

static int thread_fn(void *data)
{
	thread_runs++;
	pr_info("idlework: kthread %s ran\n", current->comm);
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static void timer_fn(struct timer_list *t)
{
	pr_info("idlework: timer fired\n");
}

static int __init idlework_init(void)
{
	schedule_work(&work);
	tasklet_schedule(&tasklet);
	thr = kthread_run(thread_fn, NULL, "idlework");
	if (IS_ERR(thr))
		return PTR_ERR(thr);
	timer_setup(&timer, timer_fn, 0);
	mod_timer(&timer, jiffies + HZ);
	pr_info("idlework: init returns\n");
	return 0;
}

static void __exit idlework_exit(void)
{
	kthread_stop(thr);
	del_timer_sync(&timer);
	tasklet_kill(&tasklet);
	flush_work(&work);
	pr_info("idlework: exit: work %d tasklet %d thread %d\n", work_runs, tasklet_runs,
		thread_runs);
}

module_init(idlework_init);
module_exit(idlework_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: work, tasklet and kthread run before the next command");
