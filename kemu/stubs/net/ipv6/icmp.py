"""net/ipv6/ip6_icmp.c, net/ipv4/icmp.c: sending ICMP errors about a packet.

kemu has no interface and no route back to any sender, so the error message
is never built: icmp6_xmit()/icmp_push_reply() would find no dst and give up
silently, as the kernel does when there is no route. The call is noted once.
"""
from kemu import export


def _no_route(k, name):
    k.note(f"{name}(): no route in kemu, the ICMP error is not sent")


@export("void icmp6_send(struct sk_buff *skb, u8 type, u8 code, __u32 info, "
        "const struct in6_addr *force_saddr, const struct inet6_skb_parm *parm)")
def icmp6_send(k, skb, type, code, info, force_saddr, parm):
    _no_route(k, "icmp6_send")


@export("void __icmp_send(struct sk_buff *skb_in, int type, int code, __be32 info, "
        "const struct ip_options *opt)")
def __icmp_send(k, skb_in, type, code, info, opt):
    _no_route(k, "__icmp_send")
