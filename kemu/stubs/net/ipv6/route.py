"""net/ipv6/route.c, ipv6/netfilter.c, addrconf.c, output_core.c, ip6_output.c,
af_inet6.c: IPv6 routing and output as netfilter modules use them.

As for IPv4 (stubs/net/ipv4/route.py), kemu's machine has no device up, so
no IPv6 address is configured and no route exists: ``__nf_ip6_route`` and
``ip6_route_me_harder`` fail -ENETUNREACH (the error of the ip6_null_entry
ip6_route_output() gives them), ``ipv6_dev_get_saddr`` finds no source
address (-EADDRNOTAVAIL). ``register_inet6addr_notifier`` puts the block on
the chain (no address ever appears to report). IPv6 is enabled
(``ipv6_mod_enabled``). Functions that need a ``dst_entry`` or a routed skb
are reached only through paths kemu does not drive: a call is a
not-modelled finding.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import unreachable

from ..netlink.af_netlink import chain_register, chain_unregister

NO_DST = "kemu routes nothing (no device is up), so no IPv6 dst_entry exists"


@export("int __nf_ip6_route(struct net *net, struct dst_entry **dst, struct flowi *fl, "
        "bool strict)")
def __nf_ip6_route(k, net, dst, fl, strict):
    return -errno.ENETUNREACH                       # ip6_null_entry's dst.error


@export("int ip6_route_me_harder(struct net *net, struct sock *sk_partial, struct sk_buff *skb)")
def ip6_route_me_harder(k, net, sk_partial, skb):
    return -errno.ENETUNREACH                       # "No more route", dst->error


@export("int ipv6_dev_get_saddr(struct net *net, const struct net_device *dst_dev, "
        "const struct in6_addr *daddr, unsigned int prefs, struct in6_addr *saddr)")
def ipv6_dev_get_saddr(k, net, dst_dev, daddr, prefs, saddr):
    return -errno.EADDRNOTAVAIL                     # no candidate address at all


@export("bool ipv6_mod_enabled(void)")
def ipv6_mod_enabled(k):
    return True                                     # disable_ipv6_mod == 0


class _Inet6addrChain:
    def __init__(self, k):
        self.blocks: list[int] = []


@export("int register_inet6addr_notifier(struct notifier_block *nb)")
def register_inet6addr_notifier(k, nb):
    return chain_register(k, k.model(_Inet6addrChain).blocks, nb, "inet6addr notifier",
                          "inet6addr notifier")


@export("int unregister_inet6addr_notifier(struct notifier_block *nb)")
def unregister_inet6addr_notifier(k, nb):
    return chain_unregister(k, k.model(_Inet6addrChain).blocks, nb, "inet6addr notifier")


for _proto, _result in [
        ("unsigned int ip6_mtu(const struct dst_entry *dst)", 0),
        ("int ip6_local_out(struct net *net, struct sock *sk, struct sk_buff *skb)",
         -errno.ENETUNREACH),
        ("int ip6_output(struct net *net, struct sock *sk, struct sk_buff *skb)",
         -errno.ENETUNREACH),
        ("int ip6_dst_hoplimit(struct dst_entry *dst)", 64),
        ("struct dst_entry *ip6_dst_check(struct dst_entry *dst, u32 cookie)", 0),
        # both return the ip6_null_entry, never NULL: kemu has none to give
        ("struct dst_entry *ip6_route_output_flags(struct net *net, const struct sock *sk, "
         "struct flowi6 *fl6, int flags)", 0),
        ("struct dst_entry *ip6_route_lookup(struct net *net, struct flowi6 *fl6, "
         "const struct sk_buff *skb, int flags)", 0),
        ("int br_ip6_fragment(struct net *net, struct sock *sk, struct sk_buff *skb, "
         "struct nf_bridge_frag_data *data, int (*output)(struct net *, struct sock *sk, "
         "const struct nf_bridge_frag_data *data, struct sk_buff *))", -errno.ENETUNREACH)]:
    unreachable(_proto, _result, NO_DST)
