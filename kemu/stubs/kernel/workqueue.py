"""kernel/workqueue.c: workqueues run by kworker tasks on their own stacks.

A queued work item sets WORK_STRUCT_PENDING in ``work->data`` (the inline
work_pending() sees it) and is run by a worker task, which clears the bit and
calls ``work->func(work)``; a worker that sleeps inside a work item lets
another worker take the next item (concurrency management), and an ordered
workqueue (max_active 1) runs one item at a time. Workers run when the
queueing task sleeps (msleep, flush_work(), cancel_work_sync(),
destroy_workqueue()...) and when k.advance() lets the CPU go idle. A delayed
work is its timer (``delayed_work_timer_fn``) plus the queueing.

Queued and delayed work items are registrations ("work <func>", "delayed
work <func>"), as are workqueues from alloc_workqueue(): one still there when
its module's exit has returned is reported.
"""
import collections

from kemu import data, export
from kemu.abi.exports import members
from kemu.kernel.log import KERN_ERR, KERN_WARNING
from kemu.module.module import Entry
from kemu.abi.exports import members

from .printk import vformat
from .sched.core import IDLE, RUNNABLE, RUNNING, caller, sched
from .time.timer import timers

members("struct work_struct", "data", "func")
members("struct delayed_work", "work", "timer", "wq", "cpu")

WORK_BUSY_PENDING, WORK_BUSY_RUNNING = 1 << 0, 1 << 1      # include/linux/workqueue.h
WQ_NAME_LEN = 24
WQ_UNBOUND_MAX_ACTIVE = 512


class Workqueue:
    def __init__(self, addr, name, flags, max_active, owner):
        self.addr, self.name, self.flags, self.max_active, self.owner = \
            addr, name, flags, max_active, owner
        self.active = 0
        self.destroyed = False
        self.draining = False


class Work:
    def __init__(self, addr):
        self.addr = addr
        self.wq = None
        self.queued = False
        self.running_on = None
        self.func = 0
        self.seq_queued = self.seq_started = self.seq_done = 0


