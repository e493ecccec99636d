"""kernel/softirq.c: tasklets and the bottom-half enable that runs pending softirqs.

A scheduled tasklet (the inline tasklet_schedule() sets TASKLET_STATE_SCHED,
then calls __tasklet_schedule()) runs in the softirq context at the next
scheduling point, when bottom halves are re-enabled (local_bh_enable(),
spin_unlock_bh()) or when k.advance() lets the CPU idle; a disabled one
(``count`` > 0) waits until it is enabled. Scheduled tasklets are
registrations ("tasklet <func>"): one still scheduled when its module's exit
has returned is reported.
"""
from kemu import export
from kemu.kernel.log import KERN_NOTICE, KERN_WARNING
from kemu.abi.exports import members

from .sched.core import PRIO_HI, PRIO_TASKLET, SoftItem, caller, sched

members("struct tasklet_struct", "next", "state", "count", "use_callback", "func", "callback",
        "data")


class Tasklets:
    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        t = k.target
        self.o = {name: t.offset(f"tasklet_struct.{name}")
                  for name in ("next", "state", "count", "use_callback", "func", "callback",
                               "data")}
        self.SCHED = 1 << t.const("TASKLET_STATE_SCHED")
        self.RUN = 1 << t.const("TASKLET_STATE_RUN")
        self.queued: dict = {}           # tasklet -> softirq priority
        self.disabled: list = []         # (tasklet, prio) waiting for count == 0
        self.waiters: list = []
        self.s.idle_hooks.append((self._enabled_pending, self._requeue_enabled))
        self.s.gone_hooks.append(self._module_gone)

    def state(self, t: int) -> int:
        return self.k.machine.read_u64(t + self.o["state"])

    def set_state(self, t: int, value: int) -> None:
        self.k.machine.write_u64(t + self.o["state"], value)

    def fn(self, t: int):
        m = self.k.machine
        if m.read_u8(t + self.o["use_callback"]):
            return m.read_u64(t + self.o["callback"]), t
        return m.read_u64(t + self.o["func"]), m.read_u64(t + self.o["data"])

    def schedule(self, t: int, prio: int) -> None:
        k, s = self.k, self.s
        fn, _ = self.fn(t)
        owner = s.owner_of(fn) or s.owner_of(t)
        k.register("tasklet", t, owner, f"tasklet {s.symbol(fn)}")
        if t in self.queued:
            return
        self.queued[t] = prio
        self._raise(t, prio, fn, owner)

    def _raise(self, t, prio, fn, owner):
        def prepare():
            if t not in self.queued:
                return None
            m = self.k.machine
            if m.read_u32(t + self.o["count"]):
                self.disabled.append((t, prio))
                return None
            del self.queued[t]
            state = self.state(t)
            if not state & self.SCHED:
                self.k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
                self.k.log.emit(KERN_WARNING, f"tasklet SCHED state not set: {self.s.symbol(fn)} "
                                   f"{self.k.format_addr(fn)}")
                self._finished(t)
                return None
            self.set_state(t, (state | self.RUN) & ~self.SCHED)
            func, arg = self.fn(t)
            return func, (arg,)

        def done(rax, count):
            self.set_state(t, self.state(t) & ~self.RUN)
            self._finished(t)

        self.s.raise_softirq(SoftItem(prio, "tasklet", prepare, done,
                                      entry=f"tasklet {self.s.symbol(fn)}", owner=owner, obj=t))

    def _finished(self, t: int) -> None:
        if t not in self.queued:
            self.k.unregister("tasklet", t)
        waiters, self.waiters = self.waiters, []
        for task in waiters:
            self.s.wake_up_process(task)

    def _enabled_pending(self) -> bool:
        m = self.k.machine
        return any(not m.read_u32(t + self.o["count"]) for t, _ in self.disabled)

    def _requeue_enabled(self) -> bool:
        m = self.k.machine
        still, again = [], []
        for t, prio in self.disabled:
            (again if not m.read_u32(t + self.o["count"]) else still).append((t, prio))
        self.disabled = still
        for t, prio in again:
            fn, _ = self.fn(t)
            self._raise(t, prio, fn, self.s.owner_of(fn))
        return bool(again)

    def wait_until(self, pred, label, where):
        s = self.s
        while not pred():
            task = s.current()
            if task.kind == "softirq":
                s.soft_lockup(task, f"{label}() from a softirq callback waits for a tasklet "
                                    "that cannot run")
            self.waiters.append(task)
            s.set_state(task, s.TASK_UNINTERRUPTIBLE)
            yield from s.schedule(label, caller=where)

    def _module_gone(self, mod) -> None:
        for t in list(self.queued):
            fn, _ = self.fn(t) if not mod.within(t) else (0, 0)
            if mod.within(t) or self.s.owner_of(fn) is mod:
                del self.queued[t]
        self.disabled = [(t, p) for t, p in self.disabled if t in self.queued]


