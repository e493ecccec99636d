// SPDX-License-Identifier: GPL-2.0
/*
 * timerwork.c - deferred work on the virtual clock: a periodic timer that
 * schedules a tasklet, a work item on an ordered workqueue, a self-requeueing
 * delayed work, an hrtimer restarted with hrtimer_forward_now() and a kthread
 * looping on msleep() until kthread_stop(). Exit prints how often each ran.
 *
 *   leave_timer=1   exit does not delete the timer (left registered)
 *   leave_work=1    exit does not cancel the delayed work
 *   no_stop=1       exit does not stop the kthread
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/timer.h>
#include <linux/workqueue.h>
#include <linux/interrupt.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched.h>

static int period_ms = 100;
module_param(period_ms, int, 0444);
MODULE_PARM_DESC(period_ms, "timer period (ms)");
static bool leave_timer;
module_param(leave_timer, bool, 0444);
MODULE_PARM_DESC(leave_timer, "exit leaves the timer armed");
static bool leave_work;
module_param(leave_work, bool, 0444);
MODULE_PARM_DESC(leave_work, "exit leaves the delayed work pending");
static bool no_stop;
module_param(no_stop, bool, 0444);
MODULE_PARM_DESC(no_stop, "exit does not stop the kthread");

static struct timer_list tmr;
static int timer_fired;
static unsigned long armed_at, fired_at[8];
static struct tasklet_struct tl;
static int tasklet_ran;
static struct work_struct work;
static int work_ran;
static struct delayed_work dwork;
static int dwork_ran;
static struct hrtimer hrt;
static int hr_fired;
static ktime_t hr_at[8];
static struct task_struct *thr;
static int thread_loops;
static struct workqueue_struct *wq;
static struct kthread_worker *kw;
static struct kthread_work kwork;
static struct kthread_delayed_work kdwork;
static int kwork_ran, kdwork_ran;

static void kwork_fn(struct kthread_work *w)
{
	kwork_ran++;
}

static void kdwork_fn(struct kthread_work *w)
{
	kdwork_ran++;
}

static void tl_fn(struct tasklet_struct *t)
{
	tasklet_ran++;
}

static void tmr_fn(struct timer_list *t)
{
	if (timer_fired < 8)
		fired_at[timer_fired] = jiffies - armed_at;
	timer_fired++;
	if (timer_fired < 5)
		mod_timer(t, jiffies + msecs_to_jiffies(period_ms));
	tasklet_schedule(&tl);
}

static void work_fn(struct work_struct *w)
{
	work_ran++;
	pr_info("timerwork: work ran in %s, in_task=%d\n", current->comm, (int)in_task());
}

static void dwork_fn(struct work_struct *w)
{
	dwork_ran++;
	if (dwork_ran < 3)
		schedule_delayed_work(&dwork, HZ / 10);
}

static enum hrtimer_restart hr_fn(struct hrtimer *t)
{
	if (hr_fired < 8)
		hr_at[hr_fired] = ktime_get();
	hr_fired++;
	if (hr_fired < 4) {
		hrtimer_forward_now(t, ms_to_ktime(25));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

static int thr_fn(void *data)
{
	while (!kthread_should_stop()) {
		thread_loops++;
		msleep(50);
	}
	pr_info("timerwork: %s stops after %d loops\n", current->comm, thread_loops);
	return 42;
}

static int __init timerwork_init(void)
{
	ktime_t t0 = ktime_get();

	pr_info("timerwork: HZ=%d jiffies=%lu\n", HZ, jiffies);
	tasklet_setup(&tl, tl_fn);
	timer_setup(&tmr, tmr_fn, 0);
	armed_at = jiffies;
	mod_timer(&tmr, jiffies + msecs_to_jiffies(period_ms));
	wq = alloc_ordered_workqueue("timerwork_%d", 0, 7);
	if (!wq)
		return -ENOMEM;
	INIT_WORK(&work, work_fn);
	queue_work(wq, &work);
	INIT_DELAYED_WORK(&dwork, dwork_fn);
	schedule_delayed_work(&dwork, HZ / 10);
	hrtimer_init(&hrt, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	hrt.function = hr_fn;
	hrtimer_start(&hrt, ms_to_ktime(25), HRTIMER_MODE_REL);
	thr = kthread_run(thr_fn, NULL, "timerwork_thr");
	if (IS_ERR(thr))
		return PTR_ERR(thr);
	kw = kthread_create_worker(0, "timerwork_kw");
	if (IS_ERR(kw))
		return PTR_ERR(kw);
	kthread_init_work(&kwork, kwork_fn);
	kthread_init_delayed_work(&kdwork, kdwork_fn);
	kthread_queue_work(kw, &kwork);
	kthread_flush_work(&kwork);
	kthread_queue_delayed_work(kw, &kdwork, msecs_to_jiffies(200));
	pr_info("timerwork: pending=%d work_pending=%d\n", timer_pending(&tmr),
		work_pending(&work));
	msleep(10);
	pr_info("timerwork: msleep(10) took %lld us, work_ran=%d loops=%d\n",
		ktime_us_delta(ktime_get(), t0), work_ran, thread_loops);
	udelay(30);
	flush_workqueue(wq);
	return 0;
}

static void __exit timerwork_exit(void)
{
	int ret = 0, i;

	if (!no_stop)
		ret = kthread_stop(thr);
	if (!leave_timer)
		del_timer_sync(&tmr);
	if (!leave_work)
		cancel_delayed_work_sync(&dwork);
	hrtimer_cancel(&hrt);
	tasklet_kill(&tl);
	destroy_workqueue(wq);
	kthread_cancel_delayed_work_sync(&kdwork);
	kthread_destroy_worker(kw);
	pr_info("timerwork: kthread_worker work=%d delayed=%d\n", kwork_ran, kdwork_ran);
	for (i = 0; i < timer_fired && i < 5; i++)
		pr_info("timerwork: timer %d at +%lu jiffies\n", i, fired_at[i]);
	for (i = 1; i < hr_fired && i < 4; i++)
		pr_info("timerwork: hrtimer period %lld us\n", ktime_us_delta(hr_at[i], hr_at[i - 1]));
	pr_info("timerwork: timer=%d tasklet=%d work=%d dwork=%d hrtimer=%d thread=%d ret=%d\n",
		timer_fired, tasklet_ran, work_ran, dwork_ran, hr_fired, thread_loops, ret);
}

module_init(timerwork_init);
module_exit(timerwork_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: timers, work, tasklets, hrtimers and a kthread on the virtual clock");
