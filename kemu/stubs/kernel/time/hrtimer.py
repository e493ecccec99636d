"""kernel/time/hrtimer.c: high-resolution timers on the virtual clock.

An hrtimer fires at its hard expiry (``node.expires``) in nanoseconds of its
clock; its callback runs in hard-interrupt context (``HRTIMER_MODE_SOFT``:
the HRTIMER softirq) and restarts it by returning HRTIMER_RESTART.
``timer->base`` points to a real ``hrtimer_clock_base`` whose ``get_time``
works, so the inline hrtimer_forward_now() and hrtimer_cb_get_time() do too.
"""
from kemu import export
from kemu.abi.exports import members

from ..sched.core import PRIO_HARDIRQ, PRIO_HRTIMER, SoftItem, caller, sched, signed64
from .timekeeping import KTIME_MAX, clock_offset

members("struct hrtimer", "node", "node.expires", "_softexpires", "function", "base", "state",
        "is_rel", "is_soft", "is_hard")
members("struct hrtimer_clock_base", "index", "clockid", "get_time", "offset", "cpu_base",
        "running")


class HrTimers:
    """The hrtimer clock bases of the one CPU and the queued hrtimers."""

    def __init__(self, k):
        self.k = k
        self.s = sched(k)
        t = k.target
        c = t.const
        self.o_expires = t.offset("hrtimer.node.expires")
        self.o_soft = t.offset("hrtimer._softexpires")
        self.o_fn = t.offset("hrtimer.function")
        self.o_base = t.offset("hrtimer.base")
        self.o_state = t.offset("hrtimer.state")
        self.o_is_rel = t.offset("hrtimer.is_rel")
        self.o_is_soft = t.offset("hrtimer.is_soft")
        self.o_is_hard = t.offset("hrtimer.is_hard")
        self.ENQUEUED = c("HRTIMER_STATE_ENQUEUED")
        self.NORESTART = c("HRTIMER_NORESTART")
        self.bases: dict = {}            # clockid -> struct hrtimer_clock_base address
        self.clock_of_base: dict = {}
        self.gen = 0
        self.queued: dict = {}           # timer -> generation
        self.running = None
        self.waiters: list = []
        self.s.gone_hooks.append(self._module_gone)

    def base(self, clock_id: int) -> int:
        """The clock base of ``clock_id`` (made on first use)."""
        addr = self.bases.get(clock_id)
        if addr is None:
            k, m, t = self.k, self.k.machine, self.k.target
            addr = m.alloc_kdata(t.sizeof("hrtimer_clock_base"), 64)
            offset = clock_offset(k, clock_id)
            get_time = m.add_slot(f"hrtimer_get_time_clock{clock_id}",
                                  lambda: m.set_return(k.clock_ns + offset))
            m.write_u32(addr + t.offset("hrtimer_clock_base.index"), len(self.bases))
            m.write_u32(addr + t.offset("hrtimer_clock_base.clockid"), clock_id)
            m.write_u64(addr + t.offset("hrtimer_clock_base.get_time"), get_time)
            m.write_u64(addr + t.offset("hrtimer_clock_base.offset"), offset)
            self.bases[clock_id] = addr
            self.clock_of_base[addr] = clock_id
        return addr

    def clock(self, timer: int) -> int:
        base = self.k.machine.read_u64(timer + self.o_base)
        return self.clock_of_base.get(base, self.k.target.const("CLOCK_MONOTONIC"))

    def now(self, timer: int) -> int:
        return self.k.clock_ns + clock_offset(self.k, self.clock(timer))

    def is_queued(self, timer: int) -> bool:
        return bool(self.k.machine.read_u8(timer + self.o_state) & self.ENQUEUED)

    def remove(self, timer: int) -> None:
        self.k.machine.write_u8(timer + self.o_state, 0)
        self.queued.pop(timer, None)
        self.s.disarm(("hrtimer", timer))
        self.k.unregister("hrtimer", timer)

    def enqueue(self, timer: int) -> None:
        """Queue at the timer's hard expiry (already written)."""
        k, m, s = self.k, self.k.machine, self.s
        m.write_u8(timer + self.o_state, self.ENQUEUED)
        expires = signed64(m.read_u64(timer + self.o_expires))
        fn = m.read_u64(timer + self.o_fn)
        owner = s.owner_of(fn) or s.owner_of(timer)
        k.register("hrtimer", timer, owner, f"hrtimer {s.symbol(fn)}")
        self.gen += 1
        gen = self.queued[timer] = self.gen
        mono = expires - clock_offset(k, self.clock(timer))
        s.arm_hr(("hrtimer", timer), mono, lambda: self._expire(timer, gen, owner))

    def _expire(self, timer: int, gen: int, owner) -> None:
        m, s = self.k.machine, self.s
        soft = bool(m.read_u8(timer + self.o_is_soft))
        fn = m.read_u64(timer + self.o_fn)

        def prepare():
            if self.queued.get(timer) != gen:
                return None
            self.remove(timer)
            fn_now = m.read_u64(timer + self.o_fn)
            if not fn_now:
                return None
            self.running = timer
            return fn_now, (timer,)

        def done(rax, count):
            self.running = None
            for task in self.waiters:
                s.wake_up_process(task)
            self.waiters.clear()
            if (rax & 0xFFFFFFFF) != self.NORESTART and not self.is_queued(timer):
                self.enqueue(timer)

        s.raise_softirq(SoftItem(PRIO_HRTIMER if soft else PRIO_HARDIRQ, "hrtimer", prepare,
                                 done, entry=f"hrtimer {s.symbol(fn)}", owner=owner,
                                 offset=None if soft else s.HARDIRQ_OFFSET, irqs_on=soft))

    def try_to_cancel(self, timer: int) -> int:
        if self.running == timer:
            return -1
        if self.is_queued(timer):
            self.remove(timer)
            return 1
        return 0

    def _module_gone(self, mod) -> None:
        m = self.k.machine
        for timer in list(self.queued):
            fn = m.read_u64(timer + self.o_fn) if not mod.within(timer) else 0
            if mod.within(timer) or self.s.owner_of(fn) is mod:
                self.queued.pop(timer, None)
                self.s.disarm(("hrtimer", timer))


