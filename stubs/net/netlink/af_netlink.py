"""net/netlink/af_netlink.c and lib/nlattr.c: kernel netlink sockets, attributes.

kemu has no user space, so no netlink socket ever binds a port id or joins a
group: ``netlink_unicast`` frees the skb and fails -ECONNREFUSED (no socket
with that port id), ``netlink_broadcast`` consumes it and returns -ESRCH
(delivered to nobody), ``netlink_has_listeners`` is 0, ``nlmsg_notify``
combines the two as the kernel does. ``__netlink_kernel_create`` gives a
kernel socket object that ``netlink_kernel_release`` frees (a leak of it is
reported with the module). ``nla_put`` writes a real ``struct nlattr``.
Processing a received message (``netlink_rcv_skb``, ``__nla_parse``,
``netlink_ack``, ``netlink_net_capable``) cannot happen without a sender: if
module code calls them, a "not-modelled" finding is recorded and the
kernel's error for the case is returned.
"""
from __future__ import annotations

import errno

from kemu import export

from ..core.skbuff import _kfree_skb, skb_put_

NLA_ALIGNTO = 4
NLA_HDRLEN = 4
NETLINK_SOCK_SIZE = 1024         # room for a struct netlink_sock (not in the target)


def _nla_align(n: int) -> int:
    return (n + NLA_ALIGNTO - 1) & ~(NLA_ALIGNTO - 1)


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


@export("int __nla_parse(struct nlattr **tb, int maxtype, const struct nlattr *head, int len, "
        "const struct nla_policy *policy, unsigned int validate, "
        "struct netlink_ext_ack *extack)")
def __nla_parse(k, tb, maxtype, head, len_, policy, validate, extack):
    _not_modelled(k, "__nla_parse")
    return -errno.EOPNOTSUPP


def nla_put_(k, skb: int, attrtype: int, payload: bytes) -> int:
    """nla_put(): 0, or -EMSGSIZE when the skb's tailroom is too small."""
    t, m = k.target, k.machine
    total = _nla_align(NLA_HDRLEN + len(payload))
    tail = m.read_u32(skb + t.offset("sk_buff.tail"))
    end = m.read_u32(skb + t.offset("sk_buff.end"))
    if m.read_u32(skb + t.offset("sk_buff.data_len")) or end - tail < total:
        return -errno.EMSGSIZE
    nla = skb_put_(k, skb, total)
    m.write_u16(nla + t.offset("nlattr.nla_len"), NLA_HDRLEN + len(payload))
    m.write_u16(nla + t.offset("nlattr.nla_type"), attrtype & 0xFFFF)
    m.write(nla + NLA_HDRLEN, payload + bytes(total - NLA_HDRLEN - len(payload)))
    return 0


@export("int nla_put(struct sk_buff *skb, int attrtype, int attrlen, const void *data)")
def nla_put(k, skb, attrtype, attrlen, data):
    payload = bytes(k.machine.read(data, attrlen)) if attrlen > 0 and data else bytes(attrlen)
    return nla_put_(k, skb, attrtype, payload)
