"""kernel/time/timekeeping.c, kernel/time/time.c: the clocks, all read off the virtual clock.

CLOCK_MONOTONIC, CLOCK_BOOTTIME, the raw and fast clocks and sched_clock()
are ``k.clock_ns`` (nanoseconds since boot, never suspended). CLOCK_REALTIME
is that plus a fixed boot time, :data:`REALTIME_AT_BOOT` (2025-01-01
00:00:00 UTC), so every run sees the same wall clock; CLOCK_TAI is 37 s ahead
of it. The coarse clocks stand still between ticks, as the kernel's do.
Module code polling a clock sees it move (Scheduler.poll_clock()).
"""
from kemu import data, export
from kemu.abi.exports import members

from ..sched.core import MASK64, NSEC_PER_SEC, sched, signed64

members("struct timespec64", "tv_sec", "tv_nsec")

REALTIME_AT_BOOT = 1_735_689_600 * NSEC_PER_SEC
TAI_OFFSET = 37 * NSEC_PER_SEC
KTIME_MAX = (1 << 63) - 1


def offset_ns(k, offs: int) -> int:
    """The offset of enum tk_offsets ``offs`` from CLOCK_MONOTONIC."""
    c = k.target.const
    if offs == c("TK_OFFS_REAL"):
        return REALTIME_AT_BOOT
    if offs == c("TK_OFFS_TAI"):
        return REALTIME_AT_BOOT + TAI_OFFSET
    return 0


def clock_offset(k, clock_id: int) -> int:
    """The offset of a clockid_t from CLOCK_MONOTONIC (hrtimer bases)."""
    c = k.target.const
    if clock_id == c("CLOCK_REALTIME"):
        return REALTIME_AT_BOOT
    if clock_id == c("CLOCK_TAI"):
        return REALTIME_AT_BOOT + TAI_OFFSET
    return 0


def coarse_ns(k) -> int:
    """The time of the last tick."""
    tick = NSEC_PER_SEC // k.HZ
    return k.clock_ns // tick * tick


def now(k) -> int:
    """The clock as module code reads it through an export (a clock that has
    not moved since the last read moves on first: Scheduler.poll_clock())."""
    sched(k).poll_clock()
    return k.clock_ns


def coarse_now(k) -> int:
    """The coarse clock as module code reads it (see :func:`now`)."""
    sched(k).poll_clock()
    return coarse_ns(k)


def write_ts64(k, ts: int, ns: int) -> None:
    """Store ``ns`` into a struct timespec64."""
    sec, nsec = divmod(ns, NSEC_PER_SEC)
    t = k.target
    k.machine.write_u64(ts + t.offset("timespec64.tv_sec"), sec)
    k.machine.write_u64(ts + t.offset("timespec64.tv_nsec"), nsec)


@export("ktime_t ktime_get(void)")
def ktime_get(k):
    return now(k)


@export("ktime_t ktime_get_raw(void)")
def ktime_get_raw(k):
    return now(k)


@export("ktime_t ktime_get_with_offset(enum tk_offsets offs)")
def ktime_get_with_offset(k, offs):
    return now(k) + offset_ns(k, offs)


@export("ktime_t ktime_get_coarse_with_offset(enum tk_offsets offs)")
def ktime_get_coarse_with_offset(k, offs):
    return coarse_now(k) + offset_ns(k, offs)


@export("ktime_t ktime_mono_to_any(ktime_t tmono, enum tk_offsets offs)")
def ktime_mono_to_any(k, tmono, offs):
    return tmono + offset_ns(k, offs)


@export("u64 ktime_get_mono_fast_ns(void)")
def ktime_get_mono_fast_ns(k):
    return now(k)


@export("u64 ktime_get_raw_fast_ns(void)")
def ktime_get_raw_fast_ns(k):
    return now(k)


@export("u64 ktime_get_boot_fast_ns(void)")
def ktime_get_boot_fast_ns(k):
    return now(k)


@export("u64 ktime_get_real_fast_ns(void)")
def ktime_get_real_fast_ns(k):
    return now(k) + REALTIME_AT_BOOT


@export("u64 ktime_get_tai_fast_ns(void)")
def ktime_get_tai_fast_ns(k):
    return now(k) + REALTIME_AT_BOOT + TAI_OFFSET


