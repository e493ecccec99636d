"""fs/super.c: superblocks of block-device filesystems; fs/fs_parser.c and the
mount-time helpers of fs/libfs.c for linking.

A superblock is allocated as alloc_super() leaves it (``s_flags``, one active
reference, ``s_user_ns`` = init_user_ns, ``s_maxbytes`` MAX_NON_LFS, a zeroed
``default_op``, ``s_time_gran`` 1 s, the whole time range) and kept on its
type's list: ``sget``/``sget_fc`` find one their ``test`` accepts or make one
with ``set``. ``mount_bdev`` and ``get_tree_bdev`` open the block device
exclusively (stubs/block/bdev.py), reuse its superblock when mounted already
(-EBUSY if the read-only state would change) or fill a new one: ``s_id`` the
device's name, ``sb_set_blocksize(block_size(bdev))``, the filesystem's
``fill_super``, then SB_ACTIVE. ``kill_block_super`` runs
``generic_shutdown_super`` (the dentries and the inode references they hold,
``sync_filesystem``, ``evict_inodes``, the ``put_super`` operation, "VFS:
Busy inodes after unmount" when inodes are left), syncs and releases the
device; ``deactivate_locked_super`` runs the type's ``kill_sb`` for the last
active reference and frees the superblock.

Left out: anonymous (nodev) and single superblocks (``get_tree_nodev``,
``mount_nodev``... stay link-only: a call is a finding and fails
-EOPNOTSUPP), freezing, shrinkers. ``__fs_parse`` is in stubs/fs/fs_parser.py.
The ``const struct`` tables (``simple_dir_operations``...)
are zeroed.
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members
from kemu.abi.toolkit import err_ptr, kfree, rd, s32, wr
from kemu.kernel.log import KERN_ERR

from .internal import link_only as _link_only
from .dcache import Dentries, free_dentries
from .fs_context import log_message
from .inode import busy_inodes, dirty_inodes, evict_inodes, iput_gen, write_inode_gen
from ..mm.filemap import write_pages
from ..block.bdev import block_size, close_bdev, open_bdev, sb_set_blocksize, sync_bdev
from ..drivers.block.loop import LoopDevices

members("struct super_block", "s_bdev", "s_dev", "s_flags", "s_iflags", "s_type", "s_op",
        "s_root", "s_id", "s_fs_info", "s_user_ns", "s_maxbytes", "s_time_gran", "s_time_min",
        "s_time_max", "s_count", "s_active", "s_mode", "s_bdi", "s_magic", "s_d_op")
members("struct block_device", "bd_super", "bd_dev")
members("struct fs_context", "sget_key", "s_fs_info", "sb_flags", "fs_type", "root", "source")
members("struct super_operations", "put_super", "sync_fs")
members("struct file_operations", "llseek", "read_iter")

MAX_NON_LFS = (1 << 31) - 1
TIME64_MAX = (1 << 63) - 1


_ENOTSUP = -errno.EOPNOTSUPP
_ERRPTR = err_ptr(-errno.EOPNOTSUPP)

for _proto, _result in (
        ("int get_tree_nodev(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("int get_tree_single(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("int get_tree_single_reconf(struct fs_context *fc, "
         "int (*fill_super)(struct super_block *sb, struct fs_context *fc))", _ENOTSUP),
        ("struct dentry *mount_single(struct file_system_type *fs_type, int flags, void *data, "
         "int (*fill_super)(struct super_block *, void *, int))", _ERRPTR),
        ("struct dentry *mount_nodev(struct file_system_type *fs_type, int flags, void *data, "
         "int (*fill_super)(struct super_block *, void *, int))", _ERRPTR),
        ("void kill_anon_super(struct super_block *sb)", None),
        ("void kill_litter_super(struct super_block *sb)", None),
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

class Supers:
    """The superblocks (super_blocks), with their type and the block device they hold."""

    def __init__(self, k):
        self.k = k
        self.list: list[int] = []
        self.default_op = k.machine.alloc_kdata(k.target.sizeof("super_operations"), 64)

    def of_type(self, fs_type: int) -> list[int]:
        return [s for s in self.list if rd(self.k, s, "super_block.s_type") == fs_type]


def alloc_super(k, fs_type: int, flags: int) -> int:
    t = k.target
    s = k.heap.alloc(t.sizeof("super_block"), kind="super_block", zero=True)
    wr(k, s, "super_block.s_user_ns", k.export_addr("init_user_ns"))
    wr(k, s, "super_block.s_bdi", k.export_addr("noop_backing_dev_info"))
    wr(k, s, "super_block.s_flags", flags)
    wr(k, s, "super_block.s_count", 1, 4)
    wr(k, s, "super_block.s_active", 1, 4)
    wr(k, s, "super_block.s_maxbytes", MAX_NON_LFS)
    wr(k, s, "super_block.s_op", k.model(Supers).default_op)
    wr(k, s, "super_block.s_time_gran", 1000000000, 4)
    wr(k, s, "super_block.s_time_min", (-TIME64_MAX - 1) & ((1 << 64) - 1))
    wr(k, s, "super_block.s_time_max", TIME64_MAX)
    return s


def _register(k, s: int, fs_type: int) -> None:
    wr(k, s, "super_block.s_type", fs_type)
    name = k.machine.read_cstr(rd(k, fs_type, "file_system_type.name"))[:31]
    k.machine.write(s + k.target.offset("super_block.s_id"), name + b"\0")
    k.model(Supers).list.append(s)


def sget_gen(k, fs_type: int, test, setup, flags: int):
    """sget(): ``test(s)``/``setup(s)`` are generators of the caller (module callbacks
    or Python); returns the superblock (with s_active taken) or a negative errno."""
    for s in k.model(Supers).of_type(fs_type):
        if test is not None and (yield from test(s)):
            wr(k, s, "super_block.s_active", rd(k, s, "super_block.s_active", 4) + 1, 4)
            return s
    s = alloc_super(k, fs_type, flags)
    err = yield from setup(s)
    if err:
        kfree(k, s)
        return err
    _register(k, s, fs_type)
    return s


@export("struct super_block *sget(struct file_system_type *type, "
        "int (*test)(struct super_block *, void *), int (*set)(struct super_block *, void *), "
        "int flags, void *data)")
def sget(k, type, test, set, flags, data):
    def t(s):
        return bool(s32((yield k.call_request(test, s, data))))

    def st(s):
        return s32((yield k.call_request(set, s, data)))
    s = yield from sget_gen(k, type, t if test else None, st, flags)
    return err_ptr(s) if s < 0 else s


@export("struct super_block *sget_fc(struct fs_context *fc, "
        "int (*test)(struct super_block *, struct fs_context *), "
        "int (*set)(struct super_block *, struct fs_context *))")
def sget_fc(k, fc, test, set):
    def t(s):
        return bool(s32((yield k.call_request(test, s, fc))))

    def st(s):
        wr(k, s, "super_block.s_fs_info", rd(k, fc, "fs_context.s_fs_info"))
        err = s32((yield k.call_request(set, s, fc))) if set else 0
        if not err:
            wr(k, fc, "fs_context.s_fs_info", 0)
        return err
    s = yield from sget_gen(k, rd(k, fc, "fs_context.fs_type"), t if test else None, st,
                            rd(k, fc, "fs_context.sb_flags", 4))
    return err_ptr(s) if s < 0 else s


def _bdev_setup(k, dev):
    """set_bdev_super(): s_bdev, s_dev; test_bdev_super(): the same device."""
    def test(s):
        return rd(k, s, "super_block.s_bdev") == dev.bdev
        yield

    def setup(s):
        wr(k, s, "super_block.s_bdi", dev.bdi)
        wr(k, s, "super_block.s_bdev", dev.bdev)
        wr(k, s, "super_block.s_dev", rd(k, dev.bdev, "block_device.bd_dev", 4), 4)
        return 0
        yield
    return test, setup


def _mount_bdev_gen(k, fs_type: int, flags: int, source: str, fill, warn_prefix=None, fc=0):
    """The common part of mount_bdev() and get_tree_bdev() (``fc``: sget_fc() with
    set_bdev_super_fc(), which hands the context's s_fs_info to the superblock): the
    superblock or -errno."""
    t = k.target
    mode = t.const("FMODE_READ") | t.const("FMODE_EXCL")
    if not flags & t.const("SB_RDONLY"):
        mode |= t.const("FMODE_WRITE")
    dev = open_bdev(k, source, mode, fs_type)
    if isinstance(dev, int):
        if warn_prefix is not None:
            log_message(k, warn_prefix, "e", f"{source}: Can't open blockdev")
        return dev
    test, setup = _bdev_setup(k, dev)
    if fc:
        def setup_fc(s):
            wr(k, s, "super_block.s_fs_info", rd(k, fc, "fs_context.s_fs_info"))
            wr(k, fc, "fs_context.s_fs_info", 0)
            return (yield from setup(s))
    s = yield from sget_gen(k, fs_type, test, setup_fc if fc else setup,
                            flags | t.const("SB_NOSEC"))
    if s < 0:
        close_bdev(k, dev, mode)
        return s
    if rd(k, s, "super_block.s_root"):
        if (flags ^ rd(k, s, "super_block.s_flags")) & t.const("SB_RDONLY"):
            if warn_prefix is not None:
                log_message(k, warn_prefix, "w", f"{dev.name}: Can't mount, would change RO state")
            yield from deactivate_locked_super_gen(k, s)
            close_bdev(k, dev, mode)
            return -errno.EBUSY
        close_bdev(k, dev, mode)
        return s
    wr(k, s, "super_block.s_mode", mode, 4)
    k.machine.write(s + t.offset("super_block.s_id"), dev.name.encode() + b"\0")
    sb_set_blocksize(k, s, block_size(k, dev.bdev))
    error = yield from fill(s)
    if error:
        yield from deactivate_locked_super_gen(k, s)
        return error
    wr(k, s, "super_block.s_flags", rd(k, s, "super_block.s_flags") | t.const("SB_ACTIVE"))
    wr(k, dev.bdev, "block_device.bd_super", s)
    return s


@export("struct dentry *mount_bdev(struct file_system_type *fs_type, int flags, "
        "const char *dev_name, void *data, "
        "int (*fill_super)(struct super_block *, void *, int))")
def mount_bdev(k, fs_type, flags, dev_name, data, fill_super):
    from kemu.abi.toolkit import cstr
    silent = 1 if flags & k.target.const("SB_SILENT") else 0

    def fill(s):
        return s32((yield k.call_request(fill_super, s, data, silent)))
    s = yield from _mount_bdev_gen(k, fs_type, flags, cstr(k, dev_name), fill)
    if s < 0:
        return err_ptr(s)
    return rd(k, s, "super_block.s_root")


@export("int get_tree_bdev(struct fs_context *fc, "
        "int (*fill_super)(struct super_block *sb, struct fs_context *fc))")
def get_tree_bdev(k, fc, fill_super):
    from kemu.abi.toolkit import cstr
    t = k.target
    prefix = ""                              # errorf(fc, ...): logfc() without a prefix
    source = rd(k, fc, "fs_context.source")
    if not source:
        log_message(k, prefix, "e", "No source specified")
        return -errno.EINVAL
    flags = rd(k, fc, "fs_context.sb_flags", 4) | t.const("SB_NOSEC")
    wr(k, fc, "fs_context.sb_flags", flags, 4)

    def fill(s):
        return s32((yield k.call_request(fill_super, s, fc)))
    fs_type = rd(k, fc, "fs_context.fs_type")
    s = yield from _mount_bdev_gen(k, fs_type, flags, cstr(k, source), fill, warn_prefix=prefix,
                                   fc=fc)
    if s < 0:
        return s
    wr(k, fc, "fs_context.root", rd(k, s, "super_block.s_root"))
    return 0


def sync_filesystem_gen(k, sb: int):
    """sync_filesystem(): the dirty inodes' pages (->writepage) and the inodes
    (->write_inode), the sync_fs operation (nowait, then wait) and the device."""
    ops = rd(k, sb, "super_block.s_op")
    fn = rd(k, ops, "super_operations.sync_fs") if ops else 0
    if rd(k, sb, "super_block.s_flags") & k.target.const("SB_RDONLY"):
        return 0
    for inode in dirty_inodes(k, sb):
        yield from write_pages(k, rd(k, inode, "inode.i_mapping"))
        yield from write_inode_gen(k, inode)
    for wait in (0, 1):
        if fn:
            yield k.call_request(fn, sb, wait)
    bdev = rd(k, sb, "super_block.s_bdev")
    return sync_bdev(k, bdev) if bdev else 0


@export("int sync_filesystem(struct super_block *sb)")
def sync_filesystem(k, sb):
    return (yield from sync_filesystem_gen(k, sb))


def generic_shutdown_super_gen(k, sb: int):
    t = k.target
    if rd(k, sb, "super_block.s_root"):
        for d in list(k.model(Dentries).by_sb.get(sb, [])):     # shrink_dcache_for_umount
            inode = rd(k, d, "dentry.d_inode")
            if inode:
                wr(k, d, "dentry.d_inode", 0)
                yield from iput_gen(k, inode)
        free_dentries(k, sb)
        wr(k, sb, "super_block.s_root", 0)
        yield from sync_filesystem_gen(k, sb)
        wr(k, sb, "super_block.s_flags", rd(k, sb, "super_block.s_flags") & ~t.const("SB_ACTIVE"))
        yield from evict_inodes(k, sb)
        ops = rd(k, sb, "super_block.s_op")
        fn = rd(k, ops, "super_operations.put_super") if ops else 0
        if fn:
            yield k.call_request(fn, sb)
        if busy_inodes(k, sb):
            sid = k.machine.read_cstr(sb + t.offset("super_block.s_id")).decode(errors="replace")
            name = k.machine.read_cstr(rd(k, rd(k, sb, "super_block.s_type"),
                                          "file_system_type.name")).decode(errors="replace")
            k.log.emit(KERN_ERR, f"VFS: Busy inodes after unmount of {sid} ({name})")
            k.finding("busy-inodes", f"{len(busy_inodes(k, sb))} inodes of {name} on {sid} "
                      "still referenced after unmount", None)
    supers = k.model(Supers)
    if sb in supers.list:
        supers.list.remove(sb)


@export("void generic_shutdown_super(struct super_block *sb)")
def generic_shutdown_super(k, sb):
    yield from generic_shutdown_super_gen(k, sb)


@export("void kill_block_super(struct super_block *sb)")
def kill_block_super(k, sb):
    bdev = rd(k, sb, "super_block.s_bdev")
    mode = rd(k, sb, "super_block.s_mode", 4)
    wr(k, bdev, "block_device.bd_super", 0)
    yield from generic_shutdown_super_gen(k, sb)
    dev = k.model(LoopDevices).by_bdev(bdev)
    if dev is not None:
        sync_bdev(k, bdev)
        close_bdev(k, dev, mode | k.target.const("FMODE_EXCL"))


def deactivate_locked_super_gen(k, s: int):
    """The last active reference: the type's kill_sb, then the superblock is freed."""
    active = rd(k, s, "super_block.s_active", 4) - 1
    wr(k, s, "super_block.s_active", max(active, 0), 4)
    if active > 0:
        return
    fs_type = rd(k, s, "super_block.s_type")
    kill = rd(k, fs_type, "file_system_type.kill_sb")
    if kill:
        yield k.call_request(kill, s)
    supers = k.model(Supers)
    if s in supers.list:
        supers.list.remove(s)
    kfree(k, s)


@export("void deactivate_locked_super(struct super_block *s)")
def deactivate_locked_super(k, s):
    yield from deactivate_locked_super_gen(k, s)


def _zeroed(k, addr):
    pass


data("const struct file_operations simple_dir_operations")(_zeroed)
data("const struct inode_operations simple_dir_inode_operations", size=None)(_zeroed)
data("const struct inode_operations simple_symlink_inode_operations", size=None)(_zeroed)
@data("const struct file_operations generic_ro_fops")
def generic_ro_fops(k, addr):
    """fs/read_write.c: what a read-only filesystem's regular files use."""
    wr(k, addr, "file_operations.llseek", k.export_addr("generic_file_llseek"))
    wr(k, addr, "file_operations.read_iter", k.export_addr("generic_file_read_iter"))
