"""kernel/time/time.c, kernel/time/timer.c: jiffies and the conversions to and from them.

``jiffies`` and ``jiffies_64`` always hold ``k.jiffies()`` of the virtual
clock (HZ=250, starting at INITIAL_JIFFIES five minutes before the wrap):
the scheduler writes them whenever the clock moves. Module code that polls
them sees time pass (Scheduler.poll_clock()).
"""
from kemu import data, export
from kemu.abi.exports import members

from ..sched.core import MASK64, NSEC_PER_SEC, sched

members("struct timespec64", "tv_sec", "tv_nsec")

MSEC_PER_SEC, USEC_PER_SEC, USER_HZ = 1000, 1_000_000, 100


def tick_nsec(k) -> int:
    """TICK_NSEC: (NSEC_PER_SEC + HZ/2) / HZ."""
    return (NSEC_PER_SEC + k.HZ // 2) // k.HZ


def msecs_to_jiffies(k, m: int) -> int:
    """__msecs_to_jiffies() for HZ dividing 1000."""
    if m & 0x80000000:
        return k.target.const("MAX_JIFFY_OFFSET")
    per = MSEC_PER_SEC // k.HZ
    return (m + per - 1) // per


def usecs_to_jiffies(k, u: int) -> int:
    """__usecs_to_jiffies() for HZ dividing 1000000."""
    if u > jiffies_to_usecs(k, k.target.const("MAX_JIFFY_OFFSET")):
        return k.target.const("MAX_JIFFY_OFFSET")
    per = USEC_PER_SEC // k.HZ
    return (u + per - 1) // per


def jiffies_to_msecs(k, j: int) -> int:
    return ((MSEC_PER_SEC // k.HZ) * j) & 0xFFFFFFFF


def jiffies_to_usecs(k, j: int) -> int:
    return ((USEC_PER_SEC // k.HZ) * j) & 0xFFFFFFFF


def _jiffies_var(size):
    def init(k, addr):
        s = sched(k)
        s.jiffies_addrs.append((addr, size))
        s.set_clock(k.clock_ns)
        k.machine.watch_reads(addr, size, lambda: s.poll_clock())
    return init


data("unsigned long volatile jiffies")(_jiffies_var(8))
data("u64 jiffies_64")(_jiffies_var(8))


@export("unsigned int jiffies_to_msecs(const unsigned long j)")
def _jiffies_to_msecs(k, j):
    return jiffies_to_msecs(k, j)


@export("unsigned int jiffies_to_usecs(const unsigned long j)")
def _jiffies_to_usecs(k, j):
    return jiffies_to_usecs(k, j)


@export("unsigned long __msecs_to_jiffies(const unsigned int m)")
def __msecs_to_jiffies(k, m):
    return msecs_to_jiffies(k, m)


@export("unsigned long __usecs_to_jiffies(const unsigned int u)")
def __usecs_to_jiffies(k, u):
    return usecs_to_jiffies(k, u)


@export("u64 nsecs_to_jiffies64(u64 n)")
def nsecs_to_jiffies64(k, n):
    return n // (NSEC_PER_SEC // k.HZ)


@export("unsigned long nsecs_to_jiffies(u64 n)")
def nsecs_to_jiffies(k, n):
    return n // (NSEC_PER_SEC // k.HZ)


@export("u64 jiffies64_to_nsecs(u64 j)")
def jiffies64_to_nsecs(k, j):
    return (j * (NSEC_PER_SEC // k.HZ)) & MASK64


@export("u64 jiffies64_to_msecs(u64 j)")
def jiffies64_to_msecs(k, j):
    return (j * (MSEC_PER_SEC // k.HZ)) & MASK64


@export("long jiffies_to_clock_t(unsigned long x)")
def jiffies_to_clock_t(k, x):
    return ((x * tick_nsec(k)) & MASK64) // (NSEC_PER_SEC // USER_HZ)


@export("u64 jiffies_64_to_clock_t(u64 x)")
def jiffies_64_to_clock_t(k, x):
    return ((x * tick_nsec(k)) & MASK64) // (NSEC_PER_SEC // USER_HZ)


@export("unsigned long clock_t_to_jiffies(unsigned long x)")
def clock_t_to_jiffies(k, x):
    if x >= MASK64 // k.HZ * USER_HZ:
        return MASK64
    return ((x * k.HZ) & MASK64) // USER_HZ


@export("void jiffies_to_timespec64(const unsigned long jiffies, struct timespec64 *value)")
def jiffies_to_timespec64(k, j, value):
    sec, rem = divmod((j * tick_nsec(k)) & MASK64, NSEC_PER_SEC)
    t = k.target
    k.machine.write_u64(value + t.offset("timespec64.tv_sec"), sec)
    k.machine.write_u64(value + t.offset("timespec64.tv_nsec"), rem)


def _shift_hz(hz):
    for limit, shift in ((12, 3), (24, 4), (48, 5), (96, 6), (192, 7), (384, 8), (768, 9),
                         (1536, 10), (3072, 11), (6144, 12), (12288, 13)):
        if hz < limit:
            return shift
    raise ValueError(hz)


@export("unsigned long timespec64_to_jiffies(const struct timespec64 *value)")
def timespec64_to_jiffies(k, value):
    """__timespec64_to_jiffies() with the kernel's scaled arithmetic."""
    t = k.target
    sec = k.machine.read_u64(value + t.offset("timespec64.tv_sec"))
    nsec = k.machine.read_u64(value + t.offset("timespec64.tv_nsec")) & 0xFFFFFFFFFFFFFFFF
    tick = tick_nsec(k)
    sec_sc = 31 - _shift_hz(k.HZ)
    nsec_sc = sec_sc + 29
    sec_conv = ((NSEC_PER_SEC << sec_sc) + tick - 1) // tick
    nsec_conv = ((1 << nsec_sc) + tick - 1) // tick
    max_sec = (t.const("MAX_JIFFY_OFFSET") * tick) // NSEC_PER_SEC
    if sec >= max_sec and not sec >> 63:
        sec, nsec = max_sec, 0
    nsec &= 0xFFFFFFFFFFFFFFFF
    value_ = ((sec * sec_conv) & MASK64) + ((((nsec & MASK64) * nsec_conv) & MASK64)
                                             >> (nsec_sc - sec_sc))
    return (value_ & MASK64) >> sec_sc


def round_jiffies_common(k, j: int, cpu: int, force_up: bool) -> int:
    original = j
    hz = k.HZ
    j = (j + cpu * 3) & MASK64
    rem = j % hz
    if rem < hz // 4 and not force_up:
        j -= rem
    else:
        j = j - rem + hz
    j = (j - cpu * 3) & MASK64
    now = k.jiffies()
    after = ((now - j) & MASK64) >> 63        # time_is_after_jiffies(j)
    return j if after else original


@export("unsigned long __round_jiffies(unsigned long j, int cpu)")
def __round_jiffies(k, j, cpu):
    return round_jiffies_common(k, j, cpu, False)


@export("unsigned long __round_jiffies_relative(unsigned long j, int cpu)")
def __round_jiffies_relative(k, j, cpu):
    j0 = k.jiffies()
    return (round_jiffies_common(k, j + j0, cpu, False) - j0) & MASK64


@export("unsigned long round_jiffies(unsigned long j)")
def round_jiffies(k, j):
    return round_jiffies_common(k, j, 0, False)


@export("unsigned long round_jiffies_relative(unsigned long j)")
def round_jiffies_relative(k, j):
    j0 = k.jiffies()
    return (round_jiffies_common(k, j + j0, 0, False) - j0) & MASK64


@export("unsigned long __round_jiffies_up(unsigned long j, int cpu)")
def __round_jiffies_up(k, j, cpu):
    return round_jiffies_common(k, j, cpu, True)


@export("unsigned long __round_jiffies_up_relative(unsigned long j, int cpu)")
def __round_jiffies_up_relative(k, j, cpu):
    j0 = k.jiffies()
    return (round_jiffies_common(k, j + j0, cpu, True) - j0) & MASK64


@export("unsigned long round_jiffies_up(unsigned long j)")
def round_jiffies_up(k, j):
    return round_jiffies_common(k, j, 0, True)


@export("unsigned long round_jiffies_up_relative(unsigned long j)")
def round_jiffies_up_relative(k, j):
    j0 = k.jiffies()
    return (round_jiffies_common(k, j + j0, 0, True) - j0) & MASK64
