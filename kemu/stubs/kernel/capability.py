"""kernel/capability.c: capable() asks the current task's effective capabilities.

insmod and kernel threads run with init_cred (every capability); a command run
with ``--uid N`` has none, so a module's capable(CAP_SYS_ADMIN) check fails for
it as on Linux. Left out: the LSM hook (no security module is loaded), audit,
and user namespaces other than init_user_ns (every ns argument is taken as it).
"""
from kemu import export
from kemu.abi.exports import members

from .process import current_cred, has_cap

members("struct file", "f_cred")


@export("bool capable(int cap)")
def capable(k, cap):
    return has_cap(k, current_cred(k), cap)


@export("bool ns_capable(struct user_namespace *ns, int cap)")
def ns_capable(k, ns, cap):
    return has_cap(k, current_cred(k), cap)


@export("bool ns_capable_noaudit(struct user_namespace *ns, int cap)")
def ns_capable_noaudit(k, ns, cap):
    return has_cap(k, current_cred(k), cap)


@export("bool file_ns_capable(const struct file *file, struct user_namespace *ns, int cap)")
def file_ns_capable(k, file, ns, cap):
    from kemu.abi.toolkit import rd
    cred = rd(k, file, "file.f_cred") if file else 0
    return has_cap(k, cred or current_cred(k), cap)


@export("bool capable_wrt_inode_uidgid(struct user_namespace *mnt_userns, "
        "const struct inode *inode, int cap)")
def capable_wrt_inode_uidgid(k, mnt_userns, inode, cap):
    """In init_user_ns every inode's ids are mapped: capable(cap)."""
    return has_cap(k, current_cred(k), cap)
