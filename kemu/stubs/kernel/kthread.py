"""kernel/kthread.c: kernel threads as cooperative tasks with their own stacks.

kthread_create_on_node() makes a task that sleeps until wake_up_process();
it then runs ``threadfn(data)`` on its own 16 KiB stack until that sleeps
(msleep(), schedule_timeout(), wait_event()...), and goes on from there when
woken, so ``while (!kthread_should_stop()) { ...; msleep(n); }`` works.
kthread_stop() sets the stop flag, sends TIF_NOTIFY_SIGNAL (interruptible
sleeps end), wakes the thread and waits for ``threadfn`` to return; a thread
that never ran returns -EINTR without running, as in kthread(). A thread
still alive when its module's exit has returned is reported ("kthread
<comm>") and never runs again.
"""
import errno

from kemu import export
from kemu.kernel.log import KERN_INFO
from kemu.module.module import Entry
from kemu.abi.exports import members

from .printk import vformat
from .sched.core import DEAD, caller, sched

members("struct kthread_worker", "flags", "lock", "work_list", "delayed_work_list", "task",
        "current_work")
members("struct kthread_work", "node", "func", "worker", "canceling")
members("struct kthread_delayed_work", "work", "timer")

PF_EXITING_MSG = "note: {comm}[{pid}] exited with preempt_count {count}"


class KThread:
    """struct kthread: what kthread.c keeps besides the task."""

    def __init__(self, task, threadfn, data):
        self.task, self.threadfn, self.data = task, threadfn, data
        self.started = False
        self.should_stop = False
        self.should_park = False
        self.parked = False
        self.exited = False
        self.result = 0
        self.exit_waiters: list = []
        self.park_waiters: list = []


def to_kthread(task):
    return task.data.get("kthread") if task is not None else None


def _signed32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def create_kthread(k, threadfn: int, data: int, name: str):
    """kthread_create_on_node() without the name formatting."""
    s = sched(k)
    owner = s.owner_of(threadfn) or s.owner_of(caller(k)) or k.current_module()
    task = s.new_task(name, "kthread", owner=owner)
    kt = task.data["kthread"] = KThread(task, threadfn, data)
    kt.task_sched = s
    task.entry = Entry(f"kthread {task.comm}", owner)
    task.can_start = _can_start
    task.on_return = lambda t, rax: _exit(k, t, _signed32(rax), kill=True)
    task.on_abort = lambda t: _finish(k, t, 0)          # killed by the oops: result stays 0
    k.register("kthread", task.ts, owner, f"kthread {task.comm}")
    return task


def _can_start(task) -> bool:
    """kthread(): the first time the woken thread is picked."""
    kt = to_kthread(task)
    s = kt.task_sched
    if kt.should_stop:
        _exit(s.k, task, -errno.EINTR, kill=True)
        return False
    if kt.should_park:
        kt.parked = True
        s.set_state(task, s.TASK_PARKED)
        task.state = "blocked"
        for waiter in kt.park_waiters:
            s.wake_up_process(waiter)
        kt.park_waiters.clear()
        return False
    kt.started = True
    task.start = (kt.threadfn, (kt.data,))
    return True


def _finish(k, task, code: int) -> None:
    """The bookkeeping of do_exit() for a kthread; waiters in kthread_stop() wake."""
    s = sched(k)
    kt = to_kthread(task)
    if kt is None or kt.exited:
        return
    kt.exited = True
    kt.result = code
    k.unregister("kthread", task.ts)
    for waiter in kt.exit_waiters + kt.park_waiters:
        s.wake_up_process(waiter)
    kt.exit_waiters.clear()
    kt.park_waiters.clear()


def _exit(k, task, code: int, kill: bool) -> None:
    s = sched(k)
    if s.cur is task and task.state != DEAD:
        count = s.preempt_count()
        if count:
            k.log.emit(KERN_INFO, PF_EXITING_MSG.format(comm=task.comm, pid=task.pid, count=count))
            s.m.write_u32(s.preempt_addr, s.preempt_base)
        if s.irqs_disabled():
            k.log.emit(KERN_INFO, f"note: {task.comm}[{task.pid}] exited with irqs disabled")
            s.cpu.irq_flags = s.IF
        if task.locks or task.rcu_nesting:
            held = [str(r) for r in task.locks] + \
                (["rcu_read_lock"] if task.rcu_nesting else [])
            k.finding("lock-leak", f"kthread {task.comm}/{task.pid} exited holding "
                      f"{', '.join(held)}", task.owner)
    _finish(k, task, code)
    if kill:
        s.kill(task)


