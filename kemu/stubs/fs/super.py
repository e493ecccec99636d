"""fs/super.c, fs/fs_parser.c and the mount-time helpers of fs/libfs.c, for linking.

kemu registers filesystem types but never mounts one, so what a filesystem
module needs only from its ``init_fs_context``/``mount``/``kill_sb`` and inode
and superblock operations is modelled for linking: the module loads, and
should any of these ever be called (a module calling one from its init or
exit, say) the call is reported as a finding and fails the way a refused
mount would (-EOPNOTSUPP, or ERR_PTR(-EOPNOTSUPP)). The ``const struct``
tables (``simple_dir_operations``...) are zeroed.
"""
from __future__ import annotations

import errno

from kemu import data

from .internal import link_only as _link_only
from kemu.abi.toolkit import err_ptr


_ENOTSUP = -errno.EOPNOTSUPP
_ERRPTR = err_ptr(-errno.EOPNOTSUPP)

for _proto, _result in (
        ("int get_tree_nodev(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("int get_tree_single(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("int get_tree_single_reconf(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("int get_tree_bdev(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("struct dentry *mount_bdev(struct file_system_type *fs_type, int flags, "
         "const char *dev_name, void *data, "
         "int (*fill_super)(struct super_block *, void *, int))", _ERRPTR),
        ("struct dentry *mount_single(struct file_system_type *fs_type, int flags, void *data, "
         "int (*fill_super)(struct super_block *, void *, int))", _ERRPTR),
        ("struct dentry *mount_nodev(struct file_system_type *fs_type, int flags, void *data, "
         "int (*fill_super)(struct super_block *, void *, int))", _ERRPTR),
        ("void generic_shutdown_super(struct super_block *sb)", None),
        ("void kill_block_super(struct super_block *sb)", None),
        ("void kill_anon_super(struct super_block *sb)", None),
        ("void kill_litter_super(struct super_block *sb)", None),
        ("void deactivate_locked_super(struct super_block *sb)", None),
        ("int sync_filesystem(struct super_block *sb)", _ENOTSUP),
        ("int __fs_parse(struct p_log *log, const struct fs_parameter_spec *desc, "
         "struct fs_parameter *value, struct fs_parse_result *result)", -errno.EINVAL),
        ("int fs_lookup_param(struct fs_context *fc, struct fs_parameter *param, bool want_bdev, "
         "unsigned int flags, struct path *_path)", -errno.EINVAL),
        ("int simple_statfs(struct dentry *dentry, struct kstatfs *buf)", _ENOTSUP),
        ("int simple_unlink(struct inode *dir, struct dentry *dentry)", _ENOTSUP),
        ("int simple_rmdir(struct inode *dir, struct dentry *dentry)", _ENOTSUP),
        ("int simple_nosetlease(struct file *filp, long arg, struct file_lock **flp, "
         "void **priv)", -errno.EINVAL),
        ("struct dentry *simple_lookup(struct inode *dir, struct dentry *dentry, "
         "unsigned int flags)", _ERRPTR),
        ("const char *simple_get_link(struct dentry *dentry, struct inode *inode, "
         "struct delayed_call *done)", _ERRPTR),
        ("int simple_fill_super(struct super_block *s, unsigned long magic, "
         "const struct tree_descr *files)", _ENOTSUP),
        ("int simple_pin_fs(struct file_system_type *type, struct vfsmount **mount, int *count)",
         _ENOTSUP),
        ("void simple_release_fs(struct vfsmount **mount, int *count)", None)):
    _link_only(_proto, _result)

# fs_parser.c: the parameter type checkers are only called from __fs_parse().
for _kind in ("bool", "u32", "s32", "u64", "enum", "string", "blob", "blockdev", "path", "fd"):
    _link_only(f"int fs_param_is_{_kind}(struct p_log *log, const struct fs_parameter_spec *p, "
               "struct fs_parameter *param, struct fs_parse_result *result)", -errno.EINVAL)


def _zeroed(k, addr):
    pass


data("const struct file_operations simple_dir_operations")(_zeroed)
data("const struct inode_operations simple_dir_inode_operations", size=None)(_zeroed)
data("const struct inode_operations simple_symlink_inode_operations", size=None)(_zeroed)
data("const struct file_operations generic_ro_fops")(_zeroed)
