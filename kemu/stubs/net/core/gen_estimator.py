"""net/core/gen_estimator.c and gen_stats.c: rate estimators (xt_RATEEST, act_police...).

``gen_new_estimator`` validates the ``struct gnet_estimator`` attribute as
6.1 does (interval -2..3, ewma_log 1..30, else -EINVAL), allocates the
estimator (a kernel object private to gen_estimator.c), takes the first
sample of the counters and arms its timer every (HZ/4) << (interval + 2)
jiffies; ``est_timer`` folds the byte and packet deltas into the EWMA
averages exactly as the kernel does (avbps/avpps scaled by 2^8, read back by
``gen_estimator_read``). ``gen_kill_estimator`` stops the timer and frees it.
An estimator still alive when its module has exited is reported (its timer
is a registration).

The estimator's C layout is private to the kernel, so kemu keeps its state in
Python next to a kernel allocation holding its ``struct timer_list``.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, static, static_addr
from ...kernel.time.timer import init_timer_key, mod_timer, timer_delete_sync

members("struct nlattr", "nla_len")
# net/core/gen_estimator.c, gen_stats.c, socket core (stubs/net/core)
members("struct gnet_stats_basic_sync", "bytes", "packets")
members("struct gnet_stats_rate_est64", "bps", "pps")

M64 = (1 << 64) - 1
NLA_HDRLEN = 4


@dataclass
class _Est:
    bstats: int
    cpu_bstats: int
    lock: int
    running: bool
    ewma_log: int
    intvl_log: int
    last_bytes: int = 0
    last_packets: int = 0
    avbps: int = 0
    avpps: int = 0
    next_jiffies: int = 0


class Estimators:
    """Live estimators: kernel address (its timer_list) -> state."""

    def __init__(self, k):
        self.live: dict[int, _Est] = {}


def _fetch(k, e: _Est) -> tuple[int, int]:
    """est_fetch_counters(): (bytes, packets) of the per-CPU or the single counters."""
    from ...arch.x86.kernel.percpu import NR_CPUS_EMULATED
    t, m = k.target, k.machine
    ob, op = t.offset("gnet_stats_basic_sync.bytes"), t.offset("gnet_stats_basic_sync.packets")
    if e.cpu_bstats:
        total_b = total_p = 0
        for cpu in range(NR_CPUS_EMULATED):
            base = e.cpu_bstats + m.read_u64(k.export_addr("__per_cpu_offset") + 8 * cpu)
            total_b += m.read_u64(base + ob)
            total_p += m.read_u64(base + op)
        return total_b & M64, total_p & M64
    return m.read_u64(e.bstats + ob), m.read_u64(e.bstats + op)


@static("void est_timer(struct timer_list *t)")
def est_timer(k, t):
    e = k.model(Estimators).live.get(t)
    if e is None:
        return
    b_bytes, b_packets = _fetch(k, e)
    brate = ((b_bytes - e.last_bytes) & M64) << (10 - e.intvl_log)
    brate = (brate >> e.ewma_log) - (e.avbps >> e.ewma_log)
    rate = ((b_packets - e.last_packets) & M64) << (10 - e.intvl_log)
    rate = (rate >> e.ewma_log) - (e.avpps >> e.ewma_log)
    e.avbps = (e.avbps + brate) & M64
    e.avpps = (e.avpps + rate) & M64
    e.last_bytes, e.last_packets = b_bytes, b_packets
    e.next_jiffies += (k.HZ // 4) << e.intvl_log
    now = k.jiffies()
    if now >= e.next_jiffies:                     # "Ouch... timer was delayed."
        e.next_jiffies = now + 1
    mod_timer(k, t, e.next_jiffies)


@export("void gnet_stats_basic_sync_init(struct gnet_stats_basic_sync *b)")
def gnet_stats_basic_sync_init(k, b):
    k.machine.write(b, bytes(k.target.sizeof("gnet_stats_basic_sync")))


@export("int gen_new_estimator(struct gnet_stats_basic_sync *bstats, "
        "struct gnet_stats_basic_sync *cpu_bstats, struct net_rate_estimator **rate_est, "
        "spinlock_t *lock, bool running, struct nlattr *opt)")
def gen_new_estimator(k, bstats, cpu_bstats, rate_est, lock, running, opt):
    m = k.machine
    if m.read_u16(opt + k.target.offset("nlattr.nla_len")) - NLA_HDRLEN < 2:
        return -errno.EINVAL
    interval = (m.read_u8(opt + NLA_HDRLEN) ^ 0x80) - 0x80         # signed char
    ewma_log = m.read_u8(opt + NLA_HDRLEN + 1)
    if interval < -2 or interval > 3:
        return -errno.EINVAL
    if ewma_log == 0 or ewma_log >= 31:
        return -errno.EINVAL
    est = kzalloc(k, k.target.sizeof("timer_list"), "net_rate_estimator")
    if not est:
        return -errno.ENOBUFS
    e = _Est(bstats, cpu_bstats, lock, bool(running), ewma_log, interval + 2)
    e.last_bytes, e.last_packets = _fetch(k, e)
    live = k.model(Estimators).live
    old = m.read_u64(rate_est)
    if old and old in live:
        yield from timer_delete_sync(k, old)
        e.avbps, e.avpps = live[old].avbps, live[old].avpps
    e.next_jiffies = k.jiffies() + ((k.HZ // 4) << e.intvl_log)
    live[est] = e
    init_timer_key(k, est, static_addr(k, "est_timer"), 0, 0, 0)
    mod_timer(k, est, e.next_jiffies)
    m.write_u64(rate_est, est)
    if old and live.pop(old, None) is not None:
        kfree(k, old)                             # kfree_rcu()
    return 0


@export("void gen_kill_estimator(struct net_rate_estimator **rate_est)")
def gen_kill_estimator(k, rate_est):
    m = k.machine
    est = m.read_u64(rate_est)
    m.write_u64(rate_est, 0)                      # xchg(rate_est, NULL)
    if est:
        yield from timer_delete_sync(k, est)
        k.model(Estimators).live.pop(est, None)
        kfree(k, est)                             # kfree_rcu()


@export("bool gen_estimator_read(struct net_rate_estimator **rate_est, "
        "struct gnet_stats_rate_est64 *sample)")
def gen_estimator_read(k, rate_est, sample):
    est = k.machine.read_u64(rate_est)
    e = k.model(Estimators).live.get(est)
    if e is None:
        return False
    k.machine.write_u64(sample + k.target.offset("gnet_stats_rate_est64.bps"), e.avbps >> 8)
    k.machine.write_u64(sample + k.target.offset("gnet_stats_rate_est64.pps"), e.avpps >> 8)
    return True
