"""kernel/capability.c: the task running module code is root (insmod)."""
from kemu import export


@export("bool capable(int cap)")
def capable(k, cap):
    return True


@export("bool ns_capable(struct user_namespace *ns, int cap)")
def ns_capable(k, ns, cap):
    return True


@export("bool ns_capable_noaudit(struct user_namespace *ns, int cap)")
def ns_capable_noaudit(k, ns, cap):
    return True


@export("bool file_ns_capable(const struct file *file, struct user_namespace *ns, int cap)")
def file_ns_capable(k, file, ns, cap):
    return True


@export("bool capable_wrt_inode_uidgid(struct user_namespace *mnt_userns, "
        "const struct inode *inode, int cap)")
def capable_wrt_inode_uidgid(k, mnt_userns, inode, cap):
    """Root in init_user_ns, where every inode's ids are mapped."""
    return True