def _current_kthread(k):
    task = sched(k).current()
    return task, to_kthread(task)


@export("struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, "
        "int node, const char namefmt[], ...)", fails="ERR_PTR(-ENOMEM)")
def kthread_create_on_node(k, threadfn, data, node, namefmt, va):
    name = vformat(k, namefmt, va).decode("utf-8", "replace")
    return create_kthread(k, threadfn, data, name).ts


class _OneArg:
    def __init__(self, value):
        self.values = [value]

    def next_int(self):
        return self.values.pop(0) if self.values else 0


@export("struct task_struct *kthread_create_on_cpu(int (*threadfn)(void *data), void *data, "
        "unsigned int cpu, const char *namefmt)")
def kthread_create_on_cpu(k, threadfn, data, cpu, namefmt):
    name = vformat(k, namefmt, _OneArg(cpu)).decode("utf-8", "replace")
    return create_kthread(k, threadfn, data, name).ts


@export("bool kthread_should_stop(void)")
def kthread_should_stop(k):
    _, kt = _current_kthread(k)
    return bool(kt and kt.should_stop)


@export("bool kthread_freezable_should_stop(bool *was_frozen)")
def kthread_freezable_should_stop(k, was_frozen):
    if was_frozen:
        k.machine.write_u8(was_frozen, 0)
    _, kt = _current_kthread(k)
    return bool(kt and kt.should_stop)


@export("bool kthread_should_park(void)")
def kthread_should_park(k):
    _, kt = _current_kthread(k)
    return bool(kt and kt.should_park)


@export("bool __kthread_should_park(struct task_struct *k)")
def __kthread_should_park(k, task_ts):
    kt = to_kthread(sched(k).task_of(task_ts))
    return bool(kt and kt.should_park)


@export("void *kthread_data(struct task_struct *k)")
def kthread_data(k, task_ts):
    kt = to_kthread(sched(k).task_of(task_ts))
    return kt.data if kt else 0


@export("void *kthread_func(struct task_struct *task)")
def kthread_func(k, task_ts):
    kt = to_kthread(sched(k).task_of(task_ts))
    return kt.threadfn if kt else 0


@export("void kthread_bind(struct task_struct *p, unsigned int cpu)")
def kthread_bind(k, p, cpu):
    pass


@export("void kthread_parkme(void)")
def kthread_parkme(k):
    s = sched(k)
    task, kt = _current_kthread(k)
    if kt is None:
        return
    while True:
        s.set_state(task, s.TASK_PARKED)
        if not kt.should_park:
            break
        if not kt.parked:
            kt.parked = True
            for waiter in kt.park_waiters:
                s.wake_up_process(waiter)
            kt.park_waiters.clear()
        yield from s.schedule("kthread_parkme", caller=caller(k))
    s.set_state(task, s.TASK_RUNNING)


@export("int kthread_park(struct task_struct *k)")
def kthread_park(k, task_ts):
    s = sched(k)
    task = s.task_of(task_ts)
    kt = to_kthread(task)
    if kt is None or kt.exited:
        return -errno.ENOSYS
    if kt.should_park:
        return -errno.EBUSY
    kt.should_park = True
    cur = s.current()
    if task is not cur:
        s.wake_up_process(task)
        where = caller(k)
        while not kt.parked and not kt.exited:
            kt.park_waiters.append(cur)
            s.set_state(cur, s.TASK_UNINTERRUPTIBLE)
            yield from s.schedule("kthread_park", caller=where)
    return 0


@export("void kthread_unpark(struct task_struct *k)")
def kthread_unpark(k, task_ts):
    s = sched(k)
    task = s.task_of(task_ts)
    kt = to_kthread(task)
    if kt is None or not kt.should_park:
        return
    kt.should_park = False
    kt.parked = False
    s.ttwu(task, s.TASK_PARKED)


