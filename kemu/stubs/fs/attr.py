"""fs/attr.c: what a filesystem's setattr uses (truncation through notify_change()).

``setattr_prepare`` accepts the change (kemu's processes are root, which
passes every check but the size limit: -EFBIG past ``s_maxbytes``, as
inode_newsize_ok() says), ``setattr_copy`` copies the owner, times and mode
the ``struct iattr`` carries into the inode.

Left out: the ATTR_KILL_SUID/SGID handling and the user-namespace mapping of
idmapped mounts.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import rd, s64, wr

members("struct iattr", "ia_valid", "ia_mode", "ia_uid", "ia_gid", "ia_size", "ia_atime",
        "ia_mtime", "ia_ctime")
members("struct super_block", "s_maxbytes")


@export("int inode_newsize_ok(const struct inode *inode, loff_t offset)")
def inode_newsize_ok(k, inode, offset):
    offset = s64(offset)
    if offset < 0:
        return -errno.EINVAL
    if offset > s64(rd(k, rd(k, inode, "inode.i_sb"), "super_block.s_maxbytes")):
        return -errno.EFBIG
    return 0


@export("int setattr_prepare(struct user_namespace *mnt_userns, struct dentry *dentry, "
        "struct iattr *attr)")
def setattr_prepare(k, mnt_userns, dentry, attr):
    if rd(k, attr, "iattr.ia_valid", 4) & k.target.const("ATTR_SIZE"):
        return inode_newsize_ok(k, rd(k, dentry, "dentry.d_inode"), rd(k, attr, "iattr.ia_size"))
    return 0


@export("void setattr_copy(struct user_namespace *mnt_userns, struct inode *inode, "
        "const struct iattr *attr)")
def setattr_copy(k, mnt_userns, inode, attr):
    t, m = k.target, k.machine
    valid = rd(k, attr, "iattr.ia_valid", 4)
    if valid & t.const("ATTR_UID"):
        wr(k, inode, "inode.i_uid", rd(k, attr, "iattr.ia_uid", 4), 4)
    if valid & t.const("ATTR_GID"):
        wr(k, inode, "inode.i_gid", rd(k, attr, "iattr.ia_gid", 4), 4)
    for bit, name in (("ATTR_ATIME", "atime"), ("ATTR_MTIME", "mtime"), ("ATTR_CTIME", "ctime")):
        if valid & t.const(bit):
            m.write(inode + t.offset(f"inode.i_{name}"),
                    m.read(attr + t.offset(f"iattr.ia_{name}"), 16))
    if valid & t.const("ATTR_MODE"):
        wr(k, inode, "inode.i_mode", rd(k, attr, "iattr.ia_mode", 2), 2)
