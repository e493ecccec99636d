"""fs/crypto/*.c and fs/verity/*.c: per-file encryption and verity, for linking.

Only reachable on a mounted filesystem with encrypted or verity files:
link-only (a call is a ``not-modelled`` finding and fails -EOPNOTSUPP/NULL),
but for what filesystems call on every name of an unencrypted directory:
``fscrypt_match_name`` (a plain comparison with ``fname->disk_name``),
``fscrypt_fname_free_buffer``, ``fscrypt_file_open`` (0: no directory is
encrypted), and the inode teardown (``fscrypt_put_encryption_info``,
``fscrypt_free_inode``, ``fsverity_cleanup_inode``: no key or verity info
is ever attached), ``fsverity_file_open`` (0: no file has verity); fs/libfs.c's ``generic_set_encrypted_ci_d_ops``
sets nothing when there is neither encryption nor casefolding.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from .internal import link_only_table
from kemu.abi.toolkit import err_ptr, kfree, rd, wr

members("struct fscrypt_name", "disk_name")
members("struct fscrypt_str", "name", "len")

_ENOTSUP = -errno.EOPNOTSUPP
_ERRPTR = err_ptr(-errno.EOPNOTSUPP)

link_only_table((
    # linux/fscrypt.h
    ('int __fscrypt_encrypt_symlink(struct inode *inode, const char *target, unsigned '
     'int len, struct fscrypt_str *disk_link)',
     _ENOTSUP),
    ('int __fscrypt_prepare_link(struct inode *inode, struct inode *dir, struct dentry '
     '*dentry)',
     _ENOTSUP),
    ('int __fscrypt_prepare_lookup(struct inode *dir, struct dentry *dentry, struct '
     'fscrypt_name *fname)',
     _ENOTSUP),
    ('int __fscrypt_prepare_readdir(struct inode *dir)', _ENOTSUP),
    ('int __fscrypt_prepare_rename(struct inode *old_dir, struct dentry *old_dentry, '
     'struct inode *new_dir, struct dentry *new_dentry, unsigned int flags)',
     _ENOTSUP),
    ('int __fscrypt_prepare_setattr(struct dentry *dentry, struct iattr *attr)', _ENOTSUP),
    ('int fscrypt_add_test_dummy_key(struct super_block *sb, const struct '
     'fscrypt_dummy_policy *dummy_policy)',
     _ENOTSUP),
    ('bool fscrypt_decrypt_bio(struct bio *bio)', 0),
    ('int fscrypt_decrypt_pagecache_blocks(struct page *page, unsigned int len, '
     'unsigned int offs)',
     _ENOTSUP),
    ('int fscrypt_drop_inode(struct inode *inode)', _ENOTSUP),
    ('bool fscrypt_dummy_policies_equal(const struct fscrypt_dummy_policy *p1, const '
     'struct fscrypt_dummy_policy *p2)',
     0),
    ('struct page *fscrypt_encrypt_pagecache_blocks(struct page *page, unsigned int '
     'len, unsigned int offs, gfp_t gfp_flags)',
     _ERRPTR),
    ('void fscrypt_enqueue_decrypt_work(struct work_struct *work_struct)', None),
    ('int fscrypt_fname_alloc_buffer(u32 max_encrypted_len, struct fscrypt_str '
     '*crypto_str)',
     _ENOTSUP),
    ('int fscrypt_fname_disk_to_usr(const struct inode *inode, u32 hash, u32 '
     'minor_hash, const struct fscrypt_str *iname, struct fscrypt_str *oname)',
     _ENOTSUP),
    ('u64 fscrypt_fname_siphash(const struct inode *dir, const struct qstr *name)', 0),
    ('void fscrypt_free_bounce_page(struct page *bounce_page)', None),
    ('const char *fscrypt_get_symlink(struct inode *inode, const void *caddr, unsigned '
     'int max_size, struct delayed_call *done)',
     _ERRPTR),
    ('int fscrypt_has_permitted_context(struct inode *parent, struct inode *child)', _ENOTSUP),
    ('int fscrypt_ioctl_add_key(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_get_key_status(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_get_nonce(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_get_policy(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_get_policy_ex(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_remove_key(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_remove_key_all_users(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fscrypt_ioctl_set_policy(struct file *filp, const void __user *arg)', _ENOTSUP),
    ('int fscrypt_parse_test_dummy_encryption(const struct fs_parameter *param, struct '
     'fscrypt_dummy_policy *dummy_policy)',
     _ENOTSUP),
    ('int fscrypt_prepare_new_inode(struct inode *dir, struct inode *inode, bool '
     '*encrypt_ret)',
     _ENOTSUP),
    ('int fscrypt_prepare_symlink(struct inode *dir, const char *target, unsigned int '
     'len, unsigned int max_len, struct fscrypt_str *disk_link)',
     _ENOTSUP),
    ('int fscrypt_set_context(struct inode *inode, void *fs_data)', _ENOTSUP),
    ('int fscrypt_setup_filename(struct inode *inode, const struct qstr *iname, int '
     'lookup, struct fscrypt_name *fname)',
     _ENOTSUP),
    ('void fscrypt_show_test_dummy_encryption(struct seq_file *seq, char sep, struct '
     'super_block *sb)',
     None),
    ('int fscrypt_symlink_getattr(const struct path *path, struct kstat *stat)', _ENOTSUP),
    ('int fscrypt_zeroout_range(const struct inode *inode, pgoff_t lblk, sector_t '
     'pblk, unsigned int len)',
     _ENOTSUP),
    # linux/fsverity.h
    ('void fsverity_enqueue_verify_work(struct work_struct *work)', None),
    ('int fsverity_ioctl_enable(struct file *filp, const void __user *arg)', _ENOTSUP),
    ('int fsverity_ioctl_measure(struct file *filp, void __user *arg)', _ENOTSUP),
    ('int fsverity_ioctl_read_metadata(struct file *filp, const void __user *uarg)', _ENOTSUP),
    ('int fsverity_prepare_setattr(struct dentry *dentry, struct iattr *attr)', _ENOTSUP),
    ('void fsverity_verify_bio(struct bio *bio)', None),
    ('bool fsverity_verify_page(struct page *page)', 0),
))


@export("bool fscrypt_match_name(const struct fscrypt_name *fname, const u8 *de_name, "
        "u32 de_name_len)")
def fscrypt_match_name(k, fname, de_name, de_name_len):
    disk = fname + k.target.offset("fscrypt_name.disk_name")
    name = rd(k, disk, "fscrypt_str.name")
    if not name:                                 # a no-key name: no key exists in kemu
        return 0
    length = rd(k, disk, "fscrypt_str.len", 4)
    if length != de_name_len:
        return 0
    return 1 if not length or k.machine.read(name, length) == k.machine.read(de_name, length) \
        else 0


@export("void fscrypt_fname_free_buffer(struct fscrypt_str *crypto_str)")
def fscrypt_fname_free_buffer(k, crypto_str):
    if crypto_str:
        kfree(k, rd(k, crypto_str, "fscrypt_str.name"))
        wr(k, crypto_str, "fscrypt_str.name", 0)


@export("void generic_set_encrypted_ci_d_ops(struct dentry *dentry)")
def generic_set_encrypted_ci_d_ops(k, dentry):
    pass


@export("int fscrypt_file_open(struct inode *inode, struct file *filp)")
def fscrypt_file_open(k, inode, filp):
    return 0


@export("void fscrypt_put_encryption_info(struct inode *inode)")
def fscrypt_put_encryption_info(k, inode):
    pass


@export("void fscrypt_free_inode(struct inode *inode)")
def fscrypt_free_inode(k, inode):
    pass


@export("void fsverity_cleanup_inode(struct inode *inode)")
def fsverity_cleanup_inode(k, inode):
    pass


@export("int fsverity_file_open(struct inode *inode, struct file *filp)")
def fsverity_file_open(k, inode, filp):
    return 0
