"""kernel/time/timer.c: timer_list timers on the virtual clock.

An armed timer hangs off a bucket as in the kernel (``entry.pprev`` is set, so
the inline timer_pending() works) and fires at the jiffy the timer wheel would
expire it; its callback runs in the softirq context with the timer_list
pointer. Armed timers are registrations ("timer <callback>", or "delayed
work <func>" for a delayed work's timer): one still armed when its module's
exit has returned is reported and never fires into freed code.
"""
from kemu import export
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from ..sched.core import PRIO_TIMER, SoftItem, caller, sched

members("struct hlist_node", "next", "pprev")
members("struct timer_list", "entry", "expires", "function", "flags")
members("struct work_struct", "func")
members("struct delayed_work", "work", "timer")

LIST_POISON2 = 0xDEAD000000000122        # 0x122 + POISON_POINTER_DELTA (x86_64)
MOD_TIMER_PENDING, MOD_TIMER_REDUCE, MOD_TIMER_NOTPENDING = 0x01, 0x02, 0x04


class Timers:
    """The armed timer_lists of the one CPU's timer base."""

    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        t = k.target
        self.off_fn = t.offset("timer_list.function")
        self.off_expires = t.offset("timer_list.expires")
        self.off_flags = t.offset("timer_list.flags")
        entry = t.offset("timer_list.entry")
        self.off_next = entry + t.offset("hlist_node.next")
        self.off_pprev = entry + t.offset("hlist_node.pprev")
        self.bucket = k.machine.alloc_kdata(t.sizeof("hlist_head"), 8)
        self.state: dict = {}            # timer -> ("armed" | "expired", generation)
        self.gen = 0
        self.running = None              # the timer whose callback runs now
        self.waiters: list = []
        self.s.gone_hooks.append(self._module_gone)

    # ------------------------------------------------------------ helpers
    def function(self, timer: int) -> int:
        return self.k.machine.read_u64(timer + self.off_fn)

    def pending(self, timer: int) -> bool:
        return self.k.machine.read_u64(timer + self.off_pprev) != 0

    def describe(self, timer: int, fn: int):
        """(owner module, registration text) of a timer."""
        k = self.k
        if fn and fn == k.export_addr("delayed_work_timer_fn"):
            t = k.target
            dwork = timer - t.offset("delayed_work.timer")
            func = k.machine.read_u64(dwork + t.offset("delayed_work.work")
                                      + t.offset("work_struct.func"))
            return self.s.owner_of(func) or self.s.owner_of(timer), \
                f"delayed work {self.s.symbol(func)}"
        return self.s.owner_of(fn) or self.s.owner_of(timer), f"timer {self.s.symbol(fn)}"

    def arm(self, timer: int, expires: int) -> None:
        """internal_add_timer(): enqueue at ``expires``."""
        k, m = self.k, self.k.machine
        m.write_u64(timer + self.off_expires, expires)
        m.write_u64(timer + self.off_next, 0)
        m.write_u64(timer + self.off_pprev, self.bucket)
        owner, what = self.describe(timer, self.function(timer))
        k.register("timer", timer, owner, what)
        self.gen += 1
        gen = self.gen
        self.state[timer] = ("armed", gen)
        self.s.arm_wheel(("timer", timer), expires, lambda: self._expire(timer, gen))

    def detach(self, timer: int, clear_pending: bool = True) -> None:
        m = self.k.machine
        m.write_u64(timer + self.off_next, LIST_POISON2)
        if clear_pending:
            m.write_u64(timer + self.off_pprev, 0)
        self.s.disarm(("timer", timer))
        self.state.pop(timer, None)
        self.k.unregister("timer", timer)

    def detach_if_pending(self, timer: int, clear_pending: bool = True) -> int:
        if not self.pending(timer):
            self.state.pop(timer, None)
            self.s.disarm(("timer", timer))
            return 0
        self.detach(timer, clear_pending)
        return 1

    def mod(self, timer: int, expires: int, options: int = 0) -> int:
        """__mod_timer()."""
        m = self.k.machine
        if self.pending(timer):
            old = m.read_u64(timer + self.off_expires)
            if options & MOD_TIMER_REDUCE:
                if ((expires - old) & (1 << 63)) == 0:      # time_before_eq(old, expires)
                    return 1
            elif old == expires:
                return 1
        elif options & MOD_TIMER_PENDING:
            return 0
        if not self.function(timer):                         # shut down: never rearmed
            return 0
        ret = self.detach_if_pending(timer, clear_pending=False)
        self.arm(timer, expires)
        return ret

    # ------------------------------------------------------------ expiry
    def _expire(self, timer: int, gen: int) -> None:
        if self.state.get(timer) != ("armed", gen):
            return
        self.state[timer] = ("expired", gen)
        fn = self.function(timer)
        owner, _ = self.describe(timer, fn)

        def prepare():
            if self.state.get(timer) != ("expired", gen):
                return None                    # deleted or rearmed meanwhile
            fn_now = self.function(timer)
            self.detach(timer)
            if not fn_now:
                return None
            self.running = timer
            return fn_now, (timer,)

        def done(rax, count):
            self.running = None
            for task in self.waiters:
                self.s.wake_up_process(task)
            self.waiters.clear()
            expected = self.s.preempt_base | self.s.SOFTIRQ_OFFSET
            if count != expected & ~self.s.NEED_RESCHED:
                k = self.k
                k.log.emit(KERN_WARNING, "------------[ cut here ]------------")
                k.log.emit(KERN_WARNING, f"timer: {k.format_addr(fn)} preempt leak: {expected:08x} -> "
                              f"{count | self.s.preempt_base:08x}")
                k.add_taint("W", lockdep_unreliable=False)
                k.finding("preempt-leak", f"timer callback {self.s.symbol(fn)} returned with "
                          f"preempt_count {count:#x}", owner)

        self.s.raise_softirq(SoftItem(PRIO_TIMER, "timer", prepare, done,
                                      entry=f"timer {self.s.symbol(fn)}", owner=owner, obj=timer))

    def wait_running(self, timer: int, label: str):
        """Wait until ``timer``'s callback is not running (a generator)."""
        s = self.s
        while self.running == timer:
            task = s.current()
            if task.kind == "softirq":
                s.soft_lockup(task, f"{label}() of timer {s.symbol(self.function(timer))} "
                                    "from its own callback never returns")
            self.waiters.append(task)
            s.set_state(task, s.TASK_UNINTERRUPTIBLE)
            yield from s.schedule(label)

    def _module_gone(self, mod) -> None:
        for timer in list(self.state):
            fn = self.function(timer) if not mod.within(timer) else 0
            owner, _ = self.describe(timer, fn) if fn else (mod, "")
            if owner is mod or mod.within(timer):
                self.state.pop(timer, None)
                self.s.disarm(("timer", timer))


