"""net/core/rtnetlink.c: the RTNL mutex.

``rtnl_mutex`` is a ``struct mutex`` (target layout) in kernel memory, taken
and released through the mutex model, so contention, recursion (a deadlock)
and an RTNL still held when a module entry returns are reported as for any
mutex.

Python API: ``rtnl_mutex(k) -> addr``.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import init_list_head
from ...kernel.locking.mutex import mutex_lock_common, mutex_owner, mutex_unlock_
from ...kernel.sched.core import caller, sched

members("struct mutex", "wait_list")


class _Rtnl:
    def __init__(self, k):
        self.lock = k.heap.alloc(k.target.sizeof("mutex"), kind="rtnl_mutex", zero=True)
        init_list_head(k, self.lock + k.target.offset("mutex.wait_list"))


def rtnl_mutex(k) -> int:
    """The address of rtnl_mutex."""
    return k.model(_Rtnl).lock


@export("void rtnl_lock(void)")
def rtnl_lock(k):
    yield from mutex_lock_common(k, rtnl_mutex(k), sched(k).TASK_UNINTERRUPTIBLE, "rtnl_lock",
                                 caller(k))


@export("int rtnl_lock_killable(void)")
def rtnl_lock_killable(k):
    return (yield from mutex_lock_common(k, rtnl_mutex(k), sched(k).TASK_KILLABLE,
                                         "rtnl_lock_killable", caller(k)))


@export("void rtnl_unlock(void)")
def rtnl_unlock(k):
    mutex_unlock_(k, rtnl_mutex(k))


@export("int rtnl_is_locked(void)")
def rtnl_is_locked(k):
    return int(mutex_owner(k, rtnl_mutex(k)) != 0)


@export("int rtnl_trylock(void)")
def rtnl_trylock(k):
    lock = rtnl_mutex(k)
    if mutex_owner(k, lock):
        return 0
    return (yield from mutex_lock_common(k, lock, sched(k).TASK_UNINTERRUPTIBLE, "rtnl_trylock",
                                         caller(k))) == 0
