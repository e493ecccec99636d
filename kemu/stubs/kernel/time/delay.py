"""kernel/time/timer.c (msleep), kernel/time/hrtimer.c (usleep_range_state), arch/x86/lib/delay.c.

Sleeps are the kernel's loops around schedule_timeout() and hrtimer
sleepers: the task sleeps and others run while the virtual clock moves on;
msleep(10) at HZ=250 sleeps until the wheel expires a timeout of
msecs_to_jiffies(10) + 1 jiffies, as on the real kernel. usleep_range(min,
max) wakes at ``max`` (the hrtimer is programmed for the hard expiry, and
nothing else interrupts the idle CPU). udelay()/ndelay()/mdelay() busy-wait:
the clock moves on and only interrupts (softirqs) may run meanwhile, and only
when the caller is not atomic. The delay loop runs on a 1 GHz TSC
(loops_per_jiffy = 4000000 at HZ=250): one loop is one nanosecond.
"""
from kemu import data, export

from ..sched.core import NSEC_PER_SEC, caller, sched
from .jiffies import jiffies_to_msecs, msecs_to_jiffies

TSC_HZ = 1_000_000_000


def loops_per_jiffy(k) -> int:
    return TSC_HZ // k.HZ


@data("unsigned long loops_per_jiffy")
def _loops_per_jiffy(k, addr):
    k.machine.write_u64(addr, loops_per_jiffy(k))


def delay_loops(k, loops: int):
    """__delay(): ``loops`` TSC cycles (a generator)."""
    yield from sched(k).delay(loops * NSEC_PER_SEC // TSC_HZ)


def const_udelay(k, xloops: int):
    """__const_udelay(): the 32x32->64 multiply of arch/x86/lib/delay.c, then __delay()."""
    lpj = loops_per_jiffy(k)
    a = (xloops * 4) & 0xFFFFFFFF
    b = (lpj * (k.HZ // 4)) & 0xFFFFFFFF
    yield from delay_loops(k, ((a * b) >> 32) + 1)


@export("void __delay(unsigned long loops)")
def __delay(k, loops):
    yield from delay_loops(k, loops)


@export("void __const_udelay(unsigned long xloops)")
def __const_udelay(k, xloops):
    yield from const_udelay(k, xloops)


@export("void __udelay(unsigned long usecs)")
def __udelay(k, usecs):
    yield from const_udelay(k, usecs * 0x000010C7)


@export("void __ndelay(unsigned long nsecs)")
def __ndelay(k, nsecs):
    yield from const_udelay(k, nsecs * 0x00005)


@export("void msleep(unsigned int msecs)")
def msleep(k, msecs):
    s = sched(k)
    where = caller(k)
    timeout = msecs_to_jiffies(k, msecs) + 1
    while timeout:
        s.set_state(s.current(), s.TASK_UNINTERRUPTIBLE)
        timeout = yield from s.schedule_timeout(timeout, "msleep", where)


@export("unsigned long msleep_interruptible(unsigned int msecs)")
def msleep_interruptible(k, msecs):
    s = sched(k)
    where = caller(k)
    timeout = msecs_to_jiffies(k, msecs) + 1
    while timeout and not s.signal_pending(s.current()):
        s.set_state(s.current(), s.TASK_INTERRUPTIBLE)
        timeout = yield from s.schedule_timeout(timeout, "msleep_interruptible", where)
    return jiffies_to_msecs(k, timeout)


@export("void usleep_range(unsigned long min, unsigned long max)", until="6.1")
def usleep_range(k, lo, hi):
    """5.10: usleep_range() is the export; 5.17 made it usleep_range_state(..., TASK_UNINTERRUPTIBLE)."""
    return (yield from usleep_range_state(k, lo, hi, sched(k).TASK_UNINTERRUPTIBLE))


@export("void usleep_range_state(unsigned long min, unsigned long max, unsigned int state)")
def usleep_range_state(k, lo, hi, state):
    s = sched(k)
    where = caller(k)
    expires = k.clock_ns + lo * 1000
    delta = ((hi - lo) & 0xFFFFFFFFFFFFFFFF) * 1000
    while True:
        s.set_state(s.current(), state)
        if not (yield from s.schedule_hrtimeout(expires + delta, "usleep_range", where)):
            break
