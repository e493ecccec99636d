"""net/netlink/af_netlink.c: kernel netlink sockets (attributes: stubs/lib/nlattr.py).

kemu has no user space, so no netlink socket ever binds a port id or joins a
group: ``netlink_unicast`` frees the skb and fails -ECONNREFUSED (no socket
with that port id), ``netlink_broadcast`` consumes it and returns -ESRCH
(delivered to nobody), ``netlink_has_listeners`` is 0, ``nlmsg_notify``
combines the two as the kernel does. ``__netlink_kernel_create`` gives a
kernel socket object that ``netlink_kernel_release`` frees (a leak of it is
reported with the module). Processing a received message (``netlink_rcv_skb``,
``netlink_ack``, ``netlink_net_capable``, ``__netlink_dump_start``) cannot happen
without a sender: if
module code calls them, a "not-modelled" finding is recorded and the
kernel's error for the case is returned. ``__nlmsg_put`` writes a real
``struct nlmsghdr``; ``netlink_register_notifier`` keeps the netlink_chain
(notifier_blocks in priority order, ``next`` linked as the kernel links them).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, rd_s32, s32, sym, wr
from ..core.skbuff import _kfree_skb

members("struct sk_buff", "users")
members("struct notifier_block", "notifier_call", "next", "priority")
members("struct nlmsghdr", "nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq", "nlmsg_pid")

NETLINK_SOCK_SIZE = 1024         # room for a struct netlink_sock (not in the target)


def _not_modelled(k, name: str) -> None:
    k.finding("not-modelled", f"{name}() was called, but kemu has no netlink sender: "
                              "received netlink messages are not modelled", k.current_module())


class _Sockets:
    def __init__(self, k):
        self.socks: dict[int, tuple] = {}       # sock -> (net, unit)


@export("struct sock *__netlink_kernel_create(struct net *net, int unit, struct module *module, "
        "struct netlink_kernel_cfg *cfg)")
def __netlink_kernel_create(k, net, unit, module, cfg):
    mod = k.current_module()
    sk = k.heap.alloc(NETLINK_SOCK_SIZE, kind="kmalloc", zero=True,
                      owner=mod.name if mod else None)
    k.model(_Sockets).socks[sk] = (net, unit)
    return sk


@export("void netlink_kernel_release(struct sock *sk)")
def netlink_kernel_release(k, sk):
    if sk and k.model(_Sockets).socks.pop(sk, None) is not None:
        k.heap.free(sk)


@export("int netlink_has_listeners(struct sock *sk, unsigned int group)")
def netlink_has_listeners(k, sk, group):
    return 0


def _unicast(k, skb):
    yield from _kfree_skb(k, skb)
    return -errno.ECONNREFUSED


def _broadcast(k, skb):
    yield from _kfree_skb(k, skb)
    return -errno.ESRCH


@export("int netlink_unicast(struct sock *ssk, struct sk_buff *skb, u32 portid, int nonblock)")
def netlink_unicast(k, ssk, skb, portid, nonblock):
    return (yield from _unicast(k, skb))


@export("int netlink_broadcast(struct sock *ssk, struct sk_buff *skb, u32 portid, u32 group, "
        "gfp_t allocation)")
def netlink_broadcast(k, ssk, skb, portid, group, allocation):
    return (yield from _broadcast(k, skb))


@export("int nlmsg_notify(struct sock *sk, struct sk_buff *skb, u32 portid, unsigned int group, "
        "int report, gfp_t flags)")
def nlmsg_notify(k, sk, skb, portid, group, report, flags):
    err = 0
    if group:
        if report:
            users = k.target.offset("sk_buff.users")
            k.machine.write_u32(skb + users, k.machine.read_u32(skb + users) + 1)
        err = yield from _broadcast(k, skb)
        if err == -errno.ESRCH:
            err = 0
    if report:
        err2 = yield from _unicast(k, skb)
        if not err:
            err = err2
    return err


@export("int netlink_set_err(struct sock *ssk, u32 portid, u32 group, int code)")
def netlink_set_err(k, ssk, portid, group, code):
    return 0


@export("bool netlink_capable(const struct sk_buff *skb, int cap)")
def netlink_capable(k, skb, cap):
    """Only a message from user space would be checked; kemu sends none."""
    _not_modelled(k, "netlink_capable")
    return 0


@export("bool netlink_net_capable(const struct sk_buff *skb, int cap)")
def netlink_net_capable(k, skb, cap):
    _not_modelled(k, "netlink_net_capable")
    return 0


@export("void netlink_ack(struct sk_buff *in_skb, struct nlmsghdr *nlh, int err, "
        "const struct netlink_ext_ack *extack)")
def netlink_ack(k, in_skb, nlh, err, extack):
    _not_modelled(k, "netlink_ack")


@export("int netlink_rcv_skb(struct sk_buff *skb, void *cb)")
def netlink_rcv_skb(k, skb, cb):
    _not_modelled(k, "netlink_rcv_skb")
    return -errno.EOPNOTSUPP


def _nlmsg_align(k, n: int) -> int:
    a = k.target.const("NLMSG_ALIGNTO")
    return (n + a - 1) & ~(a - 1)


@export("struct nlmsghdr *__nlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, int type, "
        "int len, int flags)")
def __nlmsg_put(k, skb, portid, seq, type, len, flags):
    from ..core.skbuff import skb_put_
    size = k.target.const("NLMSG_HDRLEN") + s32(len)          # nlmsg_msg_size()
    nlh = skb_put_(k, skb, _nlmsg_align(k, size))
    for member, value, width in (("nlmsg_type", type, 2), ("nlmsg_len", size, 4),
                                 ("nlmsg_flags", flags, 2), ("nlmsg_pid", portid, 4),
                                 ("nlmsg_seq", seq, 4)):
        wr(k, nlh, f"nlmsghdr.{member}", value & ((1 << (8 * width)) - 1), width)
    pad = _nlmsg_align(k, size) - size
    if pad:
        k.machine.write(nlh + size, bytes(pad))
    return nlh


@export("int __netlink_dump_start(struct sock *ssk, struct sk_buff *skb, "
        "const struct nlmsghdr *nlh, struct netlink_dump_control *control)")
def __netlink_dump_start(k, ssk, skb, nlh, control):
    # netlink_lookup() of the requesting socket fails: nobody sent the request
    _not_modelled(k, "__netlink_dump_start")
    return -errno.ECONNREFUSED


@export("void do_trace_netlink_extack(const char *msg)")
def do_trace_netlink_extack(k, msg):
    """The netlink:netlink_extack tracepoint (no tracer is attached)."""


# ------------------------------------------------------------ netlink_chain
class _Chain:
    """netlink_chain (a blocking notifier chain): notifier_blocks by priority."""

    def __init__(self, k):
        self.blocks: list[int] = []


def chain_register(k, chain: list, nb: int, kind: str, what: str) -> int:
    """notifier_chain_register(): higher priority first, after equal ones; -EEXIST twice."""
    if nb in chain:
        from ...lib.kemu_warn import warn
        warn(k, "kernel/notifier.c:28", "atomic_notifier_chain_register+0x52/0x80",
             f"notifier callback {sym(k, rd(k, nb, 'notifier_block.notifier_call'))} "
             "already registered")
        return -errno.EEXIST
    prio = rd_s32(k, nb, "notifier_block.priority")
    i = 0
    while i < len(chain) and rd_s32(k, chain[i], "notifier_block.priority") >= prio:
        i += 1
    chain.insert(i, nb)
    nxt = chain[i + 1] if i + 1 < len(chain) else 0
    wr(k, nb, "notifier_block.next", nxt)
    if i:
        wr(k, chain[i - 1], "notifier_block.next", nb)
    mod = k.module_containing(rd(k, nb, "notifier_block.notifier_call")) or k.current_module()
    k.register(kind, nb, mod, f"{what} {sym(k, rd(k, nb, 'notifier_block.notifier_call'))}")
    return 0


def chain_unregister(k, chain: list, nb: int, kind: str) -> int:
    """notifier_chain_unregister(): -ENOENT when the block is not on the chain."""
    if nb not in chain:
        return -errno.ENOENT
    i = chain.index(nb)
    chain.pop(i)
    if i:
        wr(k, chain[i - 1], "notifier_block.next", chain[i] if i < len(chain) else 0)
    k.unregister(kind, nb)
    return 0


@export("int netlink_register_notifier(struct notifier_block *nb)")
def netlink_register_notifier(k, nb):
    return chain_register(k, k.model(_Chain).blocks, nb, "netlink notifier", "netlink notifier")


@export("int netlink_unregister_notifier(struct notifier_block *nb)")
def netlink_unregister_notifier(k, nb):
    return chain_unregister(k, k.model(_Chain).blocks, nb, "netlink notifier")
