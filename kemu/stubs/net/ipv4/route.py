"""net/ipv4/route.c, fib_frontend.c, fib_rules.c, fib_trie.c, devinet.c, ip_output.c,
ipv4/netfilter.c: IPv4 routing and output as netfilter modules use them.

kemu's machine has no network device (see stubs/net/core/dev.py): no
interface is up, so no address is configured and every FIB table is empty,
as on a Linux whose loopback was never brought up. Lookups therefore answer
what Linux answers then: ``inet_addr_type`` gives RTN_BROADCAST for 0/8 and
255.255.255.255, RTN_MULTICAST for 224/4 and RTN_UNICAST otherwise (no local
route); ``fib_table_lookup`` finds nothing (-EAGAIN), ``__fib_lookup``,
``ip_route_output_flow`` and so ``nf_ip_route``/``ip_route_me_harder`` fail
-ENETUNREACH. No route means no ``struct rtable``/``dst_entry`` ever exists,
so functions that take one (``ipv4_mtu``, ``ip_local_out`` of a routed skb...)
are reached only through paths kemu does not drive: a call is a not-modelled
finding. ``ip_send_check`` (the IPv4 header checksum) is the kernel's.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import unreachable

from kemu.abi.toolkit import err_ptr
from ..netlink.af_netlink import chain_register, chain_unregister

NO_DST = "kemu routes nothing (no device is up), so no dst_entry/rtable exists"


def addr_type(k, addr_be: int) -> int:
    """__inet_dev_addr_type() with an empty FIB (``addr_be`` as read from memory, __be32)."""
    c = k.target.const
    first = addr_be & 0xFF                          # the first octet of a __be32 in memory
    if first == 0 or addr_be == 0xFFFFFFFF:         # ipv4_is_zeronet / ipv4_is_lbcast
        return c("RTN_BROADCAST")
    if first & 0xF0 == 0xE0:                        # ipv4_is_multicast
        return c("RTN_MULTICAST")
    return c("RTN_UNICAST")                         # fib_table_lookup() found no local route


@export("unsigned int inet_addr_type(struct net *net, __be32 addr)")
def inet_addr_type(k, net, addr):
    return addr_type(k, addr)


@export("unsigned int inet_dev_addr_type(struct net *net, const struct net_device *dev, "
        "__be32 addr)")
def inet_dev_addr_type(k, net, dev, addr):
    return addr_type(k, addr)


@export("int fib_table_lookup(struct fib_table *tb, const struct flowi4 *flp, "
        "struct fib_result *res, int fib_flags)")
def fib_table_lookup(k, tb, flp, res, fib_flags):
    return -errno.EAGAIN                            # an empty trie: no leaf matches


@export("int __fib_lookup(struct net *net, struct flowi4 *flp, struct fib_result *res, "
        "unsigned int flags)")
def __fib_lookup(k, net, flp, res, flags):
    return -errno.ENETUNREACH                       # every rule's table lookup said -EAGAIN


@export("struct rtable *ip_route_output_flow(struct net *net, struct flowi4 *flp4, "
        "const struct sock *sk)")
def ip_route_output_flow(k, net, flp4, sk):
    return err_ptr(-errno.ENETUNREACH)              # ip_route_output_key_hash_rcu: no route


@export("int nf_ip_route(struct net *net, struct dst_entry **dst, struct flowi *fl, bool strict)")
def nf_ip_route(k, net, dst, fl, strict):
    return -errno.ENETUNREACH                       # PTR_ERR(ip_route_output_key())


@export("int ip_route_me_harder(struct net *net, struct sock *sk, struct sk_buff *skb, "
        "unsigned int addr_type)")
def ip_route_me_harder(k, net, sk, skb, addr_type_):
    return -errno.ENETUNREACH                       # PTR_ERR(ip_route_output_key())


@export("__be32 inet_select_addr(const struct net_device *dev, __be32 dst, int scope)")
def inet_select_addr(k, dev, dst, scope):
    return 0                                        # no in_device has an address


@export("void ip_send_check(struct iphdr *iph)")
def ip_send_check(k, iph):
    """iph->check = 0; iph->check = ip_fast_csum(iph, iph->ihl)."""
    m = k.machine
    ihl = m.read_u8(iph) & 0x0F
    m.write_u16(iph + 10, 0)
    data = m.read(iph, ihl * 4)
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    m.write(iph + 10, (~s & 0xFFFF).to_bytes(2, "big"))


class _InetaddrChain:
    def __init__(self, k):
        self.blocks: list[int] = []


@export("int register_inetaddr_notifier(struct notifier_block *nb)")
def register_inetaddr_notifier(k, nb):
    """blocking_notifier_chain_register(&inetaddr_chain): no address exists to report."""
    return chain_register(k, k.model(_InetaddrChain).blocks, nb, "inetaddr notifier",
                          "inetaddr notifier")


@export("int unregister_inetaddr_notifier(struct notifier_block *nb)")
def unregister_inetaddr_notifier(k, nb):
    return chain_unregister(k, k.model(_InetaddrChain).blocks, nb, "inetaddr notifier")


for _proto, _result in [
        ("unsigned int ipv4_mtu(const struct dst_entry *dst)", 0),
        ("int ip_local_out(struct net *net, struct sock *sk, struct sk_buff *skb)",
         -errno.ENETUNREACH),
        ("int ip_output(struct net *net, struct sock *sk, struct sk_buff *skb)",
         -errno.ENETUNREACH),
        ("void ipv4_update_pmtu(struct sk_buff *skb, struct net *net, u32 mtu, int oif, "
         "u8 protocol)", None),
        ("struct dst_entry *ipv4_dst_check(struct dst_entry *dst, u32 cookie)", 0),
        ("bool fib_info_nh_uses_dev(struct fib_info *fi, const struct net_device *dev)", False),
        ("int __ip_options_compile(struct net *net, struct ip_options *opt, struct sk_buff *skb, "
         "__be32 *info)", -errno.EINVAL),
        ("void __ip_select_ident(struct net *net, struct iphdr *iph, int segs)", None),
        ("void arp_send(int type, int ptype, __be32 dest_ip, struct net_device *dev, "
         "__be32 src_ip, const unsigned char *dest_hw, const unsigned char *src_hw, "
         "const unsigned char *target_hw)", None)]:
    unreachable(_proto, _result, NO_DST)