def hrtimers(k) -> HrTimers:
    return k.model(HrTimers)


@export("void hrtimer_init(struct hrtimer *timer, clockid_t clock_id, enum hrtimer_mode mode)")
def hrtimer_init(k, timer, clock_id, mode):
    h = hrtimers(k)
    c = k.target.const
    m = k.machine
    m.write(timer, bytes(k.target.sizeof("hrtimer")))
    if clock_id == c("CLOCK_REALTIME") and mode & c("HRTIMER_MODE_REL"):
        clock_id = c("CLOCK_MONOTONIC")
    m.write_u64(timer, timer)                       # RB_CLEAR_NODE(&timer->node.node)
    m.write_u64(timer + h.o_base, h.base(clock_id))
    m.write_u8(timer + h.o_is_soft, 1 if mode & c("HRTIMER_MODE_SOFT") else 0)
    m.write_u8(timer + h.o_is_hard, 1 if mode & c("HRTIMER_MODE_HARD") else 0)


@export("void hrtimer_start_range_ns(struct hrtimer *timer, ktime_t tim, u64 range_ns, "
        "const enum hrtimer_mode mode)")
def hrtimer_start_range_ns(k, timer, tim, range_ns, mode):
    h = hrtimers(k)
    m = k.machine
    if h.is_queued(timer):
        h.remove(timer)
    rel = bool(mode & k.target.const("HRTIMER_MODE_REL"))
    m.write_u8(timer + h.o_is_rel, 1 if rel else 0)
    if rel:
        tim = _add_safe(tim, h.now(timer))
    m.write_u64(timer + h.o_soft, tim)
    m.write_u64(timer + h.o_expires, _add_safe(tim, range_ns))
    h.enqueue(timer)


def _add_safe(a: int, b: int) -> int:
    res = signed64(a + b)
    return KTIME_MAX if res < 0 or res < signed64(a) or res < signed64(b) else res