@export("int kthread_stop(struct task_struct *k)")
def kthread_stop(k, task_ts):
    s = sched(k)
    task = s.task_of(task_ts)
    kt = to_kthread(task)
    if kt is None:
        k.finding("kthread", f"kthread_stop() of {task_ts:#x}, which is not a kthread",
                  k.current_module())
        return -errno.EINVAL
    kt.should_stop = True
    if kt.should_park:
        kt.should_park = False
        kt.parked = False
        s.ttwu(task, s.TASK_PARKED)
    if not kt.exited:
        s.set_tif(task, s.TIF_NOTIFY_SIGNAL)
        s.wake_up_process(task)
    cur = s.current()
    if task is cur and not kt.exited:
        s.deadlock_now(cur, "kthread_stop", f"{cur.comm}/{cur.pid} calls kthread_stop() on "
                                            "itself", False)
    where = caller(k)
    while not kt.exited:
        kt.exit_waiters.append(cur)
        s.set_state(cur, s.TASK_UNINTERRUPTIBLE)
        yield from s.schedule("kthread_stop", caller=where)
    return kt.result


def _exit_now(k, code):
    """do_exit() from inside the thread (a generator that never returns)."""
    s = sched(k)
    task = s.current()
    if to_kthread(task) is None:
        k.finding("kthread", f"{task.comm}/{task.pid} calls a kthread exit function but is "
                  "not a kthread", k.current_module())
        return
    _exit(k, task, code, kill=False)
    yield s.block_request("exit")


@export("void kthread_complete_and_exit(struct completion *comp, long code)")
def kthread_complete_and_exit(k, comp, code):
    from .sched.completion import complete
    if comp:
        complete(k, comp)
    yield from _exit_now(k, _signed32(code))


@export("void __module_put_and_kthread_exit(struct module *mod, long code)")
def __module_put_and_kthread_exit(k, mod, code):
    from .module import module_put
    module_put(k, mod)
    yield from _exit_now(k, _signed32(code))


# ----------------------------------------------------------- kthread_worker
class KWorkers:
    """kthread_worker/kthread_work: the work lists live in emulated memory."""

    def __init__(self, k):
        from .sched.wait import waitq
        self.k = k
        self.s = sched(k)
        self.w = waitq(k)
        t = k.target
        self.o_flags = t.offset("kthread_worker.flags")
        self.o_lock = t.offset("kthread_worker.lock")
        self.o_list = t.offset("kthread_worker.work_list")
        self.o_dlist = t.offset("kthread_worker.delayed_work_list")
        self.o_task = t.offset("kthread_worker.task")
        self.o_cur = t.offset("kthread_worker.current_work")
        self.o_node = t.offset("kthread_work.node")
        self.o_func = t.offset("kthread_work.func")
        self.o_worker = t.offset("kthread_work.worker")
        self.o_canceling = t.offset("kthread_work.canceling")
        self.o_dwork = t.offset("kthread_delayed_work.work")
        self.o_timer = t.offset("kthread_delayed_work.timer")
        self.done: dict = {}             # work -> completed runs
        self.waiters: list = []

    def rd(self, addr):
        return self.k.machine.read_u64(addr)

    def init_worker(self, worker: int) -> None:
        m = self.k.machine
        m.write(worker, bytes(self.k.target.sizeof("kthread_worker")))
        self.w.list_init(worker + self.o_list)
        self.w.list_init(worker + self.o_dlist)

    def queuing_blocked(self, work: int) -> bool:
        return not self.w.list_empty(work + self.o_node) or \
            self.k.machine.read_s32(work + self.o_canceling) != 0

    def insert(self, worker: int, work: int, pos: int) -> None:
        """kthread_insert_work(): before ``pos``."""
        k, s = self.k, self.s
        self.w.list_add_tail(work + self.o_node, pos)
        k.machine.write_u64(work + self.o_worker, worker)
        func = self.rd(work + self.o_func)
        k.register("kthread work", work, s.owner_of(func) or s.owner_of(work),
                   f"kthread work {s.symbol(func)}")
        task = s.task_of(self.rd(worker + self.o_task))
        if not self.rd(worker + self.o_cur) and task is not None:
            s.wake_up_process(task)

    def queue_delayed(self, worker: int, dwork: int, delay: int) -> None:
        from .time.timer import timers
        work = dwork + self.o_dwork
        if not delay:
            self.insert(worker, work, worker + self.o_list)
            return
        self.w.list_add(work + self.o_node, worker + self.o_dlist)
        self.k.machine.write_u64(work + self.o_worker, worker)
        timers(self.k).arm(dwork + self.o_timer, (self.k.jiffies() + delay) & (2 ** 64 - 1))

    def cancel(self, work: int, is_dwork: bool) -> bool:
        """__kthread_cancel_work()."""
        if is_dwork:
            from .time.timer import timers
            timers(self.k).detach_if_pending(work - self.o_dwork + self.o_timer)
        if not self.w.list_empty(work + self.o_node):
            self.w.list_del_init(work + self.o_node)
            self.k.unregister("kthread work", work)
            return True
        return False

    def wake_waiters(self) -> None:
        waiters, self.waiters = self.waiters, []
        for task in waiters:
            self.s.wake_up_process(task)

    def wait_until(self, pred, label, where):
        s = self.s
        while not pred():
            task = s.current()
            self.waiters.append(task)
            s.set_state(task, s.TASK_UNINTERRUPTIBLE)
            yield from s.schedule(label, caller=where)

    def flush_work(self, work: int, label: str, where: int):
        worker = self.rd(work + self.o_worker)
        if not worker:
            return
        queued = not self.w.list_empty(work + self.o_node)
        if not queued and self.rd(worker + self.o_cur) != work:
            return
        if self.rd(worker + self.o_cur) == work and \
                self.s.task_of(self.rd(worker + self.o_task)) is self.s.current():
            self.s.deadlock_now(self.s.current(), label, f"kthread work "
                                f"{self.s.symbol(self.rd(work + self.o_func))} flushes itself",
                                False)
        target = self.done.get(work, 0) + (2 if queued and self.rd(worker + self.o_cur) == work
                                           else 1)
        yield from self.wait_until(
            lambda: self.done.get(work, 0) >= target or
            (self.w.list_empty(work + self.o_node) and self.rd(worker + self.o_cur) != work),
            label, where)


