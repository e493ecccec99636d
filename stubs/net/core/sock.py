"""net/core/sock.c: the socket lock, protocol and address family registration.

``lock_sock_nested``/``release_sock`` take and drop ownership of
``sk->sk_lock`` (``owned``), so that sock_owned_by_user() reads what the
kernel's would; a socket locked twice by the single kemu task would sleep
forever in __lock_sock and is reported as a deadlock finding. ``sock_register``
fills ``net_families[]`` (-EINVAL for a family >= NPROTO, -EEXIST when taken,
"NET: Registered PF_xx protocol family" at info level); ``proto_register``
records the protocol (no slab cache is needed without sockets).
"""
from __future__ import annotations

import errno

from kemu import export

from ...fs.internal import cstr, owner_of, rd, wr


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


@export("int sock_register(const struct net_proto_family *ops)")
def sock_register(k, ops):
    st = k.model(Sockets)
    family = rd(k, ops, "net_proto_family.family", 4)
    if family >= k.target.const("NPROTO"):
        k.log.emit(2, f"protocol {family} >= NPROTO({k.target.const('NPROTO')})")
        return -errno.ENOBUFS
    if family in st.families:
        return -errno.EEXIST
    st.families[family] = ops
    k.register("net family", family, owner_of(k, rd(k, ops, "net_proto_family.owner")),
               f"protocol family {family}")
    k.log.emit(6, f"NET: Registered PF_{_pf_name(family)} protocol family")
    return 0


@export("void sock_unregister(int family)")
def sock_unregister(k, family):
    st = k.model(Sockets)
    if family >= k.target.const("NPROTO"):
        return
    if st.families.pop(family, None) is not None:
        k.unregister("net family", family)
    k.log.emit(6, f"NET: Unregistered PF_{_pf_name(family)} protocol family")


def _pf_name(family: int) -> str:
    """pf_family_names[] (net/core/sock.c) for the families modules register."""
    import socket
    for name in dir(socket):
        if name.startswith("AF_") and getattr(socket, name) == family:
            return name[3:]
    return str(family)


@export("int proto_register(struct proto *prot, int alloc_slab)")
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


__all__ = ["Sockets", "wr"]