@export("int hrtimer_try_to_cancel(struct hrtimer *timer)")
def hrtimer_try_to_cancel(k, timer):
    return hrtimers(k).try_to_cancel(timer)


@export("int hrtimer_cancel(struct hrtimer *timer)")
def hrtimer_cancel(k, timer):
    h = hrtimers(k)
    s = h.s
    while True:
        ret = h.try_to_cancel(timer)
        if ret >= 0:
            return ret
        task = s.current()
        if task.kind == "softirq":
            s.soft_lockup(task, "hrtimer_cancel() of an hrtimer from its own callback "
                                "never returns")
        h.waiters.append(task)
        s.set_state(task, s.TASK_UNINTERRUPTIBLE)
        yield from s.schedule("hrtimer_cancel", caller=caller(k))


@export("bool hrtimer_active(const struct hrtimer *timer)")
def hrtimer_active(k, timer):
    h = hrtimers(k)
    return h.is_queued(timer) or h.running == timer


@export("u64 hrtimer_forward(struct hrtimer *timer, ktime_t now, ktime_t interval)")
def hrtimer_forward(k, timer, now, interval):
    h = hrtimers(k)
    m = k.machine
    expires = signed64(m.read_u64(timer + h.o_expires))
    soft = signed64(m.read_u64(timer + h.o_soft))
    delta = now - expires
    if delta < 0:
        return 0
    if h.is_queued(timer):
        k.finding("hrtimer", "hrtimer_forward() of a queued hrtimer", k.current_module())
        return 0
    interval = max(interval, 1)                     # hrtimer_resolution
    orun = 0
    if delta >= interval:
        orun = delta // interval
        expires, soft = _add_safe(expires, interval * orun), _add_safe(soft, interval * orun)
        if expires > now:
            m.write_u64(timer + h.o_expires, expires)
            m.write_u64(timer + h.o_soft, soft)
            return orun
        orun += 1
    m.write_u64(timer + h.o_expires, _add_safe(expires, interval))
    m.write_u64(timer + h.o_soft, _add_safe(soft, interval))
    return orun


@export("ktime_t __hrtimer_get_remaining(const struct hrtimer *timer, bool adjust)")
def __hrtimer_get_remaining(k, timer, adjust):
    h = hrtimers(k)
    return signed64(k.machine.read_u64(timer + h.o_expires)) - h.now(timer)


@export("int schedule_hrtimeout_range_clock(ktime_t *expires, u64 delta, "
        "const enum hrtimer_mode mode, clockid_t clock_id)")
def schedule_hrtimeout_range_clock(k, expires, delta, mode, clock_id):
    return (yield from _schedule_hrtimeout(k, expires, delta, mode, clock_id))


@export("int schedule_hrtimeout_range(ktime_t *expires, u64 delta, const enum hrtimer_mode mode)")
def schedule_hrtimeout_range(k, expires, delta, mode):
    return (yield from _schedule_hrtimeout(k, expires, delta, mode,
                                           k.target.const("CLOCK_MONOTONIC")))


@export("int schedule_hrtimeout(ktime_t *expires, const enum hrtimer_mode mode)")
def schedule_hrtimeout(k, expires, mode):
    return (yield from _schedule_hrtimeout(k, expires, 0, mode,
                                           k.target.const("CLOCK_MONOTONIC")))


def _schedule_hrtimeout(k, expires_ptr, delta, mode, clock_id):
    s = sched(k)
    where = caller(k)
    if expires_ptr:
        value = signed64(k.machine.read_u64(expires_ptr))
        if value == 0:
            s.set_state(s.current(), s.TASK_RUNNING)
            return 0
    else:
        yield from s.schedule("schedule_hrtimeout", caller=where)
        return -4                                   # -EINTR
    if mode & k.target.const("HRTIMER_MODE_REL"):
        when = k.clock_ns + value
    else:
        when = value - clock_offset(k, clock_id)
    return (yield from s.schedule_hrtimeout(when + delta, "schedule_hrtimeout", where))
