"""lib/percpu_counter.c: approximate per-CPU counters, on kemu's one CPU.

A counter is the kernel's ``struct percpu_counter``: the shared ``count``
plus an s32 per CPU (``alloc_percpu_gfp(s32)``, so a counter a module never
destroys is reported as its per-CPU allocation left behind), linked on the
kernel's ``percpu_counters`` list (CONFIG_HOTPLUG_CPU). ``add_batch`` folds
the CPU's delta into ``count`` once it reaches ``batch``, as the kernel does,
so ``percpu_counter_read`` (inline in modules) sees the same values.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from kemu.abi.toolkit import init_list_head, list_add, list_del, rd, wr

members("struct percpu_counter", "lock", "count", "list", "counters")

NR_ONLINE_CPUS = 1


class PercpuCounters:
    """The kernel's percpu_counters list head."""

    def __init__(self, k):
        self.head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.head)


def _s64(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >> 63 else v


def _s32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def _cpu_slot(k, fbc) -> int:
    return k.machine.percpu_addr + rd(k, fbc, "percpu_counter.counters")


def counter_sum(k, fbc) -> int:
    """__percpu_counter_sum(): count plus every CPU's delta."""
    total = _s64(rd(k, fbc, "percpu_counter.count"))
    if rd(k, fbc, "percpu_counter.counters"):
        total += _s32(k.machine.read_u32(_cpu_slot(k, fbc)))
    return total


@data("int percpu_counter_batch")
def percpu_counter_batch(k, addr):
    # compute_batch_value(): max(32, 2 * num_online_cpus())
    k.machine.write_u32(addr, max(32, NR_ONLINE_CPUS * 2))


@export("int __percpu_counter_init(struct percpu_counter *fbc, s64 amount, gfp_t gfp, "
        "struct lock_class_key *key)")
def __percpu_counter_init(k, fbc, amount, gfp, key):
    from ..mm.percpu import _alloc
    wr(k, fbc, "percpu_counter.lock", 0, 4)
    wr(k, fbc, "percpu_counter.count", amount & ((1 << 64) - 1))
    counters = _alloc(k, 4, 4)
    if not counters:
        return -errno.ENOMEM
    wr(k, fbc, "percpu_counter.counters", counters)
    node = fbc + k.target.offset("percpu_counter.list")
    init_list_head(k, node)
    list_add(k, node, k.model(PercpuCounters).head)
    return 0


@export("void percpu_counter_destroy(struct percpu_counter *fbc)")
def percpu_counter_destroy(k, fbc):
    from ..mm.percpu import free_percpu
    counters = rd(k, fbc, "percpu_counter.counters")
    if not counters:
        return
    list_del(k, fbc + k.target.offset("percpu_counter.list"))
    free_percpu(k, counters)
    wr(k, fbc, "percpu_counter.counters", 0)


@export("void percpu_counter_add_batch(struct percpu_counter *fbc, s64 amount, s32 batch)")
def percpu_counter_add_batch(k, fbc, amount, batch):
    slot = _cpu_slot(k, fbc)
    count = _s32(k.machine.read_u32(slot)) + amount
    if abs(count) >= batch:
        wr(k, fbc, "percpu_counter.count",
           (_s64(rd(k, fbc, "percpu_counter.count")) + count) & ((1 << 64) - 1))
        # __this_cpu_sub(*fbc->counters, count - amount): the old delta went into count
        k.machine.write_u32(slot, 0)
    else:
        k.machine.write_u32(slot, count & 0xFFFFFFFF)


@export("s64 __percpu_counter_sum(struct percpu_counter *fbc)")
def __percpu_counter_sum(k, fbc):
    return counter_sum(k, fbc)


@export("void percpu_counter_set(struct percpu_counter *fbc, s64 amount)")
def percpu_counter_set(k, fbc, amount):
    k.machine.write_u32(_cpu_slot(k, fbc), 0)
    wr(k, fbc, "percpu_counter.count", amount & ((1 << 64) - 1))


@export("void percpu_counter_sync(struct percpu_counter *fbc)")
def percpu_counter_sync(k, fbc):
    slot = _cpu_slot(k, fbc)
    delta = _s32(k.machine.read_u32(slot))
    wr(k, fbc, "percpu_counter.count",
       (_s64(rd(k, fbc, "percpu_counter.count")) + delta) & ((1 << 64) - 1))
    k.machine.write_u32(slot, 0)


@export("int __percpu_counter_compare(struct percpu_counter *fbc, s64 rhs, s32 batch)")
def __percpu_counter_compare(k, fbc, rhs, batch):
    count = _s64(rd(k, fbc, "percpu_counter.count"))
    if abs(count - rhs) > batch * NR_ONLINE_CPUS:
        return 1 if count > rhs else -1
    count = counter_sum(k, fbc)
    return (count > rhs) - (count < rhs)
