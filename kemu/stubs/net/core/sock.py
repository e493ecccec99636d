"""net/core/sock.c: the socket lock, protocol and address family registration.

``lock_sock_nested``/``release_sock`` take and drop ownership of
``sk->sk_lock`` (``owned``), so that sock_owned_by_user() reads what the
kernel's would; a socket locked twice by the single kemu task would sleep
forever in __lock_sock and is reported as a deadlock finding. ``sock_register``
fills ``net_families[]`` (-EINVAL for a family >= NPROTO, -EEXIST when taken,
"NET: Registered PF_xx protocol family" at info level); ``proto_register``
records the protocol (no slab cache is needed without sockets).

The ``sock_no_*`` operations are the kernel's (-EOPNOTSUPP, -ENODEV for
mmap); ``sock_kmalloc``/``sock_kfree_s``/``sock_kzfree_s`` account option
memory in ``sk->sk_omem_alloc`` against net.core.optmem_max (20480). kemu
drives no socket(2) call, so no socket is ever created: ``sk_alloc``,
``sock_init_data``, ``sock_sendmsg``... are reached only on paths kemu does
not drive (a call is a not-modelled finding).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members, unreachable
from kemu.kernel.log import KERN_CRIT, KERN_INFO

from kemu.abi.toolkit import cstr, kfree, kzalloc, owner_of, rd, wr
from ...lib.kemu_warn import warn_once

members("struct sock", "sk_lock", "sk_lock.owned", "sk_omem_alloc", "__sk_common.skc_refcnt",
        "__sk_common.skc_family", "sk_lock.slock", "sk_lock.wq", "sk_destruct",
        "sk_prot_creator", "sk_socket", "sk_wq", "__sk_common.skc_prot", "sk_type",
        "sk_security")
members("struct net_proto_family", "family", "owner", "create")
members("struct proto", "name", "owner", "obj_size", "slab", "node")


class Sockets:
    """net_families[] and the proto_list."""

    def __init__(self, k):
        self.families: dict[int, int] = {}
        self.protos: list[int] = []


def _owned(k, sk) -> int:
    return sk + k.target.offset("sock.sk_lock.owned")


@export("void lock_sock_nested(struct sock *sk, int subclass)")
def lock_sock_nested(k, sk, subclass):
    if k.machine.read_u32(_owned(k, sk)):
        k.finding("deadlock", f"lock_sock() of socket {sk:#x}, which this task already owns: "
                              "__lock_sock() sleeps forever", k.current_module())
        return
    k.machine.write_u32(_owned(k, sk), 1)


@export("void release_sock(struct sock *sk)")
def release_sock(k, sk):
    k.machine.write_u32(_owned(k, sk), 0)


@export("int sock_register(const struct net_proto_family *ops)", fails="-EEXIST")
def sock_register(k, ops):
    st = k.model(Sockets)
    family = rd(k, ops, "net_proto_family.family", 4)
    if family >= k.target.const("NPROTO"):
        k.log.emit(KERN_CRIT, f"protocol {family} >= NPROTO({k.target.const('NPROTO')})")
        return -errno.ENOBUFS
    if family in st.families:
        return -errno.EEXIST
    st.families[family] = ops
    k.register("net family", family, owner_of(k, rd(k, ops, "net_proto_family.owner")),
               f"protocol family {family}")
    k.log.emit(KERN_INFO, f"NET: Registered PF_{_pf_name(family)} protocol family")
    return 0


@export("void sock_unregister(int family)")
def sock_unregister(k, family):
    st = k.model(Sockets)
    if family >= k.target.const("NPROTO"):
        return
    if st.families.pop(family, None) is not None:
        k.unregister("net family", family)
    k.log.emit(KERN_INFO, f"NET: Unregistered PF_{_pf_name(family)} protocol family")


def _pf_name(family: int) -> str:
    """pf_family_names[] (net/core/sock.c) for the families modules register."""
    import socket
    for name in dir(socket):
        if name.startswith("AF_") and getattr(socket, name) == family:
            return name[3:]
    return str(family)


@export("int proto_register(struct proto *prot, int alloc_slab)", fails="-ENOBUFS")
def proto_register(k, prot, alloc_slab):
    st = k.model(Sockets)
    st.protos.append(prot)
    k.register("proto", prot, owner_of(k, rd(k, prot, "proto.owner")),
               f"protocol {cstr(k, prot + k.target.offset('proto.name'), 32)}")
    return 0


@export("void proto_unregister(struct proto *prot)")
def proto_unregister(k, prot):
    st = k.model(Sockets)
    if prot in st.protos:
        st.protos.remove(prot)
        k.unregister("proto", prot)


# ------------------------------------------------------------ option memory
SYSCTL_OPTMEM_MAX = 8 * (2 * 1024 + 512)         # sizeof(unsigned long)*(2*UIO_MAXIOV+512)


def _omem(k, sk) -> int:
    return sk + k.target.offset("sock.sk_omem_alloc")


@export("void *sock_kmalloc(struct sock *sk, int size, gfp_t priority)", fails="NULL")
def sock_kmalloc(k, sk, size, priority):
    m = k.machine
    used = m.read_s32(_omem(k, sk))
    if (size & 0xFFFFFFFF) <= SYSCTL_OPTMEM_MAX and used + size < SYSCTL_OPTMEM_MAX:
        m.write_u32(_omem(k, sk), (used + size) & 0xFFFFFFFF)
        mem = kzalloc(k, size, "sock_kmalloc")
        if mem:
            return mem
        m.write_u32(_omem(k, sk), used & 0xFFFFFFFF)
    return 0


def _sock_kfree(k, sk, mem, size, nullify):
    if not mem:
        warn_once(k, "net/core/sock.c:2703", "__sock_kfree_s")        # WARN_ON_ONCE(!mem)
        return
    if nullify:
        obj = k.heap.find(mem)
        if obj is not None:
            k.machine.write(mem, bytes(obj.size))                   # kfree_sensitive()
    kfree(k, mem)
    m = k.machine
    m.write_u32(_omem(k, sk), (m.read_s32(_omem(k, sk)) - size) & 0xFFFFFFFF)


@export("void sock_kfree_s(struct sock *sk, void *mem, int size)")
def sock_kfree_s(k, sk, mem, size):
    _sock_kfree(k, sk, mem, size, False)


@export("void sock_kzfree_s(struct sock *sk, void *mem, int size)")
def sock_kzfree_s(k, sk, mem, size):
    _sock_kfree(k, sk, mem, size, True)


# ------------------------------------------------------------ sock_no_* (net/core/sock.c)
_NO_OPS = {
    "int sock_no_bind(struct socket *sock, struct sockaddr *saddr, int len)": -errno.EOPNOTSUPP,
    "int sock_no_connect(struct socket *sock, struct sockaddr *saddr, int len, int flags)":
        -errno.EOPNOTSUPP,
    "int sock_no_socketpair(struct socket *sock1, struct socket *sock2)": -errno.EOPNOTSUPP,
    "int sock_no_accept(struct socket *sock, struct socket *newsock, int flags, bool kern)":
        -errno.EOPNOTSUPP,
    "int sock_no_getname(struct socket *sock, struct sockaddr *saddr, int peer)":
        -errno.EOPNOTSUPP,
    "int sock_no_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)":
        -errno.EOPNOTSUPP,
    "int sock_no_listen(struct socket *sock, int backlog)": -errno.EOPNOTSUPP,
    "int sock_no_shutdown(struct socket *sock, int how)": -errno.EOPNOTSUPP,
    "int sock_no_sendmsg(struct socket *sock, struct msghdr *m, size_t len)": -errno.EOPNOTSUPP,
    "int sock_no_sendmsg_locked(struct sock *sk, struct msghdr *m, size_t len)":
        -errno.EOPNOTSUPP,
    "int sock_no_recvmsg(struct socket *sock, struct msghdr *m, size_t len, int flags)":
        -errno.EOPNOTSUPP,
    "int sock_no_mmap(struct file *file, struct socket *sock, struct vm_area_struct *vma)":
        -errno.ENODEV,
}


def _no_op(prototype, result):
    def fn(k, *args):
        return result
    fn.__name__ = prototype.split("(")[0].split()[-1]
    fn.__doc__ = f"{fn.__name__}(): the operation is not supported ({result})."
    return export(prototype)(fn)


for _proto, _res in _NO_OPS.items():
    globals()[_proto.split("(")[0].split()[-1]] = _no_op(_proto, _res)


NO_SOCKET = "kemu drives no socket(2) call, so no socket exists"
for _proto, _res in [
        ("struct sock *sk_alloc(struct net *net, int family, gfp_t priority, struct proto *prot, "
         "int kern)", 0),
        ("void sock_init_data(struct socket *sock, struct sock *sk)", None),
        ("int sock_sendmsg(struct socket *sock, struct msghdr *msg)", -errno.ENOTCONN),
        ("int sock_wake_async(struct socket_wq *wq, int how, int band)", -1),
        ("ssize_t sock_no_sendpage(struct socket *sock, struct page *page, int offset, "
         "size_t size, int flags)", -errno.EOPNOTSUPP)]:
    unreachable(_proto, _res, NO_SOCKET)


__all__ = ["Sockets", "wr"]