def kworkers(k) -> KWorkers:
    return k.model(KWorkers)


@export("void __kthread_init_worker(struct kthread_worker *worker, const char *name, "
        "struct lock_class_key *key)")
def __kthread_init_worker(k, worker, name, key):
    kworkers(k).init_worker(worker)


@export("int kthread_worker_fn(void *worker_ptr)")
def kthread_worker_fn(k, worker):
    kw = kworkers(k)
    s, m, w = kw.s, k.machine, kw.w
    task = s.current()
    m.write_u64(worker + kw.o_task, task.ts)
    kt = to_kthread(task)
    while True:
        s.set_state(task, s.TASK_INTERRUPTIBLE)
        if kt is not None and kt.should_stop:
            s.set_state(task, s.TASK_RUNNING)
            m.write_u64(worker + kw.o_task, 0)
            return 0
        work = 0
        head = worker + kw.o_list
        if not w.list_empty(head):
            work = m.read_u64(head + w.next) - kw.o_node
            w.list_del_init(work + kw.o_node)
        m.write_u64(worker + kw.o_cur, work)
        if work:
            s.set_state(task, s.TASK_RUNNING)
            k.unregister("kthread work", work)
            func = m.read_u64(work + kw.o_func)
            saved = task.entry
            task.entry = k.current_entry = Entry(f"kthread work {s.symbol(func)}", s.owner_of(func))
            yield k.call_request(func, work)
            task.entry = k.current_entry = saved
            m.write_u64(worker + kw.o_cur, 0)
            kw.done[work] = kw.done.get(work, 0) + 1
            kw.wake_waiters()
        else:
            yield from s.schedule("kthread_worker_fn")


def _create_worker(k, flags, name):
    kw = kworkers(k)
    worker = k.heap.alloc(k.target.sizeof("kthread_worker"), kind="kthread_worker", zero=True)
    kw.init_worker(worker)
    task = create_kthread(k, k.export_addr("kthread_worker_fn"), worker, name)
    k.machine.write_u32(worker + kw.o_flags, flags)
    k.machine.write_u64(worker + kw.o_task, task.ts)
    kw.s.wake_up_process(task)
    return worker


@export("struct kthread_worker *kthread_create_worker(unsigned int flags, "
        "const char namefmt[], ...)", fails="ERR_PTR(-ENOMEM)")
def kthread_create_worker(k, flags, namefmt, va):
    return _create_worker(k, flags, vformat(k, namefmt, va).decode("utf-8", "replace"))


