// SPDX-License-Identifier: GPL-2.0
/*
 * locking.c - locks, completions, wait queues and RCU, used right (bug=0) or
 * with one classic mistake selected by the bug parameter:
 *
 *   1  mutex_lock() of a mutex the task holds (self-deadlock)
 *   2  spin_lock() of a spinlock the task holds (spinlock recursion)
 *   3  spin_unlock() of a spinlock nobody holds
 *   4  msleep() with a spinlock held (scheduling while atomic)
 *   5  init returns with a mutex and rcu_read_lock() held
 *   6  wait_for_completion() that nothing completes
 *   7  wait_for_completion_interruptible() that nothing completes
 *   8  exit queues call_rcu() without rcu_barrier()
 *   9  a lock taken in a timer and with plain spin_lock() in process context
 */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/init.h>
#include <linux/spinlock.h>
#include <linux/rwlock.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/semaphore.h>
#include <linux/completion.h>
#include <linux/wait.h>
#include <linux/kthread.h>
#include <linux/delay.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/jiffies.h>
#include <linux/sched.h>

static int bug;
module_param(bug, int, 0444);
MODULE_PARM_DESC(bug, "which mistake to make (0: none)");

static DEFINE_SPINLOCK(slock);
static DEFINE_RWLOCK(rwl);
static DEFINE_MUTEX(mtx);
static DECLARE_RWSEM(rws);
static struct semaphore sem;
static DECLARE_COMPLETION(started);
static struct completion done;
static DECLARE_WAIT_QUEUE_HEAD(wq);
static int flag;
static struct timer_list tmr;
static int rcu_freed;

struct item {
	int value;
	struct rcu_head rcu;
};

static struct item __rcu *current_item;

static void free_item(struct rcu_head *head)
{
	struct item *it = container_of(head, struct item, rcu);

	rcu_freed += it->value;
	kfree(it);
}

static void tmr_fn(struct timer_list *t)
{
	if (bug == 9) {
		spin_lock(&slock);
		spin_unlock(&slock);
	}
	flag = 1;
	wake_up_interruptible(&wq);
}

static int holder_fn(void *data)
{
	mutex_lock(&mtx);
	complete(&started);
	msleep(20);
	mutex_unlock(&mtx);
	down(&sem);
	up(&sem);
	complete(&done);
	return 0;
}

static int __init locking_init(void)
{
	unsigned long flags, t0 = jiffies;
	struct task_struct *thr;
	struct item *it, *old;
	long left;
	int ret;

	spin_lock(&slock);
	spin_unlock(&slock);
	spin_lock_irqsave(&slock, flags);
	pr_info("locking: irqs_disabled=%d locked=%d\n", (int)irqs_disabled(),
		(int)spin_is_locked(&slock));
	spin_unlock_irqrestore(&slock, flags);
	spin_lock_bh(&slock);
	pr_info("locking: in_softirq=%d\n", (int)!!in_softirq());
	spin_unlock_bh(&slock);
	read_lock(&rwl);
	read_lock(&rwl);
	read_unlock(&rwl);
	read_unlock(&rwl);
	write_lock_bh(&rwl);
	write_unlock_bh(&rwl);
	pr_info("locking: trylock=%d\n", spin_trylock(&slock));
	spin_unlock(&slock);

	down_read(&rws);
	down_read(&rws);
	pr_info("locking: rwsem locked=%d write_trylock=%d\n", rwsem_is_locked(&rws),
		down_write_trylock(&rws));
	up_read(&rws);
	up_read(&rws);
	down_write(&rws);
	downgrade_write(&rws);
	up_read(&rws);

	sema_init(&sem, 1);
	init_completion(&done);

	thr = kthread_run(holder_fn, NULL, "locking_holder");
	if (IS_ERR(thr))
		return PTR_ERR(thr);
	wait_for_completion(&started);
	down(&sem);
	pr_info("locking: holder has the mutex: %d, trylock=%d\n", mutex_is_locked(&mtx),
		mutex_trylock(&mtx));
	mutex_lock(&mtx);
	pr_info("locking: got the mutex after %lu jiffies\n", jiffies - t0);
	mutex_unlock(&mtx);
	left = wait_for_completion_timeout(&done, msecs_to_jiffies(100));
	pr_info("locking: completion timed out: %d\n", left == 0);
	up(&sem);
	wait_for_completion(&done);
	pr_info("locking: down_trylock=%d\n", down_trylock(&sem));
	up(&sem);

	left = wait_event_timeout(wq, flag, msecs_to_jiffies(40));
	pr_info("locking: wait_event_timeout returned %ld\n", left);
	timer_setup(&tmr, tmr_fn, 0);
	mod_timer(&tmr, jiffies + 5);
	ret = wait_event_interruptible(wq, flag);
	pr_info("locking: woken by the timer: ret=%d flag=%d\n", ret, flag);

	it = kmalloc(sizeof(*it), GFP_KERNEL);
	if (!it)
		return -ENOMEM;
	it->value = 1;
	rcu_assign_pointer(current_item, it);
	rcu_read_lock();
	pr_info("locking: rcu value %d\n", rcu_dereference(current_item)->value);
	rcu_read_unlock();
	it = kmalloc(sizeof(*it), GFP_KERNEL);
	it->value = 10;
	old = rcu_replace_pointer(current_item, it, true);
	call_rcu(&old->rcu, free_item);
	synchronize_rcu();
	pr_info("locking: after synchronize_rcu freed=%d\n", rcu_freed);
	old = rcu_replace_pointer(current_item, NULL, true);
	kfree_rcu(old, rcu);
	rcu_barrier();

	switch (bug) {
	case 1:
		mutex_lock(&mtx);
		mutex_lock(&mtx);
		break;
	case 2:
		spin_lock(&slock);
		spin_lock(&slock);
		break;
	case 3:
		spin_unlock(&slock);
		break;
	case 4:
		spin_lock(&slock);
		msleep(1);
		spin_unlock(&slock);
		break;
	case 5:
		mutex_lock(&mtx);
		rcu_read_lock();
		break;
	case 6:
		reinit_completion(&done);
		wait_for_completion(&done);
		break;
	case 7:
		reinit_completion(&done);
		ret = wait_for_completion_interruptible(&done);
		pr_info("locking: interrupted: %d\n", ret);
		return ret;
	case 9:
		flag = 0;
		mod_timer(&tmr, jiffies + 1);
		spin_lock(&slock);
		spin_unlock(&slock);
		wait_event_interruptible(wq, flag);
		break;
	}
	pr_info("locking: done\n");
	return 0;
}

static void __exit locking_exit(void)
{
	if (bug == 8) {
		struct item *it = kmalloc(sizeof(*it), GFP_KERNEL);

		it->value = 100;
		call_rcu(&it->rcu, free_item);
	}
	del_timer_sync(&tmr);
	pr_info("locking: exit freed=%d\n", rcu_freed);
}

module_init(locking_init);
module_exit(locking_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("kemu project");
MODULE_DESCRIPTION("kemu test: locks, completions, wait queues and RCU");
