"""fs/*.c (inode.c, dcache.c, namei.c, namespace.c, file_table.c, xattr.c, posix_acl.c,
attr.c, stat.c, read_write.c, splice.c, pipe.c, exportfs, notify...) and the
fs-related security/ hooks: what a mounted filesystem's operations call.

kemu registers filesystem types but never mounts one, so these are link-only
(see ``link_only`` in stubs/fs/internal.py): a call is a ``not-modelled``
finding and fails as Linux would refuse it (-EOPNOTSUPP, NULL, or
ERR_PTR(-EOPNOTSUPP) where the function returns ERR_PTR). The inode helpers
that are simple are real, in stubs/fs/inode.py and stubs/fs/vfs_mount.py.
"""
from __future__ import annotations

import errno

from kemu import data
from kemu.abi.exports import members

from .internal import link_only_table
from kemu.abi.toolkit import err_ptr, wr

members("struct xattr_handler", "name", "prefix", "flags", "list", "get", "set")
members("struct qstr", "hash_len", "name")

_ENOTSUP = -errno.EOPNOTSUPP
_ERRPTR = err_ptr(-errno.EOPNOTSUPP)

link_only_table((
    # posix ACLs, page cache writeback, LSM path/inode hooks, truncate, mount parsing
    ('int __posix_acl_create(struct posix_acl **acl, gfp_t gfp, umode_t *mode_p)', _ENOTSUP),
    ('int __posix_acl_chmod(struct posix_acl **acl, gfp_t gfp, umode_t mode)', _ENOTSUP),
    ('struct posix_acl *get_cached_acl(struct inode *inode, int type)', 0),
    ('int posix_acl_valid(struct user_namespace *user_ns, const struct posix_acl *acl)',
     -errno.EINVAL),
    ('int __folio_lock_killable(struct folio *folio)', -errno.EINTR),
    ('int filemap_fdatawrite_wbc(struct address_space *mapping, '
     'struct writeback_control *wbc)', -errno.EIO),
    ('struct address_space *folio_mapping(struct folio *folio)', 0),
    ('bool folio_redirty_for_writepage(struct writeback_control *wbc, struct folio *folio)', 0),
    ('int security_inode_create(struct inode *dir, struct dentry *dentry, umode_t mode)',
     _ENOTSUP),
    ('int security_inode_mkdir(struct inode *dir, struct dentry *dentry, umode_t mode)',
     _ENOTSUP),
    ('int security_path_mkdir(const struct path *dir, struct dentry *dentry, umode_t mode)',
     _ENOTSUP),
    ('int security_path_rename(const struct path *old_dir, struct dentry *old_dentry, '
     'const struct path *new_dir, struct dentry *new_dentry, unsigned int flags)', _ENOTSUP),
    ('int security_path_unlink(const struct path *dir, struct dentry *dentry)', _ENOTSUP),
    ('long vfs_truncate(const struct path *path, loff_t length)', _ENOTSUP),
    ('int generic_parse_monolithic(struct fs_context *fc, void *data)', _ENOTSUP),
    ('int simple_write_begin(struct file *file, struct address_space *mapping, loff_t pos, '
     'unsigned len, struct page **pagep, void **fsdata)', _ENOTSUP),
    # linux/dcache.h
    ('void __d_drop(struct dentry *dentry)', None),
    ('void __d_lookup_unhash_wake(struct dentry *dentry)', None),
    ('struct dentry *d_alloc(struct dentry *dentry, const struct qstr *qstr)', 0),
    ('struct dentry *d_alloc_anon(struct super_block *super_block)', 0),
    ('struct dentry *d_alloc_parallel(struct dentry *dentry, const struct qstr *qstr, '
     'wait_queue_head_t *wait_queue_head_t)',
     _ERRPTR),
    ('void d_delete(struct dentry *dentry)', None),
    ('void d_drop(struct dentry *dentry)', None),
    ('struct dentry *d_find_alias(struct inode *inode)', 0),
    ('struct dentry *d_find_any_alias(struct inode *inode)', 0),
    ('void d_genocide(struct dentry *dentry)', None),
    ('struct dentry *d_instantiate_anon(struct dentry *dentry, struct inode *inode)', 0),
    ('void d_instantiate_new(struct dentry *dentry, struct inode *inode)', None),
    ('void d_invalidate(struct dentry *dentry)', None),
    ('struct dentry *d_lookup(const struct dentry *dentry, const struct qstr *qstr)', 0),
    ('void d_move(struct dentry *dentry, struct dentry *dentry2)', None),
    ('struct dentry *d_obtain_root(struct inode *inode)', _ERRPTR),
    ('char *d_path(const struct path *path, char *c, int n)', _ERRPTR),
    ('void d_prune_aliases(struct inode *inode)', None),
    ('void d_rehash(struct dentry *dentry)', None),
    ('void d_set_d_op(struct dentry *dentry, const struct dentry_operations *op)', None),
    ('void d_tmpfile(struct file *file, struct inode *inode)', None),
    ('char *dentry_path_raw(const struct dentry *dentry, char *c, int n)', _ERRPTR),
    ('struct dentry *dget_parent(struct dentry *dentry)', 0),
    ('int path_has_submounts(const struct path *path)', _ENOTSUP),
    ('void release_dentry_name_snapshot(struct name_snapshot *name_snapshot)', None),
    ('void shrink_dcache_parent(struct dentry *dentry)', None),
    ('void shrink_dcache_sb(struct super_block *super_block)', None),
    ('void take_dentry_name_snapshot(struct name_snapshot *name_snapshot, struct '
     'dentry *dentry)',
     None),
    # linux/exportfs.h
    ('struct dentry *exportfs_decode_fh(struct vfsmount *mnt, struct fid *fid, int '
     'fh_len, int fileid_type, int(*acceptable)(void *, struct dentry *), void '
     '*context)',
     _ERRPTR),
    ('int exportfs_encode_fh(struct dentry *dentry, struct fid *fid, int *max_len, int '
     'connectable)',
     _ENOTSUP),
    # linux/fdtable.h
    ('int close_fd(unsigned int fd)', _ENOTSUP),
    # linux/fiemap.h
    ('int fiemap_fill_next_extent(struct fiemap_extent_info *info, u64 logical, u64 '
     'phys, u64 len, u32 flags)',
     _ENOTSUP),
    ('int fiemap_prep(struct inode *inode, struct fiemap_extent_info *fieinfo, u64 '
     'start, u64 *len, u32 supported_flags)',
     _ENOTSUP),
    # linux/file.h
    ('unsigned long __fdget(unsigned int fd)', 0),
    # 6.12: fdget() out of line, struct fd one word; no task has files here: empty
    ('unsigned long fdget(unsigned int fd)', 0),
    ('void fd_install(unsigned int fd, struct file *file)', None),
    ('struct file *fget(unsigned int fd)', 0),
    ('void fput(struct file *file)', None),
    ('int get_unused_fd_flags(unsigned flags)', _ENOTSUP),
    ('void put_unused_fd(unsigned int fd)', None),
    # linux/fileattr.h
    ('void fileattr_fill_flags(struct fileattr *fa, u32 flags)', None),
    ('void fileattr_fill_xflags(struct fileattr *fa, u32 xflags)', None),
    ('int vfs_fileattr_get(struct dentry *dentry, struct fileattr *fa)', _ENOTSUP),
    ('int vfs_fileattr_set(struct user_namespace *mnt_userns, struct dentry *dentry, '
     'struct fileattr *fa)',
     _ENOTSUP),
    # linux/fs.h
    ('ssize_t __blockdev_direct_IO(struct kiocb *iocb, struct inode *inode, struct '
     'block_device *bdev, struct iov_iter *iter, void *get_block, void *end_io, void '
     '*submit_io, int flags)',
     _ENOTSUP),
    ('int __generic_file_fsync(struct file *file, loff_t pos, loff_t pos2, int n)', _ENOTSUP),
    ('ssize_t __generic_file_write_iter(struct kiocb *kiocb, struct iov_iter *iov_iter)', _ENOTSUP),
    ('void __iget(struct inode *inode)', None),
    ('void __inode_add_bytes(struct inode *inode, loff_t bytes)', None),
    ('void __inode_sub_bytes(struct inode *inode, loff_t bytes)', None),
    ('ssize_t __kernel_write(struct file *file, const void *void, size_t len, loff_t '
     '*pos)',
     _ENOTSUP),
    ('void __remove_inode_hash(struct inode *inode)', None),
    ('int always_delete_dentry(const struct dentry *dentry)', _ENOTSUP),
    ('int bmap(struct inode *inode, sector_t *block)', _ENOTSUP),
    ('long compat_ptr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)', _ENOTSUP),
    ('int current_umask(void)', _ENOTSUP),
    ('struct dentry *d_alloc_name(struct dentry *dentry, const char *c)', 0),
    ('void d_mark_dontcache(struct inode *inode)', None),
    ('int dcache_dir_close(struct inode *inode, struct file *file)', _ENOTSUP),
    ('loff_t dcache_dir_lseek(struct file *file, loff_t pos, int n)', _ENOTSUP),
    ('int dcache_dir_open(struct inode *inode, struct file *file)', _ENOTSUP),
    ('int dcache_readdir(struct file *file, struct dir_context *dir_context)', _ENOTSUP),
    ('struct file *dentry_open(const struct path *path, int n, const struct cred *cred)', _ERRPTR),
    ('void discard_new_inode(struct inode *inode)', None),
    ('loff_t do_clone_file_range(struct file *file_in, loff_t pos_in, struct file '
     '*file_out, loff_t pos_out, loff_t len, unsigned int remap_flags)',
     _ENOTSUP),
    ('long do_splice_direct(struct file *in, loff_t *ppos, struct file *out, loff_t '
     '*opos, size_t len, unsigned int flags)',
     _ENOTSUP),
    ('int fasync_helper(int n, struct file *file, int n2, struct fasync_struct '
     '**fasync_struct)',
     _ENOTSUP),
    ('int file_check_and_advance_wb_err(struct file *file)', _ENOTSUP),
    ('int file_modified(struct file *file)', _ENOTSUP),
    ('char *file_path(struct file *file, char *c, int n)', _ERRPTR),
    ('int file_write_and_wait_range(struct file *file, loff_t start, loff_t end)', _ENOTSUP),
    ('int filp_close(struct file *file, void *id)', _ENOTSUP),
    ('struct inode *find_inode_by_ino_rcu(struct super_block *super_block, unsigned long n)', 0),
    ('struct inode *find_inode_nowait(struct super_block *super_block, unsigned long '
     'n, int(*match)(struct inode *, unsigned long, void *), void *data)',
     0),
    ('int finish_no_open(struct file *file, struct dentry *dentry)', _ENOTSUP),
    ('int finish_open(struct file *file, struct dentry *dentry, int(*open)(struct '
     'inode *, struct file *))',
     _ENOTSUP),
    ('void free_anon_bdev(dev_t dev)', None),
    ('void free_inode_nonrcu(struct inode *inode)', None),
    ('ssize_t generic_copy_file_range(struct file *file_in, loff_t pos_in, struct file '
     '*file_out, loff_t pos_out, size_t len, unsigned int flags)',
     _ENOTSUP),
    ('int generic_delete_inode(struct inode *inode)', _ENOTSUP),
    ('ssize_t generic_file_direct_write(struct kiocb *kiocb, struct iov_iter *iov_iter)', _ENOTSUP),
    ('int generic_file_mmap(struct file *file, struct vm_area_struct *vm_area_struct)', _ENOTSUP),
    ('ssize_t generic_file_splice_read(struct file *file, loff_t *pos, struct '
     'pipe_inode_info *pipe_inode_info, size_t len, unsigned int n)',
     _ENOTSUP),
    ('void generic_fill_statx_attr(struct inode *inode, struct kstat *stat)', None),
    ('ssize_t generic_perform_write(struct kiocb *kiocb, struct iov_iter *iov_iter)', _ENOTSUP),
    ('int generic_permission(struct user_namespace *user_namespace, struct inode '
     '*inode, int n)',
     _ENOTSUP),
    ('int generic_update_time(struct inode *inode, struct timespec64 *timespec64, int '
     'n)',
     _ENOTSUP),
    ('ssize_t generic_write_checks(struct kiocb *kiocb, struct iov_iter *iov_iter)', _ENOTSUP),
    ('int get_anon_bdev(dev_t *dev)', _ENOTSUP),
    ('struct inode *igrab(struct inode *inode)', 0),
    ('struct inode *ilookup(struct super_block *sb, unsigned long ino)', 0),
    ('struct inode *ilookup5(struct super_block *sb, unsigned long hashval, '
     'int(*test)(struct inode *, void *), void *data)',
     0),
    ('void inode_add_bytes(struct inode *inode, loff_t bytes)', None),
    ('void inode_dio_wait(struct inode *inode)', None),
    ('loff_t inode_get_bytes(struct inode *inode)', _ENOTSUP),
    ('struct inode *inode_insert5(struct inode *inode, unsigned long hashval, '
     'int(*test)(struct inode *, void *), int(*set)(struct inode *, void *), void '
     '*data)',
     0),
    ('int inode_needs_sync(struct inode *inode)', _ENOTSUP),
    ('bool inode_owner_or_capable(struct user_namespace *mnt_userns, const struct '
     'inode *inode)',
     0),
    ('int inode_permission(struct user_namespace *user_namespace, struct inode *inode, '
     'int n)',
     _ENOTSUP),
    ('void inode_set_bytes(struct inode *inode, loff_t bytes)', None),
    ('void inode_sub_bytes(struct inode *inode, loff_t bytes)', None),
    ('int insert_inode_locked(struct inode *inode)', _ENOTSUP),
    ('int insert_inode_locked4(struct inode *inode, unsigned long n, int(*test)(struct '
     'inode *, void *), void *void)',
     _ENOTSUP),
    ('bool is_subdir(struct dentry *dentry, struct dentry *dentry2)', 0),
    ('ssize_t iter_file_splice_write(struct pipe_inode_info *pipe_inode_info, struct '
     'file *file, loff_t *pos, size_t len, unsigned int n)',
     _ENOTSUP),
    ('int iterate_dir(struct file *file, struct dir_context *dir_context)', _ENOTSUP),
    ('unsigned long iunique(struct super_block *sb, unsigned long max_reserved)', 0),
    ('ssize_t kernel_read(struct file *file, void *void, size_t len, loff_t *pos)', _ENOTSUP),
    ('void kfree_link(void *void)', None),
    ('void kill_fasync(struct fasync_struct **fasync_struct, int n, int n2)', None),
    ('void lock_two_nondirectories(struct inode *inode, struct inode*inode2)', None),
    ('int locks_lock_inode_wait(struct inode *inode, struct file_lock *fl)', _ENOTSUP),
    ('ssize_t noop_direct_IO(struct kiocb *iocb, struct iov_iter *iter)', _ENOTSUP),
    ('int notify_change(struct user_namespace *user_namespace, struct dentry *dentry, '
     'struct iattr *iattr, struct inode **inode)',
     _ENOTSUP),
    ('struct file *open_with_fake_path(const struct path *path, int n, struct '
     'inode*inode, const struct cred *cred)',
     _ERRPTR),
    ('const char *page_get_link(struct dentry *dentry, struct inode *inode, struct '
     'delayed_call *delayed_call)',
     _ERRPTR),
    ('const char *page_get_link_raw(struct dentry *dentry, struct inode *inode, struct '
     'delayed_call *delayed_call)',
     _ERRPTR),
    ('void page_put_link(void *void)', None),
    ('int page_symlink(struct inode *inode, const char *symname, int len)', _ENOTSUP),
    ('int posix_lock_file(struct file *file, struct file_lock *file_lock, struct '
     'file_lock *file_lock2)',
     _ENOTSUP),
    ('void posix_test_lock(struct file *file, struct file_lock *file_lock)', None),
    ('void retire_super(struct super_block *sb)', None),
    ('int rw_verify_area(int n, struct file *file, const loff_t *pos, size_t len)', _ENOTSUP),
    ('int set_anon_super(struct super_block *s, void *data)', _ENOTSUP),
    ('int set_anon_super_fc(struct super_block *s, struct fs_context *fc)', _ENOTSUP),
    ('int setattr_should_drop_suidgid(struct user_namespace *user_namespace, struct '
     'inode *inode)',
     _ENOTSUP),
    ('int simple_empty(struct dentry *dentry)', _ENOTSUP),
    ('void simple_rename_timestamp(struct inode *old_dir, struct dentry *old_dentry, '
     'struct inode *new_dir, struct dentry *new_dentry)',
     None),
    ('int simple_setattr(struct user_namespace *user_namespace, struct dentry *dentry, '
     'struct iattr *iattr)',
     _ENOTSUP),
    ('int super_setup_bdi(struct super_block *sb)', _ENOTSUP),
    ('int super_setup_bdi_name(struct super_block *sb, char *fmt, ...)', _ENOTSUP),
    ('int sync_inode_metadata(struct inode *inode, int wait)', _ENOTSUP),
    ('void touch_atime(const struct path *path)', None),
    ('void unlock_two_nondirectories(struct inode *inode, struct inode*inode2)', None),
    ('loff_t vfs_clone_file_range(struct file *file_in, loff_t pos_in, struct file '
     '*file_out, loff_t pos_out, loff_t len, unsigned int remap_flags)',
     _ENOTSUP),
    ('ssize_t vfs_copy_file_range(struct file *file, loff_t pos, struct file *file2, '
     'loff_t pos2, size_t len, unsigned int n)',
     _ENOTSUP),
    ('int vfs_create(struct user_namespace *user_namespace, struct inode *inode, '
     'struct dentry *dentry, umode_t mode, bool flag)',
     _ENOTSUP),
    ('loff_t vfs_dedupe_file_range_one(struct file *src_file, loff_t src_pos, struct '
     'file *dst_file, loff_t dst_pos, loff_t len, unsigned int remap_flags)',
     _ENOTSUP),
    ('int vfs_fadvise(struct file *file, loff_t offset, loff_t len, int advice)', _ENOTSUP),
    ('int vfs_fallocate(struct file *file, int mode, loff_t offset, loff_t len)', _ENOTSUP),
    ('int vfs_fsync(struct file *file, int datasync)', _ENOTSUP),
    ('int vfs_fsync_range(struct file *file, loff_t start, loff_t end, int datasync)', _ENOTSUP),
    ('const char *vfs_get_link(struct dentry *dentry, struct delayed_call *delayed_call)', _ERRPTR),
    ('int vfs_getattr(const struct path *path, struct kstat *kstat, u32 val, unsigned '
     'int n)',
     _ENOTSUP),
    ('ssize_t vfs_iocb_iter_read(struct file *file, struct kiocb *iocb, struct '
     'iov_iter *iter)',
     _ENOTSUP),
    ('ssize_t vfs_iocb_iter_write(struct file *file, struct kiocb *iocb, struct '
     'iov_iter *iter)',
     _ENOTSUP),
    ('ssize_t vfs_iter_read(struct file *file, struct iov_iter *iter, loff_t *ppos, '
     'int flags)',
     _ENOTSUP),
    ('ssize_t vfs_iter_write(struct file *file, struct iov_iter *iter, loff_t *ppos, '
     'int flags)',
     _ENOTSUP),
    ('int vfs_link(struct dentry *dentry, struct user_namespace *user_namespace, '
     'struct inode *inode, struct dentry *dentry2, struct inode **inode2)',
     _ENOTSUP),
    ('loff_t vfs_llseek(struct file *file, loff_t offset, int whence)', _ENOTSUP),
    ('int vfs_mkdir(struct user_namespace *user_namespace, struct inode *inode, struct '
     'dentry *dentry, umode_t mode)',
     _ENOTSUP),
    ('int vfs_mknod(struct user_namespace *user_namespace, struct inode *inode, struct '
     'dentry *dentry, umode_t mode, dev_t dev)',
     _ENOTSUP),
    ('int vfs_rename(struct renamedata *renamedata)', _ENOTSUP),
    ('int vfs_rmdir(struct user_namespace *user_namespace, struct inode *inode, struct '
     'dentry *dentry)',
     _ENOTSUP),
    ('loff_t vfs_setpos(struct file *file, loff_t offset, loff_t maxsize)', _ENOTSUP),
    ('int vfs_statfs(const struct path *path, struct kstatfs *kstatfs)', _ENOTSUP),
    ('int vfs_symlink(struct user_namespace *user_namespace, struct inode *inode, '
     'struct dentry *dentry, const char *c)',
     _ENOTSUP),
    ('struct file *vfs_tmpfile_open(struct user_namespace *mnt_userns, const struct '
     'path *parentpath, umode_t mode, int open_flag, const struct cred *cred)',
     _ERRPTR),
    ('int vfs_unlink(struct user_namespace *user_namespace, struct inode *inode, '
     'struct dentry *dentry, struct inode **inode2)',
     _ENOTSUP),
    # linux/fs_context.h
    ('struct fs_context *fs_context_for_submount(struct file_system_type *fs_type, '
     'struct dentry *reference)',
     _ERRPTR),
    ('void put_fs_context(struct fs_context *fc)', None),
    # linux/fsnotify.h
    ('int __fsnotify_parent(struct dentry *dentry, __u32 mask, const void *data, int '
     'data_type)',
     _ENOTSUP),
    ('int fsnotify(__u32 mask, const void *data, int data_type, struct inode *dir, '
     'const struct qstr *name, struct inode *inode, u32 cookie)',
     _ENOTSUP),
    # linux/iversion.h
    ('bool inode_maybe_inc_iversion(struct inode *inode, bool force)', 0),
    # linux/mount.h
    ('bool __mnt_is_readonly(struct vfsmount *mnt)', 0),
    ('struct vfsmount *clone_private_mount(const struct path *path)', _ERRPTR),
    ('struct vfsmount *fc_mount(struct fs_context *fc)', _ERRPTR),
    ('void kern_unmount_array(struct vfsmount *mnt[], unsigned int num)', None),
    ('int may_umount(struct vfsmount *vfsmount)', _ENOTSUP),
    ('int may_umount_tree(struct vfsmount *vfsmount)', _ENOTSUP),
    ('void mnt_drop_write(struct vfsmount *mnt)', None),
    ('void mnt_drop_write_file(struct file *file)', None),
    ('int mnt_want_write(struct vfsmount *mnt)', _ENOTSUP),
    ('int mnt_want_write_file(struct file *file)', _ENOTSUP),
    ('struct vfsmount *mntget(struct vfsmount *mnt)', 0),
    ('void mntput(struct vfsmount *mnt)', None),
    ('bool path_is_mountpoint(const struct path *path)', 0),
    # linux/namei.h
    ('int follow_down_one(struct path *path)', _ENOTSUP),
    ('int follow_up(struct path *path)', _ENOTSUP),
    ('int kern_path(const char *c, unsigned arg, struct path *path)', _ENOTSUP),
    ('struct dentry *lock_rename(struct dentry *dentry, struct dentry *dentry2)', 0),
    ('struct dentry *lookup_one(struct user_namespace *user_namespace, const char *c, '
     'struct dentry *dentry, int n)',
     _ERRPTR),
    ('struct dentry *lookup_one_len(const char *c, struct dentry *dentry, int n)', _ERRPTR),
    ('struct dentry *lookup_one_positive_unlocked(struct user_namespace *mnt_userns, '
     'const char *name, struct dentry *base, int len)',
     _ERRPTR),
    ('struct dentry *lookup_one_unlocked(struct user_namespace *mnt_userns, const char '
     '*name, struct dentry *base, int len)',
     _ERRPTR),
    ('struct dentry *lookup_positive_unlocked(const char *c, struct dentry *dentry, '
     'int n)',
     _ERRPTR),
    ('void unlock_rename(struct dentry *dentry, struct dentry *dentry2)', None),
    ('int user_path_at_empty(int n, const char __user *c, unsigned arg, struct path '
     '*path, int *empty)',
     _ENOTSUP),
    # linux/path.h
    ('void path_get(const struct path *path)', None),
    ('void path_put(const struct path *path)', None),
    # linux/pipe_fs_i.h
    ('void pipe_lock(struct pipe_inode_info *pipe_inode_info)', None),
    ('void pipe_unlock(struct pipe_inode_info *pipe_inode_info)', None),
    # linux/posix_acl.h
    ('void forget_all_cached_acls(struct inode *inode)', None),
    ('struct posix_acl *get_acl(struct inode *inode, int type)', _ERRPTR),
    ('struct posix_acl *get_cached_acl_rcu(struct inode *inode, int type)', 0),
    ('struct posix_acl *posix_acl_alloc(int n, gfp_t gfp)', 0),
    ('int posix_acl_chmod(struct user_namespace *user_namespace, struct inode *inode, '
     'umode_t mode)',
     _ENOTSUP),
    ('struct posix_acl *posix_acl_clone(const struct posix_acl *acl, gfp_t flags)', 0),
    ('int posix_acl_create(struct inode *inode, umode_t *mode, struct posix_acl '
     '**posix_acl, struct posix_acl **posix_acl2)',
     _ENOTSUP),
    ('int posix_acl_update_mode(struct user_namespace *user_namespace, struct inode '
     '*inode, umode_t *mode, struct posix_acl **posix_acl)',
     _ENOTSUP),
    ('void set_cached_acl(struct inode *inode, int type, struct posix_acl *acl)', None),
    # linux/posix_acl_xattr.h
    ('struct posix_acl *posix_acl_from_xattr(struct user_namespace *user_ns, const '
     'void *value, size_t size)',
     _ERRPTR),
    ('int posix_acl_to_xattr(struct user_namespace *user_ns, const struct posix_acl '
     '*acl, void *buffer, size_t size)',
     _ENOTSUP),
    ('struct posix_acl *vfs_set_acl_prepare(struct user_namespace *mnt_userns, struct '
     'user_namespace *fs_userns, const void *value, size_t size)',
     _ERRPTR),
    # linux/security.h
    ('int security_dentry_create_files_as(struct dentry *dentry, int mode, struct qstr '
     '*name, const struct cred *old, struct cred *new)',
     _ENOTSUP),
    ('int security_dentry_init_security(struct dentry *dentry, int mode, const struct '
     'qstr *name, const char **xattr_name, void **ctx, u32 *ctxlen)',
     _ENOTSUP),
    ('int security_file_ioctl(struct file *file, unsigned int cmd, unsigned long arg)', _ENOTSUP),
    ('int security_inode_copy_up(struct dentry *src, struct cred **new)', _ENOTSUP),
    ('int security_inode_copy_up_xattr(const char *name)', _ENOTSUP),
    ('int security_inode_init_security(struct inode *inode, struct inode *dir, const '
     'struct qstr *qstr, void *initxattrs, void *fs_data)',
     _ENOTSUP),
    ('int security_inode_setattr(struct user_namespace *mnt_userns, struct dentry '
     '*dentry, struct iattr *attr)',
     _ENOTSUP),
    ('int security_old_inode_init_security(struct inode *inode, struct inode *dir, '
     'const struct qstr *qstr, const char **name, void **value, size_t *len)',
     _ENOTSUP),
    # linux/splice.h
    ('ssize_t add_to_pipe(struct pipe_inode_info *pipe_inode_info, struct pipe_buffer '
     '*pipe_buffer)',
     _ENOTSUP),
    # linux/xattr.h
    ('ssize_t generic_listxattr(struct dentry *dentry, char *buffer, size_t '
     'buffer_size)',
     _ENOTSUP),
    ('ssize_t vfs_getxattr(struct user_namespace *user_namespace, struct dentry '
     '*dentry, const char *c, void *void, size_t len)',
     _ENOTSUP),
    ('ssize_t vfs_listxattr(struct dentry *d, char *list, size_t size)', _ENOTSUP),
    ('int vfs_removexattr(struct user_namespace *user_namespace, struct dentry '
     '*dentry, const char *c)',
     _ENOTSUP),
    ('int vfs_setxattr(struct user_namespace *user_namespace, struct dentry *dentry, '
     'const char *c, const void *void, size_t len, int n)',
     _ENOTSUP),
    ('const char *xattr_full_name(const struct xattr_handler *xattr_handler, const char *c)', 0),
))


