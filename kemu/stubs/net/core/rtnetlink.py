"""net/core/rtnetlink.c: the RTNL mutex and link types.

``rtnl_mutex`` is a ``struct mutex`` (target layout) in kernel memory, taken
and released through the mutex model, so contention, recursion (a deadlock)
and an RTNL still held when a module entry returns are reported as for any
mutex.

``rtnl_link_register`` adds a link type (``rtnl_link_ops``, -EEXIST for a
kind already there, dellink defaulting to unregister_netdevice_queue) and
records it, so a type left registered at exit is reported;
``rtnl_link_unregister`` first deletes each device of the type through its
``dellink``, as ``__rtnl_kill_links`` does. Creating links through rtnetlink
(``ip link add``) is not modelled.

Python API: ``rtnl_mutex(k) -> addr``, ``link_kinds(k) -> [kind]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import cstr, rd, wr

from kemu.abi.toolkit import init_list_head
from ...kernel.locking.mutex import mutex_lock_common, mutex_owner, mutex_unlock_
from ...kernel.sched.core import caller, sched

members("struct mutex", "wait_list")


members("struct rtnl_link_ops", "kind", "list", "alloc", "setup", "dellink", "maxtype",
        "slave_maxtype")
members("struct net_device", "rtnl_link_ops")


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


# ------------------------------------------------------------ link types (rtnl_link_ops)
# net/core/rtnetlink.c's own limits (not in a header)
RTNL_MAX_TYPE, RTNL_SLAVE_MAX_TYPE = 50, 40


class _LinkOps:
    """link_ops: the registered rtnl_link_ops, in registration order."""

    def __init__(self, k):
        self.ops: list[int] = []


def _kind(k, ops) -> str:
    return cstr(k, rd(k, ops, "rtnl_link_ops.kind"), 64)


@export("int __rtnl_link_register(struct rtnl_link_ops *ops)")
def __rtnl_link_register(k, ops):
    lo = k.model(_LinkOps)
    kind = _kind(k, ops)
    if any(_kind(k, o) == kind for o in lo.ops):
        return -errno.EEXIST
    if (rd(k, ops, "rtnl_link_ops.alloc") or rd(k, ops, "rtnl_link_ops.setup")) and \
            not rd(k, ops, "rtnl_link_ops.dellink"):
        wr(k, ops, "rtnl_link_ops.dellink", k.export_addr("unregister_netdevice_queue"))
    lo.ops.append(ops)
    k.register("rtnl link", ops, k.module_containing(ops) or k.current_module(),
               f"rtnl link type {kind}")
    return 0


@export("int rtnl_link_register(struct rtnl_link_ops *ops)")
def rtnl_link_register(k, ops):
    from ...lib.kemu_warn import warn
    if rd(k, ops, "rtnl_link_ops.maxtype", 4) > RTNL_MAX_TYPE or \
            rd(k, ops, "rtnl_link_ops.slave_maxtype", 4) > RTNL_SLAVE_MAX_TYPE:
        warn(k, "net/core/rtnetlink.c:490", "rtnl_link_register+0x85/0x90")
        return -errno.EINVAL
    return __rtnl_link_register(k, ops)


@export("void __rtnl_link_unregister(struct rtnl_link_ops *ops)")
def __rtnl_link_unregister(k, ops):
    """__rtnl_kill_links(): each device of this type goes through ops->dellink; then off the list."""
    from .netdevice import NetDevices
    for dev in list(k.model(NetDevices).names):
        if rd(k, dev, "net_device.rtnl_link_ops") == ops:
            dellink = rd(k, ops, "rtnl_link_ops.dellink")
            head = k.heap.alloc(16, kind="list_head", zero=True)
            init_list_head(k, head)
            yield k.call_request(dellink, dev, head)
            k.heap.free(head)
    lo = k.model(_LinkOps)
    if ops in lo.ops:
        lo.ops.remove(ops)
        k.unregister("rtnl link", ops)


@export("void rtnl_link_unregister(struct rtnl_link_ops *ops)")
def rtnl_link_unregister(k, ops):
    yield from __rtnl_link_unregister(k, ops)


def link_kinds(k) -> list:
    """The registered link types' kinds (``ip link add type KIND``)."""
    return [_kind(k, o) for o in k.model(_LinkOps).ops]
