"""mm/vmscan.c: shrinker registration (6.1: register_shrinker(shrinker, fmt, ...)).

``prealloc_shrinker`` allocates the shrinker's ``nr_deferred`` counters (one,
or one per node with SHRINKER_NUMA_AWARE; a memcg-aware shrinker is given
the same here), ``register_shrinker_prepared`` puts it on the kernel's
``shrinker_list`` (a real list in kernel memory) and sets
SHRINKER_REGISTERED; ``unregister_shrinker`` undoes both. A shrinker left
registered after its module's exit is reported. kemu never runs reclaim,
so ``count_objects``/``scan_objects`` are not called.
The name (``fmt``) is only used with CONFIG_SHRINKER_DEBUG, off in Debian.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import init_list_head, kfree, kzalloc, list_add_tail, list_del, rd, sym, wr

members("struct shrinker", "scan_objects", "flags", "list", "nr_deferred", "count_objects",
        "batch", "seeks")

NR_NODE_IDS = 1


class Shrinkers:
    """The kernel's shrinker_list head."""

    def __init__(self, k):
        self.head = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.head)


def _prealloc(k, shrinker):
    c = k.target.const
    size = 8                                    # sizeof(atomic_long_t)
    if rd(k, shrinker, "shrinker.flags", 4) & c("SHRINKER_NUMA_AWARE"):
        size *= NR_NODE_IDS
    deferred = kzalloc(k, size, "shrinker nr_deferred")
    if not deferred:
        return -errno.ENOMEM
    wr(k, shrinker, "shrinker.nr_deferred", deferred)
    return 0


def _register_prepared(k, shrinker):
    c = k.target.const
    list_add_tail(k, shrinker + k.target.offset("shrinker.list"), k.model(Shrinkers).head)
    wr(k, shrinker, "shrinker.flags",
       rd(k, shrinker, "shrinker.flags", 4) | c("SHRINKER_REGISTERED"), 4)
    k.register("shrinker", shrinker, k.current_module(),
               f"shrinker {sym(k, rd(k, shrinker, 'shrinker.scan_objects'))}")


@export("int prealloc_shrinker(struct shrinker *shrinker, const char *fmt, ...)")
def prealloc_shrinker(k, shrinker, fmt, va):
    return _prealloc(k, shrinker)


@export("void register_shrinker_prepared(struct shrinker *shrinker)")
def register_shrinker_prepared(k, shrinker):
    _register_prepared(k, shrinker)


@export("void free_prealloced_shrinker(struct shrinker *shrinker)")
def free_prealloced_shrinker(k, shrinker):
    kfree(k, rd(k, shrinker, "shrinker.nr_deferred"))
    wr(k, shrinker, "shrinker.nr_deferred", 0)


@export("int register_shrinker(struct shrinker *shrinker, const char *fmt, ...)", fails="-ENOMEM")
def register_shrinker(k, shrinker, fmt, va):
    err = _prealloc(k, shrinker)
    if err:
        return err
    _register_prepared(k, shrinker)
    return 0


@export("void unregister_shrinker(struct shrinker *shrinker)")
def unregister_shrinker(k, shrinker):
    c = k.target.const
    flags = rd(k, shrinker, "shrinker.flags", 4)
    if not flags & c("SHRINKER_REGISTERED"):
        return
    list_del(k, shrinker + k.target.offset("shrinker.list"))
    wr(k, shrinker, "shrinker.flags", flags & ~c("SHRINKER_REGISTERED"), 4)
    k.unregister("shrinker", shrinker)
    kfree(k, rd(k, shrinker, "shrinker.nr_deferred"))
    wr(k, shrinker, "shrinker.nr_deferred", 0)


def shrinkers(k) -> list[int]:
    """The registered shrinkers, in shrinker_list order."""
    out, head = [], k.model(Shrinkers).head
    p = rd(k, head, "list_head.next")
    while p != head:
        out.append(p - k.target.offset("shrinker.list"))
        p = rd(k, p, "list_head.next")
    return out
