"""net/netfilter/utils.c: nf_route(), the family switch over the IPv4/IPv6 route helpers."""
from kemu import export

from ..ipv4.route import nf_ip_route
from ..ipv6.route import __nf_ip6_route

AF_INET, AF_INET6 = 2, 10


@export("int nf_route(struct net *net, struct dst_entry **dst, struct flowi *fl, bool strict, "
        "unsigned short family)")
def nf_route(k, net, dst, fl, strict, family):
    route = {AF_INET: nf_ip_route, AF_INET6: __nf_ip6_route}.get(family)
    return route(k, net, dst, fl, strict) if route else 0