class Workqueues:
    """The workqueues, the queued work and the worker pool of the one CPU."""

    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        t = k.target
        self.o_data = t.offset("work_struct.data")
        self.o_func = t.offset("work_struct.func")
        self.o_dwork = t.offset("delayed_work.work")
        self.o_timer = t.offset("delayed_work.timer")
        self.o_wq = t.offset("delayed_work.wq")
        self.o_cpu = t.offset("delayed_work.cpu")
        self.PENDING = t.const("WORK_STRUCT_PENDING")
        self.wqs: dict = {}
        self.works: dict = {}
        self.queue = collections.deque()
        self.workers: list = []
        self.waiters: list = []
        self.s.sleep_hooks.append(self._worker_sleeping)
        self.s.gone_hooks.append(self._module_gone)

    # ------------------------------------------------------- workqueues
    def new_wq(self, name: str, flags: int, max_active: int, owner=None, register=True):
        k, t = self.k, self.k.target
        c = t.const
        if flags & c("WQ_UNBOUND") and max_active == 1:
            flags |= c("__WQ_ORDERED")
        limit = WQ_UNBOUND_MAX_ACTIVE if flags & c("WQ_UNBOUND") else c("WQ_MAX_ACTIVE")
        max_active = max_active or c("WQ_DFL_ACTIVE")
        if max_active < 1 or max_active > limit:
            k.log.emit(KERN_WARNING, f"workqueue: max_active {max_active} requested for {name} is out of "
                          f"range, clamping between 1 and {limit}")
            max_active = min(max(max_active, 1), limit)
        if flags & c("__WQ_ORDERED"):
            max_active = 1
        addr = k.heap.alloc(512, kind="workqueue_struct", zero=True)
        k.machine.write(addr, name.encode()[:WQ_NAME_LEN - 1] + b"\0")
        wq = Workqueue(addr, name, flags, max_active, owner)
        self.wqs[addr] = wq
        if register:
            k.register("workqueue", addr, owner, f"workqueue {name}")
        return wq

    def work(self, addr: int) -> Work:
        w = self.works.get(addr)
        if w is None:
            w = self.works[addr] = Work(addr)
        return w

    def data(self, work: int) -> int:
        return self.k.machine.read_u64(work + self.o_data)

    def set_pending(self, work: int, on: bool) -> None:
        m = self.k.machine
        value = m.read_u64(work + self.o_data)
        m.write_u64(work + self.o_data, value | self.PENDING if on else value & ~self.PENDING)

    def test_and_set_pending(self, work: int) -> bool:
        was = bool(self.data(work) & self.PENDING)
        if not was:
            self.set_pending(work, True)
        return was

    # ---------------------------------------------------------- queueing
    def queue_work(self, wq_addr: int, work: int) -> None:
        """__queue_work(): PENDING is already set."""
        k, s = self.k, self.s
        wq = self.wqs.get(wq_addr)
        func = k.machine.read_u64(work + self.o_func)
        owner = s.owner_of(func) or s.owner_of(work)
        if wq is None or wq.destroyed:
            what = "a destroyed workqueue" if wq else f"an unknown workqueue {wq_addr:#x}"
            k.finding("workqueue", f"work {s.symbol(func)} queued on {what}", owner)
            self.set_pending(work, False)
            return
        w = self.work(work)
        w.wq, w.func = wq, func
        if not w.queued:
            w.queued = True
            w.seq_queued += 1
            self.queue.append(w)
        k.register("work", work, owner, f"work {s.symbol(func)}")
        self.kick()

    def queue_delayed(self, cpu: int, wq_addr: int, dwork: int, delay: int) -> None:
        """__queue_delayed_work(): PENDING is already set."""
        m = self.k.machine
        m.write_u64(dwork + self.o_wq, wq_addr)
        m.write_u32(dwork + self.o_cpu, cpu)
        work = dwork + self.o_dwork
        if not delay:
            self.queue_work(wq_addr, work)
            return
        timers(self.k).arm(dwork + self.o_timer, (self.k.jiffies() + delay) & (2 ** 64 - 1))

    def grab_pending(self, work: int, is_dwork: bool) -> int:
        """try_to_grab_pending(): 1 if it was pending (now it is ours), 0 if not; PENDING set."""
        k = self.k
        if is_dwork:
            tm = timers(k)
            timer = work - self.o_dwork + self.o_timer
            if tm.pending(timer):
                tm.detach(timer)
                return 1
        if not self.test_and_set_pending(work):
            return 0
        w = self.works.get(work)
        if w is not None and w.queued:
            self.queue.remove(w)
            w.queued = False
            w.seq_queued -= 1
            k.unregister("work", work)
            self._wake_waiters()
        return 1

    # ----------------------------------------------------------- workers
    def _startable(self):
        for w in self.queue:
            if w.wq.active < w.wq.max_active and w.running_on is None:
                return w
        return None

    def kick(self) -> None:
        """Make sure a worker will take the startable work."""
        if self._startable() is None:
            return
        if any(t.state in (RUNNING, RUNNABLE) for t in self.workers):
            return
        for task in self.workers:
            if task.state == IDLE:
                break
        else:
            task = self.s.new_task(f"kworker/0:{len(self.workers)}", "kworker",
                                   state=self.s.TASK_RUNNING)
            task.can_start = self._take
            task.on_return = self._done
            task.on_abort = self._abort
            self.workers.append(task)
        task.state = RUNNABLE
        self.s.runq.append(task)

    def _take(self, task) -> bool:
        """A worker picks the next work item (worker_thread -> process_one_work)."""
        w = self._startable()
        if w is None:
            task.state = IDLE
            return False
        k, s = self.k, self.s
        self.queue.remove(w)
        w.queued = False
        w.running_on = task
        w.seq_started = w.seq_queued
        w.wq.active += 1
        self.set_pending(w.addr, False)
        k.unregister("work", w.addr)
        func = k.machine.read_u64(w.addr + self.o_func)
        w.func = func
        owner = s.owner_of(func) or s.owner_of(w.addr)
        task.data["work"] = w
        task.entry = Entry(f"work {s.symbol(func)}", owner)
        task.start = (func, (w.addr,))
        task.preempt = s.preempt_base
        task.irq_flags = s.IF
        return True

    def _finish(self, task, w) -> None:
        w.running_on = None
        w.seq_done = w.seq_started
        w.wq.active -= 1
        task.data.pop("work", None)
        self._wake_waiters()

    def _done(self, task, rax) -> None:
        k, s = self.k, self.s
        w = task.data.get("work")
        count = s.preempt_count()
        if count or task.locks or task.rcu_nesting:
            owner = s.owner_of(w.func) if w else None
            if count:
                k.log.emit(KERN_ERR, f"BUG: workqueue leaked lock or atomic: {task.comm}/"
                              f"0x{count:08x}/{task.pid}\n     last function: "
                              f"{s.symbol(w.func) if w else '?'}")
                s.m.write_u32(s.preempt_addr, s.preempt_base)
            held = [str(r) for r in task.locks] + (["rcu_read_lock"] if task.rcu_nesting else [])
            k.finding("lock-leak", f"work {s.symbol(w.func) if w else '?'} returned "
                      f"{'holding ' + ', '.join(held) if held else f'with preempt_count {count:#x}'}",
                      owner)
            task.locks.clear()
            task.rcu_nesting = 0
        if s.irqs_disabled():
            s.cpu.irq_flags = s.IF
        if w is not None:
            self._finish(task, w)
        if self._take(task):
            task.state = RUNNABLE
        else:
            task.state = IDLE

    def _abort(self, task) -> None:
        w = task.data.get("work")
        if w is not None:
            self._finish(task, w)

    def _worker_sleeping(self, task) -> None:
        """wq_worker_sleeping(): another worker takes over the pending work."""
        if task.kind == "kworker":
            self.kick()

    def _wake_waiters(self) -> None:
        waiters, self.waiters = self.waiters, []
        for task in waiters:
            self.s.wake_up_process(task)

    def wait_until(self, pred, label: str, where: int):
        """Sleep until ``pred()`` holds, re-checked whenever a work item finishes."""
        s = self.s
        while not pred():
            task = s.current()
            self.waiters.append(task)
            s.set_state(task, s.TASK_UNINTERRUPTIBLE)
            yield from s.schedule(label, caller=where)

    def flush(self, work: int, label: str, where: int):
        """__flush_work() (a generator): True if it waited."""
        w = self.works.get(work)
        if w is None or (not w.queued and w.running_on is None):
            return False
        cur = self.s.current()
        if w.running_on is cur:
            self.s.deadlock_now(cur, label, f"work {self.s.symbol(w.func)} waits in {label}() "
                                            "for itself", False)
        target = w.seq_queued
        yield from self.wait_until(lambda: w.seq_done >= min(target, w.seq_queued),
                                   label, where)
        return True

    def cancel_sync(self, work: int, is_dwork: bool, label: str, where: int):
        """__cancel_work_timer() (a generator)."""
        ret = self.grab_pending(work, is_dwork)
        w = self.works.get(work)
        if w is not None and w.running_on is not None:
            cur = self.s.current()
            if w.running_on is cur:
                self.s.deadlock_now(cur, label, f"work {self.s.symbol(w.func)} waits in "
                                                f"{label}() for itself", False)
            started = w.seq_started
            yield from self.wait_until(lambda: w.seq_done >= started, label, where)
        self.set_pending(work, False)
        return bool(ret)

    def wq_busy(self, wq) -> list:
        return [w for w in self.works.values() if w.wq is wq and (w.queued or w.running_on)]

    def _module_gone(self, mod) -> None:
        for w in list(self.queue):
            if self.s.owner_of(w.func) is mod or mod.within(w.addr):
                self.queue.remove(w)
                w.queued = False