# ------------------------------------------------------------ data
def _zeroed(k, addr):
    pass


@data("const struct qstr dotdot_name")
def dotdot_name(k, addr):
    # QSTR_INIT("..", 2): hash_len = 2 << 32 (hash computed lazily by users), name = ".."
    name = k.machine.alloc_kdata(3, 1)
    k.machine.write(name, b"..\0")
    wr(k, addr, "qstr.hash_len", 2 << 32)
    wr(k, addr, "qstr.name", name)


@data("struct kmem_cache *names_cachep")
def names_cachep(k, addr):
    # vfs_caches_init(): kmem_cache_create_usercopy("names_cache", PATH_MAX, ...)
    from ..mm.slab import Slab
    k.machine.write_u64(addr, k.model(Slab).new_cache("names_cache", 4096).addr)


def _acl_handler(name: str):
    def init(k, addr):
        text = k.machine.alloc_kdata(len(name) + 1, 1)
        k.machine.write(text, name.encode() + b"\0")
        wr(k, addr, "xattr_handler.name", text)
    return init


data("const struct xattr_handler posix_acl_access_xattr_handler")(
    _acl_handler("system.posix_acl_access"))
data("const struct xattr_handler posix_acl_default_xattr_handler")(
    _acl_handler("system.posix_acl_default"))
data("const struct pipe_buf_operations nosteal_pipe_buf_ops")(_zeroed)
data("const struct address_space_operations ram_aops")(_zeroed)
data("struct super_block *blockdev_superblock")(_zeroed)


def _overflow_id(k, addr):
    k.machine.write_u32(addr, 65534)          # DEFAULT_FS_OVERFLOWUID/GID (kernel/sys.c)


data("int fs_overflowuid")(_overflow_id)
data("int fs_overflowgid")(_overflow_id)
data("int overflowuid")(_overflow_id)     # DEFAULT_OVERFLOWUID/GID (kernel/sys.c)
data("int overflowgid")(_overflow_id)