@export("struct kthread_worker *kthread_create_worker_on_cpu(int cpu, unsigned int flags, "
        "const char namefmt[], ...)")
def kthread_create_worker_on_cpu(k, cpu, flags, namefmt, va):
    return _create_worker(k, flags, vformat(k, namefmt, va).decode("utf-8", "replace"))


@export("bool kthread_queue_work(struct kthread_worker *worker, struct kthread_work *work)")
def kthread_queue_work(k, worker, work):
    kw = kworkers(k)
    if kw.queuing_blocked(work):
        return False
    kw.insert(worker, work, worker + kw.o_list)
    return True


@export("bool kthread_queue_delayed_work(struct kthread_worker *worker, "
        "struct kthread_delayed_work *dwork, unsigned long delay)")
def kthread_queue_delayed_work(k, worker, dwork, delay):
    kw = kworkers(k)
    if kw.queuing_blocked(dwork + kw.o_dwork):
        return False
    kw.queue_delayed(worker, dwork, delay)
    return True


@export("void kthread_delayed_work_timer_fn(struct timer_list *t)")
def kthread_delayed_work_timer_fn(k, t):
    kw = kworkers(k)
    m = k.machine
    work = t - kw.o_timer + kw.o_dwork
    worker = m.read_u64(work + kw.o_worker)
    if not worker or m.read_s32(work + kw.o_canceling):
        return
    kw.w.list_del_init(work + kw.o_node)
    kw.insert(worker, work, worker + kw.o_list)


@export("bool kthread_mod_delayed_work(struct kthread_worker *worker, "
        "struct kthread_delayed_work *dwork, unsigned long delay)")
def kthread_mod_delayed_work(k, worker, dwork, delay):
    kw = kworkers(k)
    work = dwork + kw.o_dwork
    ret = False
    if k.machine.read_u64(work + kw.o_worker):
        if k.machine.read_s32(work + kw.o_canceling):
            return False
        ret = kw.cancel(work, True)
    kw.queue_delayed(worker, dwork, delay)
    return ret


def _cancel_sync(k, work, is_dwork, label):
    kw = kworkers(k)
    m = k.machine
    worker = m.read_u64(work + kw.o_worker)
    if not worker:
        return False
    ret = kw.cancel(work, is_dwork)
    if m.read_u64(worker + kw.o_cur) == work:
        m.write_u32(work + kw.o_canceling, m.read_s32(work + kw.o_canceling) + 1)
        yield from kw.flush_work(work, label, caller(k))
        m.write_u32(work + kw.o_canceling, m.read_s32(work + kw.o_canceling) - 1)
    return ret


@export("bool kthread_cancel_work_sync(struct kthread_work *work)")
def kthread_cancel_work_sync(k, work):
    return (yield from _cancel_sync(k, work, False, "kthread_cancel_work_sync"))


@export("bool kthread_cancel_delayed_work_sync(struct kthread_delayed_work *dwork)")
def kthread_cancel_delayed_work_sync(k, dwork):
    kw = kworkers(k)
    return (yield from _cancel_sync(k, dwork + kw.o_dwork, True,
                                    "kthread_cancel_delayed_work_sync"))


@export("void kthread_flush_work(struct kthread_work *work)")
def kthread_flush_work(k, work):
    yield from kworkers(k).flush_work(work, "kthread_flush_work", caller(k))


def _flush_worker(k, worker, label, where):
    kw = kworkers(k)
    yield from kw.wait_until(lambda: kw.w.list_empty(worker + kw.o_list) and
                             not kw.rd(worker + kw.o_cur), label, where)


@export("void kthread_flush_worker(struct kthread_worker *worker)")
def kthread_flush_worker(k, worker):
    yield from _flush_worker(k, worker, "kthread_flush_worker", caller(k))


@export("void kthread_destroy_worker(struct kthread_worker *worker)")
def kthread_destroy_worker(k, worker):
    kw = kworkers(k)
    where = caller(k)
    task_ts = kw.rd(worker + kw.o_task)
    if not task_ts:
        return
    yield from _flush_worker(k, worker, "kthread_destroy_worker", where)
    yield from kthread_stop(k, task_ts)
    from kemu.stubs.mm.slab import kfree_addr
    kfree_addr(k, worker, "kthread_destroy_worker")
