"""net/core/datagram.c, net/core/sock.c, net/socket.c: a socket's receive side, for linking.

Protocol families (ATM, CAN, Bluetooth...) call these from their sockets'
recvmsg/poll and skb destructors. kemu registers families (sock_register)
but no process ever creates a socket, so no socket receives: these are
link-only (a call is a ``not-modelled`` finding and the failure Linux gives
on an empty receive queue).
"""
from __future__ import annotations

import errno

from kemu.abi.exports import link_only_table

link_only_table((
    ("struct sk_buff *skb_recv_datagram(struct sock *sk, unsigned int flags, int *err)", 0),
    ("void skb_free_datagram(struct sock *sk, struct sk_buff *skb)", None),
    ("int skb_copy_datagram_iter(const struct sk_buff *from, int offset, struct iov_iter *to, "
     "int size)", -errno.EFAULT),
    ("void __sock_recv_cmsgs(struct msghdr *msg, struct sock *sk, struct sk_buff *skb)", None),
    ("int sock_gettstamp(struct socket *sock, void *userstamp, bool timeval, bool time32)",
     -errno.ENOENT),
    ("void sock_efree(struct sk_buff *skb)", None),
), "no process creates a socket in kemu")
