"""net/ipv4/inet_hashtables.c, udp.c, inet_timewait_sock.c, net/ipv6/inet6_hashtables.c,
udp.c, net/core/sock.c: socket lookups (xt_socket, TPROXY, nf_socket_*).

kemu drives no socket system call, so no TCP or UDP socket (established,
listening or in TIME_WAIT) exists in any namespace: every lookup finds
nothing and returns NULL, as Linux does for a packet no socket matches.
Dropping a reference to a looked-up socket (``sock_gen_put``,
``inet_twsk_put``...) therefore has no socket to be called with: such a call
is a not-modelled finding.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import unreachable

NO_SOCK = "kemu creates no sockets, so no lookup ever returned one to put"


@export("struct sock *__inet_lookup_established(struct net *net, struct inet_hashinfo *hashinfo, "
        "const __be32 saddr, const __be16 sport, const __be32 daddr, const u16 hnum, "
        "const int dif, const int sdif)")
def __inet_lookup_established(k, net, hashinfo, saddr, sport, daddr, hnum, dif, sdif):
    return 0


@export("struct sock *__inet_lookup_listener(struct net *net, struct inet_hashinfo *hashinfo, "
        "struct sk_buff *skb, int doff, const __be32 saddr, const __be16 sport, "
        "const __be32 daddr, const unsigned short hnum, const int dif, const int sdif)")
def __inet_lookup_listener(k, net, hashinfo, skb, doff, saddr, sport, daddr, hnum, dif, sdif):
    return 0


@export("struct sock *udp4_lib_lookup(struct net *net, __be32 saddr, __be16 sport, "
        "__be32 daddr, __be16 dport, int dif)")
def udp4_lib_lookup(k, net, saddr, sport, daddr, dport, dif):
    return 0


@export("struct sock *__inet6_lookup_established(struct net *net, "
        "struct inet_hashinfo *hashinfo, const struct in6_addr *saddr, const __be16 sport, "
        "const struct in6_addr *daddr, const u16 hnum, const int dif, const int sdif)")
def __inet6_lookup_established(k, net, hashinfo, saddr, sport, daddr, hnum, dif, sdif):
    return 0


@export("struct sock *inet6_lookup_listener(struct net *net, struct inet_hashinfo *hashinfo, "
        "struct sk_buff *skb, int doff, const struct in6_addr *saddr, const __be16 sport, "
        "const struct in6_addr *daddr, const unsigned short hnum, const int dif, "
        "const int sdif)")
def inet6_lookup_listener(k, net, hashinfo, skb, doff, saddr, sport, daddr, hnum, dif, sdif):
    return 0


@export("struct sock *inet6_lookup(struct net *net, struct inet_hashinfo *hashinfo, "
        "struct sk_buff *skb, int doff, const struct in6_addr *saddr, const __be16 sport, "
        "const struct in6_addr *daddr, const __be16 dport, const int dif)")
def inet6_lookup(k, net, hashinfo, skb, doff, saddr, sport, daddr, dport, dif):
    return 0


@export("struct sock *udp6_lib_lookup(struct net *net, const struct in6_addr *saddr, "
        "__be16 sport, const struct in6_addr *daddr, __be16 dport, int dif)")
def udp6_lib_lookup(k, net, saddr, sport, daddr, dport, dif):
    return 0


for _proto in ["void sock_gen_put(struct sock *sk)",
               "void sk_free(struct sock *sk)",
               "void sock_edemux(struct sk_buff *skb)",
               "void inet_twsk_put(struct inet_timewait_sock *tw)",
               "void inet_twsk_deschedule_put(struct inet_timewait_sock *tw)"]:
    unreachable(_proto, None, NO_SOCK)
