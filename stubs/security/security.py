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