@export("void ktime_get_real_ts64(struct timespec64 *tv)")
def ktime_get_real_ts64(k, tv):
    write_ts64(k, tv, now(k) + REALTIME_AT_BOOT)


@export("void ktime_get_ts64(struct timespec64 *ts)")
def ktime_get_ts64(k, ts):
    write_ts64(k, ts, now(k))


@export("void ktime_get_raw_ts64(struct timespec64 *ts)")
def ktime_get_raw_ts64(k, ts):
    write_ts64(k, ts, now(k))


@export("void ktime_get_coarse_real_ts64(struct timespec64 *ts)")
def ktime_get_coarse_real_ts64(k, ts):
    write_ts64(k, ts, coarse_now(k) + REALTIME_AT_BOOT)


@export("void ktime_get_coarse_ts64(struct timespec64 *ts)")
def ktime_get_coarse_ts64(k, ts):
    write_ts64(k, ts, coarse_now(k))


@export("time64_t ktime_get_real_seconds(void)")
def ktime_get_real_seconds(k):
    return (coarse_now(k) + REALTIME_AT_BOOT) // NSEC_PER_SEC


@export("time64_t ktime_get_seconds(void)")
def ktime_get_seconds(k):
    return coarse_now(k) // NSEC_PER_SEC


@export("unsigned int ktime_get_resolution_ns(void)")
def ktime_get_resolution_ns(k):
    return 1


@export("ktime_t ktime_add_safe(const ktime_t lhs, const ktime_t rhs)")
def ktime_add_safe(k, lhs, rhs):
    res = signed64(lhs + rhs)
    if res < 0 or res < lhs or res < rhs:
        return KTIME_MAX
    return res


@export("u64 sched_clock(void)")
def sched_clock(k):
    return now(k)


@export("u64 sched_clock_cpu(int cpu)")
def sched_clock_cpu(k, cpu):
    return now(k)


@data("unsigned int hrtimer_resolution")
def hrtimer_resolution(k, addr):
    k.machine.write_u32(addr, 1)            # high-resolution mode: 1 ns


# struct timespec64 is returned by value in RAX:RDX (two INTEGER eightbytes); the
# prototype below declares the RAX half, the model puts tv_nsec into RDX.
@export("long long ns_to_timespec64(const s64 nsec)")
def ns_to_timespec64(k, nsec):
    if nsec > 0:
        sec, rem = divmod(nsec, NSEC_PER_SEC)
    elif nsec < 0:
        q, r = divmod(-nsec - 1, NSEC_PER_SEC)
        sec, rem = -q - 1, NSEC_PER_SEC - r - 1
    else:
        sec, rem = 0, 0
    k.machine.set_reg("rdx", rem)
    return sec


# struct __kernel_old_timeval { long tv_sec; long tv_usec; }: returned the same way.
@export("long ns_to_kernel_old_timeval(s64 nsec)")
def ns_to_kernel_old_timeval(k, nsec):
    sec = ns_to_timespec64(k, nsec)
    k.machine.set_reg("rdx", k.machine.reg("rdx") // 1000)
    return sec


@export("void set_normalized_timespec64(struct timespec64 *ts, time64_t sec, s64 nsec)")
def set_normalized_timespec64(k, ts, sec, nsec):
    carry, nsec = divmod(nsec, NSEC_PER_SEC)     # what the kernel's two loops compute
    sec += carry
    t = k.target
    k.machine.write_u64(ts + t.offset("timespec64.tv_sec"), sec & MASK64)
    k.machine.write_u64(ts + t.offset("timespec64.tv_nsec"), nsec)


@export("time64_t mktime64(const unsigned int year0, const unsigned int mon0, "
        "const unsigned int day, const unsigned int hour, const unsigned int min, "
        "const unsigned int sec)")
def mktime64(k, year0, mon0, day, hour, minute, sec):
    mon, year = mon0 - 2, year0
    if mon <= 0:
        mon += 12
        year -= 1
    days = year // 4 - year // 100 + year // 400 + 367 * mon // 12 + day + year * 365 - 719499
    return ((days * 24 + hour) * 60 + minute) * 60 + sec
