"""block/bdev.c: opening block devices by path, their block size, and syncing them.

The block devices are the image-backed loop devices of
stubs/drivers/block/loop.py. ``blkdev_get_by_path`` opens one as
``mount_bdev``/``get_tree_bdev`` do (``FMODE_EXCL`` with a holder: another
holder gets -EBUSY; ``FMODE_WRITE`` on a read-only device -EACCES, a path that
is not a block device -ENOTBLK, no such path -ENOENT); ``set_blocksize`` checks
the size as 6.1 does and drops the device's buffers when it changes;
``sync_blockdev`` writes its dirty buffers back (stubs/fs/buffer.py).

Left out: partitions, freezing (``bd_fsfreeze_count`` is always 0), the
holder's ``bd_holder_dir`` links in sysfs.
"""
from __future__ import annotations

import errno
import os

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import cstr, err_ptr, rd, wr

from ..drivers.block.loop import SECTOR_SIZE, LoopDevices
from ..fs.buffer import kill_bdev, write_dirty_buffers

members("struct super_block", "s_bdev", "s_blocksize", "s_blocksize_bits")

PAGE_SIZE = 4096


def blksize_bits(size: int) -> int:
    return size.bit_length() - 1


def open_bdev(k, path: str, mode: int, holder: int):
    """blkdev_get_by_path(): the LoopDevice, or a negative errno."""
    t = k.target
    loops = k.model(LoopDevices)
    dev = loops.by_path(path)
    if dev is None:
        if path.startswith("/dev/loop") and path[9:].isdigit():
            return -errno.ENXIO                       # a loop node with no file bound
        return -errno.ENOTBLK if os.path.exists(path) or path in ("/dev", "/proc", "/sys") \
            else -errno.ENOENT
    if mode & t.const("FMODE_WRITE") and dev.read_only:
        return -errno.EACCES
    if mode & t.const("FMODE_EXCL"):
        if dev.holder and dev.holder != holder:
            return -errno.EBUSY
        dev.holder = holder
        wr(k, dev.bdev, "block_device.bd_holder", holder)
    dev.openers += 1
    return dev


def close_bdev(k, dev, mode: int) -> None:
    """blkdev_put(): the last exclusive opener releases the holder."""
    dev.openers = max(0, dev.openers - 1)
    if dev.openers == 0:                      # blkdev_flush_mapping()
        sync_bdev(k, dev.bdev)
        kill_bdev(k, dev.bdev)
        dev.holder = 0
        wr(k, dev.bdev, "block_device.bd_holder", 0)


@export("int lookup_bdev(const char *pathname, dev_t *dev)")
def lookup_bdev(k, pathname, dev):
    """The dev_t of the block device node at ``pathname``."""
    path = cstr(k, pathname)
    if not path:
        return -errno.EINVAL
    loop = k.model(LoopDevices).by_path(path)
    if loop is None:
        return -errno.ENOTBLK if os.path.exists(path) or path.startswith("/dev/loop") \
            else -errno.ENOENT
    k.machine.write_u32(dev, rd(k, loop.bdev, "block_device.bd_dev", 4))
    return 0


@export("struct block_device *blkdev_get_by_path(const char *path, fmode_t mode, void *holder)")
def blkdev_get_by_path(k, path, mode, holder):
    dev = open_bdev(k, cstr(k, path), mode, holder)
    return err_ptr(dev) if isinstance(dev, int) else dev.bdev


@export("void blkdev_put(struct block_device *bdev, fmode_t mode)")
def blkdev_put(k, bdev, mode):
    dev = k.model(LoopDevices).by_bdev(bdev)
    if dev is not None:
        close_bdev(k, dev, mode)


def bdev_logical_block_size(k, bdev: int) -> int:
    return SECTOR_SIZE


def block_size(k, bdev: int) -> int:
    """block_size(): 1 << bd_inode->i_blkbits."""
    inode = rd(k, bdev, "block_device.bd_inode")
    return 1 << k.machine.read_u8(inode + k.target.offset("inode.i_blkbits"))


@export("int set_blocksize(struct block_device *bdev, int size)")
def set_blocksize(k, bdev, size):
    size = size - (1 << 32) if size >> 31 else size
    if size > PAGE_SIZE or size < 512 or size & (size - 1):
        return -errno.EINVAL
    if size < bdev_logical_block_size(k, bdev):
        return -errno.EINVAL
    if block_size(k, bdev) != size:
        sync_bdev(k, bdev)
        inode = rd(k, bdev, "block_device.bd_inode")
        k.machine.write_u8(inode + k.target.offset("inode.i_blkbits"), blksize_bits(size))
        kill_bdev(k, bdev)
    return 0


@export("int sb_set_blocksize(struct super_block *sb, int size)")
def sb_set_blocksize(k, sb, size):
    if set_blocksize(k, rd(k, sb, "super_block.s_bdev"), size):
        return 0
    wr(k, sb, "super_block.s_blocksize", size)
    k.machine.write_u8(sb + k.target.offset("super_block.s_blocksize_bits"), blksize_bits(size))
    return size


@export("int sb_min_blocksize(struct super_block *sb, int size)")
def sb_min_blocksize(k, sb, size):
    minsize = bdev_logical_block_size(k, rd(k, sb, "super_block.s_bdev"))
    return sb_set_blocksize(k, sb, max(size, minsize))


def sync_bdev(k, bdev: int) -> int:
    return write_dirty_buffers(k, bdev)


@export("int sync_blockdev(struct block_device *bdev)")
def sync_blockdev(k, bdev):
    return sync_bdev(k, bdev) if bdev else 0


@export("void invalidate_bdev(struct block_device *bdev)")
def invalidate_bdev(k, bdev):
    """The device's clean, unused buffers are dropped (invalidate_mapping_pages())."""
    kill_bdev(k, bdev)


@export("void blk_start_plug(struct blk_plug *plug)")
def blk_start_plug(k, plug):
    """block/blk-core.c: nothing is queued (buffer I/O is done when submitted)."""


@export("void blk_finish_plug(struct blk_plug *plug)")
def blk_finish_plug(k, plug):
    """block/blk-core.c: nothing was held back by the plug."""