def wqs(k) -> Workqueues:
    return k.model(Workqueues)


# ---------------------------------------------------------- system workqueues
class SystemWorkqueues:
    """system_wq and friends (workqueue_init_early())."""

    def __init__(self, k):
        c = k.target.const
        w = wqs(k)
        self.by_name = {}
        for name, flags, max_active in (
                ("events", 0, 0),
                ("events_highpri", c("WQ_HIGHPRI"), 0),
                ("events_long", 0, 0),
                ("events_unbound", c("WQ_UNBOUND"), WQ_UNBOUND_MAX_ACTIVE),
                ("events_freezable", c("WQ_FREEZABLE"), 0),
                ("events_power_efficient", c("WQ_POWER_EFFICIENT"), 0),
                ("events_freezable_power_efficient",
                 c("WQ_FREEZABLE") | c("WQ_POWER_EFFICIENT"), 0),
                ("pm", c("WQ_FREEZABLE"), 0)):                  # pm_start_workqueue()
            self.by_name[name] = w.new_wq(name, flags, max_active, register=False).addr


def _system_wq(var, name):
    @data(f"struct workqueue_struct *{var}")
    def init(k, addr):
        k.machine.write_u64(addr, k.model(SystemWorkqueues).by_name[name])
    init.__name__ = var


