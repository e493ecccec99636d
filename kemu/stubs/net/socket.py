"""net/socket.c, net/core/sysctl_net_core.c, net/ipv4/inet_connection_sock.c, igmp.c,
udp.c, ip_tunnel_core.c, net/ipv6/mcast.c, ip6_udp_tunnel.c: what kernel-side socket
users (IPVS sync daemons, tunnels) link against.

kemu drives no socket(2) and creates no kernel socket, so the in-kernel
socket API (``sock_create_kern``, ``kernel_bind``, ``kernel_sendmsg``...)
and the multicast joins and UDP encapsulation helpers that act on one are
reached only on paths kemu does not drive: a call is a not-modelled finding
and returns the failure Linux would give. The net.core.[rw]mem_max sysctls
hold their 6.1 defaults (SK_[RW]MEM_MAX: 256 packets of SKB_TRUESIZE(256)),
and the local port range is net.ipv4.ip_local_port_range's default.
"""
import errno

from kemu import data, export
from kemu.abi.exports import unreachable

NO_SOCKET = "kemu creates no kernel socket (no socket(2), no sync daemon)"
IP_LOCAL_PORT_RANGE = (32768, 60999)          # inet_init_net(): ip_local_ports.range


def _sk_mem_max(k) -> int:
    """SK_WMEM_MAX == SK_RMEM_MAX == _SK_MEM_OVERHEAD * _SK_MEM_PACKETS."""
    def align(n):                                # SKB_DATA_ALIGN(): SMP_CACHE_BYTES 64
        return (n + 63) & ~63
    truesize = 256 + align(k.target.sizeof("sk_buff")) + align(k.target.sizeof("skb_shared_info"))
    return truesize * 256


@data("u32 sysctl_wmem_max")
def sysctl_wmem_max(k, addr):
    k.machine.write_u32(addr, _sk_mem_max(k))


@data("u32 sysctl_rmem_max")
def sysctl_rmem_max(k, addr):
    k.machine.write_u32(addr, _sk_mem_max(k))


@export("void inet_get_local_port_range(struct net *net, int *low, int *high)")
def inet_get_local_port_range(k, net, low, high):
    k.machine.write_u32(low, IP_LOCAL_PORT_RANGE[0])
    k.machine.write_u32(high, IP_LOCAL_PORT_RANGE[1])


for _proto, _result in [
        ("int sock_create_kern(struct net *net, int family, int type, int protocol, "
         "struct socket **res)", -errno.EAFNOSUPPORT),
        ("void sock_release(struct socket *sock)", None),
        ("int kernel_bind(struct socket *sock, struct sockaddr *addr, int addrlen)",
         -errno.EINVAL),
        ("int kernel_connect(struct socket *sock, struct sockaddr *addr, int addrlen, "
         "int flags)", -errno.EINVAL),
        ("int kernel_sendmsg(struct socket *sock, struct msghdr *msg, struct kvec *vec, "
         "size_t num, size_t len)", -errno.ENOTCONN),
        ("int sock_recvmsg(struct socket *sock, struct msghdr *msg, int flags)",
         -errno.ENOTCONN),
        ("int ip_mc_join_group(struct sock *sk, struct ip_mreqn *imr)", -errno.ENODEV),
        ("int ipv6_sock_mc_join(struct sock *sk, int ifindex, const struct in6_addr *addr)",
         -errno.ENODEV),
        ("void udp_set_csum(bool nocheck, struct sk_buff *skb, __be32 saddr, __be32 daddr, "
         "int len)", None),
        ("void udp6_set_csum(bool nocheck, struct sk_buff *skb, const struct in6_addr *saddr, "
         "const struct in6_addr *daddr, int len)", None),
        ("int iptunnel_handle_offloads(struct sk_buff *skb, int gso_type_mask)", -errno.ENOMEM),
        ("__be16 udp_flow_hashrnd(void)", 0)]:
    unreachable(_proto, _result, NO_SOCKET)
