"""security/security.c: LSM hooks with no security module providing them.

kemu boots with no LSM that maps secids to contexts, so
``security_secid_to_secctx`` fails -EOPNOTSUPP (call_int_hook's default) and
``security_release_secctx`` has nothing to free.
"""
import errno

from kemu import export


@export("int security_secid_to_secctx(u32 secid, char **secdata, u32 *seclen)")
def security_secid_to_secctx(k, secid, secdata, seclen):
    return -errno.EOPNOTSUPP


@export("void security_release_secctx(char *secdata, u32 seclen)")
def security_release_secctx(k, secdata, seclen):
    pass


@export("int security_secctx_to_secid(const char *secdata, u32 seclen, u32 *secid)")
def security_secctx_to_secid(k, secdata, seclen, secid):
    k.machine.write_u32(secid, 0)
    return 0             # call_int_hook(secctx_to_secid, 0, ...) with no LSM: 0, secid 0


@export("int security_secmark_relabel_packet(u32 secid)")
def security_secmark_relabel_packet(k, secid):
    return 0


@export("void security_secmark_refcount_inc(void)")
def security_secmark_refcount_inc(k):
    pass


@export("void security_secmark_refcount_dec(void)")
def security_secmark_refcount_dec(k):
    pass


@export("void security_skb_classify_flow(struct sk_buff *skb, struct flowi_common *flic)")
def security_skb_classify_flow(k, skb, flic):
    pass                 # call_void_hook(req_classify_flow...): no LSM implements it here


@export("void security_sock_graft(struct sock *sk, struct socket *parent)")
def security_sock_graft(k, sk, parent):
    pass                 # call_void_hook(sock_graft...): no LSM implements it here


@export("void security_sk_clone(const struct sock *sk, struct sock *newsk)")
def security_sk_clone(k, sk, newsk):
    pass                 # call_void_hook(sk_clone_security...)


@export("int security_locked_down(enum lockdown_reason what)")
def security_locked_down(k, what):
    """The lockdown LSM at "none" (Debian locks down only under UEFI Secure Boot): 0."""
    return 0