for _var, _name in (("system_wq", "events"), ("system_highpri_wq", "events_highpri"),
                    ("system_long_wq", "events_long"), ("system_unbound_wq", "events_unbound"),
                    ("system_freezable_wq", "events_freezable"),
                    ("system_power_efficient_wq", "events_power_efficient"),
                    ("system_freezable_power_efficient_wq",
                     "events_freezable_power_efficient"), ("pm_wq", "pm"),
                    # 6.17, in 6.12.y too: a second "events" (per-CPU) workqueue and
                    # an unbound one, kemu serves both from the workqueue of that name
                    ("system_percpu_wq", "events"), ("system_dfl_wq", "events_unbound")):
    _system_wq(_var, _name)


# ------------------------------------------------------------------ exports
@export("struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, "
        "int max_active, ...)", fails="NULL")
def alloc_workqueue(k, fmt, flags, max_active, va):
    name = vformat(k, fmt, va).decode("utf-8", "replace")[:WQ_NAME_LEN - 1]
    w = wqs(k)
    owner = w.s.owner_of(caller(k)) or k.current_module()     # the module that called us
    return w.new_wq(name, flags, max_active, owner).addr


@export("void destroy_workqueue(struct workqueue_struct *wq)")
def destroy_workqueue(k, wq_addr):
    w = wqs(k)
    wq = w.wqs.get(wq_addr)
    if wq is None or wq.destroyed:
        k.finding("workqueue", f"destroy_workqueue() of {'a destroyed' if wq else 'an unknown'} "
                  f"workqueue {wq_addr:#x}", k.current_module())
        return
    yield from _drain(k, wq, "destroy_workqueue", caller(k))
    tm = timers(k)
    for timer in list(tm.state):
        dwork = timer - w.o_timer
        if k.machine.read_u64(dwork + w.o_wq) == wq_addr and \
                tm.function(timer) == k.export_addr("delayed_work_timer_fn"):
            owner, what = tm.describe(timer, tm.function(timer))
            k.finding("workqueue", f"destroy_workqueue({wq.name}) while {what} is still "
                      "pending on it", owner)
    wq.destroyed = True
    k.unregister("workqueue", wq_addr)


def _drain(k, wq, label, where):
    w = wqs(k)
    wq.draining = True
    yield from w.wait_until(lambda: not w.wq_busy(wq), label, where)
    wq.draining = False


@export("void drain_workqueue(struct workqueue_struct *wq)")
def drain_workqueue(k, wq_addr):
    wq = wqs(k).wqs.get(wq_addr)
    if wq is not None:
        yield from _drain(k, wq, "drain_workqueue", caller(k))


@export("void flush_workqueue(struct workqueue_struct *wq)", until="6.1")   # 5.10's name
@export("void __flush_workqueue(struct workqueue_struct *wq)")
def __flush_workqueue(k, wq_addr):
    w = wqs(k)
    wq = w.wqs.get(wq_addr)
    if wq is None:
        return
    snapshot = [(item, item.seq_queued) for item in w.wq_busy(wq)]
    cur = w.s.current()
    for item, _ in snapshot:
        if item.running_on is cur:
            w.s.deadlock_now(cur, "flush_workqueue", f"work {w.s.symbol(item.func)} flushes "
                             f"its own workqueue {wq.name}", False)
    yield from w.wait_until(
        lambda: all(item.seq_done >= min(target, item.seq_queued) for item, target in snapshot),
        "flush_workqueue", caller(k))


@export("bool queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work)")
def queue_work_on(k, cpu, wq, work):
    w = wqs(k)
    if w.test_and_set_pending(work):
        return False
    w.queue_work(wq, work)
    return True


@export("bool queue_work_node(int node, struct workqueue_struct *wq, struct work_struct *work)")
def queue_work_node(k, node, wq, work):
    return queue_work_on(k, 0, wq, work)


@export("bool queue_delayed_work_on(int cpu, struct workqueue_struct *wq, "
        "struct delayed_work *dwork, unsigned long delay)")
