"""net/xfrm/xfrm_policy.c: IPsec policy lookup as netfilter modules use it.

No xfrm policy is ever installed in kemu (nothing drives the xfrm netlink
interface or setsockopt), so ``xfrm_lookup`` of a route finds no policy and
returns the route unchanged, as Linux does; ``__xfrm_decode_session`` needs
a routed skb (a path kemu does not drive): a call is a not-modelled finding.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import unreachable


@export("struct dst_entry *xfrm_lookup(struct net *net, struct dst_entry *dst_orig, "
        "const struct flowi *fl, const struct sock *sk, int flags)")
def xfrm_lookup(k, net, dst_orig, fl, sk, flags):
    return dst_orig                                 # no socket or flow policy: dst_orig


unreachable("int __xfrm_decode_session(struct sk_buff *skb, struct flowi *fl, "
            "unsigned int family, int reverse)", -errno.EAFNOSUPPORT,
            "kemu routes no packets, so no skb has a dst to decode")