def timers(k) -> Timers:
    return k.model(Timers)


@export("void init_timer_key(struct timer_list *timer, void (*func)(struct timer_list *), "
        "unsigned int flags, const char *name, struct lock_class_key *key)")
def init_timer_key(k, timer, func, flags, name, key):
    tm = timers(k)
    c = k.target.const
    init_flags = c("TIMER_DEFERRABLE") | c("TIMER_PINNED") | c("TIMER_IRQSAFE")
    m = k.machine
    m.write_u64(timer + tm.off_pprev, 0)
    m.write_u64(timer + tm.off_fn, func)
    m.write_u32(timer + tm.off_flags, flags & init_flags)    # | raw_smp_processor_id() (0)


@export("int mod_timer(struct timer_list *timer, unsigned long expires)")
def mod_timer(k, timer, expires):
    return timers(k).mod(timer, expires)


@export("int mod_timer_pending(struct timer_list *timer, unsigned long expires)")
def mod_timer_pending(k, timer, expires):
    return timers(k).mod(timer, expires, MOD_TIMER_PENDING)


@export("int timer_reduce(struct timer_list *timer, unsigned long expires)")
def timer_reduce(k, timer, expires):
    return timers(k).mod(timer, expires, MOD_TIMER_REDUCE)


@export("void add_timer(struct timer_list *timer)")
def add_timer(k, timer):
    tm = timers(k)
    if tm.pending(timer):
        k.finding("timer", f"add_timer() of the pending timer {tm.s.symbol(tm.function(timer))}",
                  k.current_module())
        return
    tm.mod(timer, k.machine.read_u64(timer + tm.off_expires), MOD_TIMER_NOTPENDING)


@export("void add_timer_on(struct timer_list *timer, int cpu)")
def add_timer_on(k, timer, cpu):
    add_timer(k, timer)


# 5.10 exports del_timer()/del_timer_sync(), renamed timer_delete*() in 6.2 (and in 6.1.y)
@export("int del_timer(struct timer_list *timer)", until="6.1")
@export("int timer_delete(struct timer_list *timer)")
def timer_delete(k, timer):
    return timers(k).detach_if_pending(timer)


@export("int try_to_del_timer_sync(struct timer_list *timer)")
def try_to_del_timer_sync(k, timer):
    tm = timers(k)
    if tm.running == timer:
        return -1
    return tm.detach_if_pending(timer)


@export("int del_timer_sync(struct timer_list *timer)", until="6.1")
@export("int timer_delete_sync(struct timer_list *timer)")
def timer_delete_sync(k, timer):
    tm = timers(k)
    yield from tm.wait_running(timer, "timer_delete_sync")
    return tm.detach_if_pending(timer)


@export("int timer_shutdown(struct timer_list *timer)")
def timer_shutdown(k, timer):
    tm = timers(k)
    ret = tm.detach_if_pending(timer)
    k.machine.write_u64(timer + tm.off_fn, 0)
    return ret


@export("int timer_shutdown_sync(struct timer_list *timer)")
def timer_shutdown_sync(k, timer):
    tm = timers(k)
    yield from tm.wait_running(timer, "timer_shutdown_sync")
    ret = tm.detach_if_pending(timer)
    k.machine.write_u64(timer + tm.off_fn, 0)
    return ret


__all__ = ["Timers", "timers", "caller"]