def queue_delayed_work_on(k, cpu, wq, dwork, delay):
    w = wqs(k)
    if w.test_and_set_pending(dwork + w.o_dwork):
        return False
    w.queue_delayed(cpu, wq, dwork, delay)
    return True


@export("bool mod_delayed_work_on(int cpu, struct workqueue_struct *wq, "
        "struct delayed_work *dwork, unsigned long delay)")
def mod_delayed_work_on(k, cpu, wq, dwork, delay):
    w = wqs(k)
    ret = w.grab_pending(dwork + w.o_dwork, True)
    w.queue_delayed(cpu, wq, dwork, delay)
    return bool(ret)


@export("void delayed_work_timer_fn(struct timer_list *t)")
def delayed_work_timer_fn(k, t):
    w = wqs(k)
    dwork = t - w.o_timer
    m = k.machine
    w.queue_work(m.read_u64(dwork + w.o_wq), dwork + w.o_dwork)


@export("bool cancel_work_sync(struct work_struct *work)")
def cancel_work_sync(k, work):
    return (yield from wqs(k).cancel_sync(work, False, "cancel_work_sync", caller(k)))


@export("bool cancel_delayed_work_sync(struct delayed_work *dwork)")
def cancel_delayed_work_sync(k, dwork):
    w = wqs(k)
    return (yield from w.cancel_sync(dwork + w.o_dwork, True, "cancel_delayed_work_sync",
                                     caller(k)))


@export("bool cancel_work(struct work_struct *work)")
def cancel_work(k, work):
    w = wqs(k)
    ret = w.grab_pending(work, False)
    w.set_pending(work, False)
    return bool(ret)


@export("bool cancel_delayed_work(struct delayed_work *dwork)")
def cancel_delayed_work(k, dwork):
    w = wqs(k)
    ret = w.grab_pending(dwork + w.o_dwork, True)
    w.set_pending(dwork + w.o_dwork, False)
    return bool(ret)


@export("bool flush_work(struct work_struct *work)")
def flush_work(k, work):
    return (yield from wqs(k).flush(work, "flush_work", caller(k)))


@export("bool flush_delayed_work(struct delayed_work *dwork)")
def flush_delayed_work(k, dwork):
    w = wqs(k)
    tm = timers(k)
    timer = dwork + w.o_timer
    where = caller(k)
    yield from tm.wait_running(timer, "flush_delayed_work")
    if tm.detach_if_pending(timer):
        w.queue_work(k.machine.read_u64(dwork + w.o_wq), dwork + w.o_dwork)
    return (yield from w.flush(dwork + w.o_dwork, "flush_delayed_work", where))


@export("unsigned int work_busy(struct work_struct *work)")
def work_busy(k, work):
    w = wqs(k)
    ret = WORK_BUSY_PENDING if w.data(work) & w.PENDING else 0
    item = w.works.get(work)
    if item is not None and item.running_on is not None:
        ret |= WORK_BUSY_RUNNING
    return ret


@export("struct work_struct *current_work(void)")
def current_work(k):
    task = sched(k).current()
    item = task.data.get("work") if task.kind == "kworker" else None
    return item.addr if item else 0


@export("bool workqueue_congested(int cpu, struct workqueue_struct *wq)")
def workqueue_congested(k, cpu, wq):
    return False


@export("void workqueue_set_max_active(struct workqueue_struct *wq, int max_active)")
def workqueue_set_max_active(k, wq_addr, max_active):
    wq = wqs(k).wqs.get(wq_addr)
    if wq is not None and not wq.flags & k.target.const("__WQ_ORDERED"):
        wq.max_active = max(1, min(max_active, k.target.const("WQ_MAX_ACTIVE")))
        wqs(k).kick()


@export("void set_worker_desc(const char *fmt, ...)")
def set_worker_desc(k, fmt, va):
    pass



members("struct execute_work", "work")


@export("int execute_in_process_context(void (*fn)(struct work_struct *work), "
        "struct execute_work *ew)")
def execute_in_process_context(k, fn, ew):
    """Called from process context (kemu's module code always is, outside IRQs and
    softirqs): ``fn(&ew->work)`` runs at once and 0 is returned."""
    yield k.call_request(fn, ew + k.target.offset("execute_work.work"))
    return 0
