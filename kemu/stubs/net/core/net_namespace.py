"""net/core/net_namespace.c: init_net, net_namespace_list and pernet operations.

There is one network namespace, ``init_net``, laid out as the target's
``struct net``: it is on ``net_namespace_list``, holds a reference
(``ns.count``), its ``/proc/net`` and ``/proc/net/stat`` directories
(``proc_net``/``proc_net_stat``, from the procfs model), a ``net_generic``
array (``gen``) for pernet ids and the netfilter hook heads (``nf``).

``register_pernet_subsys``/``register_pernet_device`` allocate the id, the
``ops->size`` area (``net_generic(net, id)``) and run ``ops->init(&init_net)``
in emulation; unregistering runs ``pre_exit``, ``exit`` and ``exit_batch``
and frees the area, exactly in the kernel's order. Every registration is
recorded with its module so that a forgotten unregister is reported.

Python API: ``init_net(k) -> addr``; ``pernet_ops(k) -> [addr, ...]``.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import (init_list_head, kfree, kzalloc, list_add_tail, list_del, rd, s32,
                              sym, wr)

members("struct mutex", "wait_list")
members("struct pernet_operations", "list", "size", "init", "pre_exit", "exit", "exit_batch",
        "id")
members("struct net", "ns", "ns.count|count", "list", "user_ns", "proc_net", "proc_net_stat",
        "gen", "passive", "exit_list", "ifindex")
members("struct ns_common", "inum")
members("struct net_generic", "s", "s.len", "ptr")
members("struct rw_semaphore", "wait_list", "count", "owner", "osq", "wait_lock")

NET_GENERIC_SLOTS = 256          # room for pernet ids before net_assign_generic() must grow
PROC_NET_INIT_INO = 0xF0000000   # the inum proc_alloc_inum() gives the first netns


class NetNamespaces:
    """Per-kernel pernet state: the registered operations and the pernet ids."""

    def __init__(self, k):
        self.k = k
        self.init_net = k.export_addr("init_net")
        self.ops: list[int] = []               # struct pernet_operations, list order
        self.first_device = None               # index in ops where device ops start
        self.ids: set[int] = set()
        t = k.target
        # MIN_PERNET_OPS_ID: the ids below it overlap net_generic.s
        self.min_id = (t.sizeof("net_generic") + 7) // 8

    def nets(self) -> list[int]:
        """for_each_net(): every namespace (only init_net)."""
        return [self.init_net]


def _net_gen(k, net):
    return rd(k, net, "net.gen")


def net_generic(k, net: int, id_: int) -> int:
    """net_generic(net, id) as the inline in net/netns/generic.h reads it."""
    return k.machine.read_u64(_net_gen(k, net) + k.target.offset("net_generic.ptr") + 8 * id_)


def _assign_generic(k, net, id_, value):
    gen = _net_gen(k, net)
    length = rd(k, gen, "net_generic.s.len", 4)
    if id_ >= length:                     # net_assign_generic(): a bigger copy
        new_len = max(id_ + 1, 2 * length)
        new = k.heap.alloc(k.target.offset("net_generic.ptr") + 8 * new_len, kind="net_generic",
                           zero=True)
        k.machine.write(new, k.machine.read(gen, k.target.offset("net_generic.ptr") + 8 * length))
        wr(k, new, "net_generic.s.len", new_len, 4)
        wr(k, net, "net.gen", new)
        gen = new
    k.machine.write_u64(gen + k.target.offset("net_generic.ptr") + 8 * id_, value)


@data("struct list_head net_namespace_list")
def net_namespace_list(k, addr):
    init_list_head(k, addr)


@data("struct net init_net")
def init_net(k, addr):
    t, m = k.target, k.machine
    head = k.export_addr("net_namespace_list")
    list_add_tail(k, addr + t.offset("net.list"), head)
    m.write_u32(addr + t.offset("net.ns.count"), 1)
    m.write_u32(addr + t.offset("net.ns") + t.offset("ns_common.inum"), PROC_NET_INIT_INO)
    m.write_u32(addr + t.offset("net.passive"), 1)
    m.write_u32(addr + t.offset("net.ifindex"), 1)         # lo took the first index
    init_list_head(k, addr + t.offset("net.exit_list"))
    gen = k.heap.alloc(t.offset("net_generic.ptr") + 8 * NET_GENERIC_SLOTS, kind="net_generic",
                       zero=True)
    wr(k, gen, "net_generic.s.len", NET_GENERIC_SLOTS, 4)
    wr(k, addr, "net.gen", gen)
    try:
        wr(k, addr, "net.user_ns", k.export_addr("init_user_ns"))
    except KeyError:
        pass
    from ...fs.proc import Proc
    proc = k.model(Proc)
    net_dir = proc.net_dir(addr)
    wr(k, addr, "net.proc_net", net_dir.addr)
    wr(k, addr, "net.proc_net_stat", proc.mkdir_in(net_dir, "stat", addr).addr)


def init_net_addr(k) -> int:
    """The address of init_net."""
    return k.export_addr("init_net")


def pernet_ops(k) -> list[int]:
    """The registered struct pernet_operations, in list order."""
    return list(k.model(NetNamespaces).ops)


def _po(k, ops, member):
    return rd(k, ops, f"pernet_operations.{member}")


def _ops_init(k, ops, net):
    """ops_init(): the generic area, then ops->init(net)."""
    data_ = 0
    id_ptr = _po(k, ops, "id")
    size = rd(k, ops, "pernet_operations.size", 8)
    if id_ptr and size:
        data_ = kzalloc(k, size, "pernet data")
        _assign_generic(k, net, k.machine.read_u32(id_ptr), data_)
    err = 0
    init = _po(k, ops, "init")
    if init:
        err = s32((yield k.call_request(init, net)))
    if err and data_:
        kfree(k, data_)
    return err


def _exit_list(k, ops, nets, exit_list):
    """ops_pre_exit_list, synchronize_rcu(), ops_exit_list, ops_free_list for ``nets``."""
    from ...kernel.rcu import synchronize_rcu
    pre = _po(k, ops, "pre_exit")
    if pre:
        for net in nets:
            yield k.call_request(pre, net)
    yield from synchronize_rcu(k)
    ex = _po(k, ops, "exit")
    if ex:
        for net in nets:
            yield k.call_request(ex, net)
    batch = _po(k, ops, "exit_batch")
    if batch:
        yield k.call_request(batch, exit_list)
    id_ptr = _po(k, ops, "id")
    if id_ptr and rd(k, ops, "pernet_operations.size", 8):
        for net in nets:
            ptr = net_generic(k, net, k.machine.read_u32(id_ptr))
            kfree(k, ptr)


class _ExitList:
    """A LIST_HEAD(net_exit_list) in kernel memory with the namespaces on it."""

    def __init__(self, k, nets):
        self.k = k
        self.head = k.heap.alloc(k.target.sizeof("list_head"), kind="net_exit_list")
        init_list_head(k, self.head)
        for net in nets:
            list_add_tail(k, net + k.target.offset("net.exit_list"), self.head)

    def free(self):
        k = self.k
        node = rd(k, self.head, "list_head.next")
        while node != self.head:
            nxt = rd(k, node, "list_head.next")
            init_list_head(k, node)
            node = nxt
        k.heap.free(self.head)


def _register(k, ops, device: bool):
    ns = k.model(NetNamespaces)
    id_ptr = _po(k, ops, "id")
    if ops in ns.ops:
        from ...lib.kemu_warn import bug
        node = ops + k.target.offset("pernet_operations.list")
        k.log.emit(KERN_ERR, f"list_add double add: new={node:016x}, "
                      f"prev={rd(k, node, 'list_head.prev'):016x}, "
                      f"next={rd(k, node, 'list_head.next'):016x}.")
        bug(k, "lib/list_debug.c:33")
    if id_ptr:
        id_ = ns.min_id
        while id_ in ns.ids:
            id_ += 1
        ns.ids.add(id_)
        k.machine.write_u32(id_ptr, id_)
    # list_add_tail(&ops->list, list): subsys ops go before the first device ops
    if device or ns.first_device is None:
        ns.ops.append(ops)
    else:
        ns.ops.insert(ns.first_device, ops)
    if device and ns.first_device is None:
        ns.first_device = len(ns.ops) - 1
    elif not device and ns.first_device is not None:
        ns.first_device += 1
    init_list_head(k, ops + k.target.offset("pernet_operations.list"))
    err = 0
    done = []
    if _po(k, ops, "init") or (id_ptr and rd(k, ops, "pernet_operations.size", 8)):
        for net in ns.nets():
            err = yield from _ops_init(k, ops, net)
            if err:
                break
            done.append(net)
    if err:
        _forget(ns, ops)
        lst = _ExitList(k, done)
        try:
            yield from _exit_list(k, ops, done, lst.head)
        finally:
            lst.free()
        if id_ptr:
            ns.ids.discard(k.machine.read_u32(id_ptr))
        return err
    mod = k.current_module()
    kind = "pernet device" if device else "pernet subsys"
    k.register(kind, ops, mod, f"{kind} {sym(k, ops)}")
    return 0


def _forget(ns, ops):
    idx = ns.ops.index(ops)
    ns.ops.pop(idx)
    if ns.first_device is not None:
        if idx < ns.first_device:
            ns.first_device -= 1
        elif idx == ns.first_device:
            if ns.first_device >= len(ns.ops):
                ns.first_device = None


def _unregister(k, ops, device: bool):
    ns = k.model(NetNamespaces)
    if ops not in ns.ops:
        # list_del() of an entry that is not on the list: the poisoned pointers
        from ...lib.kemu_warn import bug
        node = ops + k.target.offset("pernet_operations.list")
        nxt = rd(k, node, "list_head.next")
        if nxt == 0xDEAD000000000100:
            k.log.emit(KERN_ERR, f"list_del corruption, {node:016x}->next is LIST_POISON1 "
                          "(dead000000000100)")
            bug(k, "lib/list_debug.c:49")
        k.log.emit(KERN_ERR, f"list_del corruption, {node:016x}->next is NULL")
        bug(k, "lib/list_debug.c:45")
    _forget(ns, ops)
    list_node = ops + k.target.offset("pernet_operations.list")
    wr(k, list_node, "list_head.next", 0xDEAD000000000100)
    wr(k, list_node, "list_head.prev", 0xDEAD000000000122)
    nets = ns.nets()
    lst = _ExitList(k, nets)
    try:
        yield from _exit_list(k, ops, nets, lst.head)
    finally:
        lst.free()
    from ...kernel.rcu import rcu_barrier
    yield from rcu_barrier(k)                   # unregister_pernet_operations()
    id_ptr = _po(k, ops, "id")
    if id_ptr:
        ns.ids.discard(k.machine.read_u32(id_ptr))
    k.unregister("pernet device" if device else "pernet subsys", ops)


@export("int register_pernet_subsys(struct pernet_operations *ops)", fails="-ENOMEM")
def register_pernet_subsys(k, ops):
    return (yield from _register(k, ops, False))


@export("void unregister_pernet_subsys(struct pernet_operations *ops)")
def unregister_pernet_subsys(k, ops):
    yield from _unregister(k, ops, False)


@export("int register_pernet_device(struct pernet_operations *ops)", fails="-ENOMEM")
def register_pernet_device(k, ops):
    return (yield from _register(k, ops, True))


@export("void unregister_pernet_device(struct pernet_operations *ops)")
def unregister_pernet_device(k, ops):
    yield from _unregister(k, ops, True)


@export("void __put_net(struct net *net)")
def __put_net(k, net):
    # the last reference to init_net is never dropped
    k.finding("netns", "__put_net() dropped the last reference to init_net", k.current_module())


@export("struct net *get_net_ns_by_pid(pid_t pid)")
def get_net_ns_by_pid(k, pid):
    from kemu.abi.toolkit import err_ptr
    if pid != 1:
        return err_ptr(-errno.ESRCH)
    net = init_net_addr(k)
    count = net + k.target.offset("net.ns.count")
    k.machine.write_u32(count, k.machine.read_u32(count) + 1)
    return net


@export("struct net *get_net_ns_by_fd(int fd)")
def get_net_ns_by_fd(k, fd):
    from kemu.abi.toolkit import err_ptr
    return err_ptr(-errno.EBADF)


@export("int peernet2id(const struct net *net, struct net *peer)")
def peernet2id(k, net, peer):
    return -1          # NETNSA_NSID_NOT_ASSIGNED: no peer ids with a single namespace


@export("bool net_ns_get_ownership(const struct net *net, kuid_t *uid, kgid_t *gid)")
def net_ns_get_ownership(k, net, uid, gid):
    k.machine.write_u32(uid, 0)
    k.machine.write_u32(gid, 0)
    return True


__all__ = ["NetNamespaces", "init_net_addr", "pernet_ops", "net_generic", "list_del"]


@data("struct rw_semaphore net_rwsem")
def net_rwsem(k, addr):
    head = addr + k.target.offset("rw_semaphore.wait_list")
    k.machine.write_u64(head + k.target.offset("list_head.next"), head)
    k.machine.write_u64(head + k.target.offset("list_head.prev"), head)


@data("struct rw_semaphore pernet_ops_rwsem")
def pernet_ops_rwsem(k, addr):
    """Taken by link-type modules around rtnl_link_register() (an empty rwsem)."""
    net_rwsem(k, addr)


@export("void net_ns_barrier(void)")
def net_ns_barrier(k):
    """mutex_lock(&pernet_ops_rwsem)/unlock: no namespace is being torn down."""


@export("struct net *get_net_ns_by_id(const struct net *net, int id)")
def get_net_ns_by_id(k, net, id):
    return 0            # no peer namespace has an id (peernet2id() is NOT_ASSIGNED)


# net/core/filter.c: the conntrack hook for BPF struct access checks
@data("struct mutex nf_conn_btf_access_lock")
def nf_conn_btf_access_lock(k, addr):
    head = addr + k.target.offset("mutex.wait_list")
    k.machine.write_u64(head + k.target.offset("list_head.next"), head)
    k.machine.write_u64(head + k.target.offset("list_head.prev"), head)


@data("void *nfct_btf_struct_access")
def nfct_btf_struct_access(k, addr):
    k.machine.write_u64(addr, 0)