def tasklets(k) -> Tasklets:
    return k.model(Tasklets)


@export("void tasklet_setup(struct tasklet_struct *t, "
        "void (*callback)(struct tasklet_struct *))")
def tasklet_setup(k, t, callback):
    tl = tasklets(k)
    m = k.machine
    m.write_u64(t + tl.o["next"], 0)
    m.write_u64(t + tl.o["state"], 0)
    m.write_u32(t + tl.o["count"], 0)
    m.write_u8(t + tl.o["use_callback"], 1)
    m.write_u64(t + tl.o["callback"], callback)
    m.write_u64(t + tl.o["data"], 0)


@export("void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), "
        "unsigned long data)")
def tasklet_init(k, t, func, data_):
    tl = tasklets(k)
    m = k.machine
    m.write_u64(t + tl.o["next"], 0)
    m.write_u64(t + tl.o["state"], 0)
    m.write_u32(t + tl.o["count"], 0)
    m.write_u8(t + tl.o["use_callback"], 0)
    m.write_u64(t + tl.o["func"], func)
    m.write_u64(t + tl.o["data"], data_)


@export("void __tasklet_schedule(struct tasklet_struct *t)")
def __tasklet_schedule(k, t):
    tasklets(k).schedule(t, PRIO_TASKLET)


@export("void __tasklet_hi_schedule(struct tasklet_struct *t)")
def __tasklet_hi_schedule(k, t):
    tasklets(k).schedule(t, PRIO_HI)


@export("void tasklet_kill(struct tasklet_struct *t)")
def tasklet_kill(k, t):
    tl = tasklets(k)
    s = tl.s
    where = caller(k)
    if s.in_interrupt():
        k.log.emit(KERN_NOTICE, "Attempt to kill tasklet from interrupt")
    while True:
        state = tl.state(t)
        if not state & tl.SCHED:
            tl.set_state(t, state | tl.SCHED)
            break
        yield from tl.wait_until(lambda: not tl.state(t) & tl.SCHED, "tasklet_kill", where)
    yield from tl.wait_until(lambda: not tl.state(t) & tl.RUN, "tasklet_kill", where)
    tl.set_state(t, tl.state(t) & ~tl.SCHED)
    tl.queued.pop(t, None)
    k.unregister("tasklet", t)


@export("void tasklet_unlock_wait(struct tasklet_struct *t)")
def tasklet_unlock_wait(k, t):
    tl = tasklets(k)
    yield from tl.wait_until(lambda: not tl.state(t) & tl.RUN, "tasklet_unlock_wait",
                             caller(k))


@export("void tasklet_unlock_spin_wait(struct tasklet_struct *t)")
def tasklet_unlock_spin_wait(k, t):
    tl = tasklets(k)
    if tl.state(t) & tl.RUN:
        tl.s.soft_lockup(tl.s.current(), "tasklet_unlock_spin_wait() spins on a running "
                                         "tasklet that cannot finish")


@export("void tasklet_unlock(struct tasklet_struct *t)")
def tasklet_unlock(k, t):
    tl = tasklets(k)
    tl.set_state(t, tl.state(t) & ~tl.RUN)
    tl._finished(t)


@export("void __local_bh_enable_ip(unsigned long ip, unsigned int cnt)")
def __local_bh_enable_ip(k, ip, cnt):
    s = sched(k)
    s.add_preempt(-cnt)
    yield from s.run_softirqs()


@export("void _local_bh_enable(void)")
def _local_bh_enable(k):
    s = sched(k)
    s.add_preempt(-s.SOFTIRQ_DISABLE_OFFSET)
