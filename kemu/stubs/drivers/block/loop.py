"""drivers/block/loop.c: block devices backed by image files (``losetup -f IMAGE``).

``kemu attach IMAGE [--read-only]`` makes the next free ``/dev/loopN``
(major 7, minor N, as Debian's loop driver numbers them): 512-byte sectors,
a capacity of the file's size in whole sectors, read-only when asked or when
the file cannot be written (as LO_FLAGS_READ_ONLY). Its ``struct
block_device`` carries ``bd_dev``, ``bd_inode`` (the block device's inode:
``i_size``, ``i_blkbits``, ``i_rdev``) and ``bd_read_only``; its I/O goes to
the file by byte offset. Its disk's ``backing_dev_info`` (with ``dev`` set,
as a live disk's is) is what inode_to_bdi() gives for the device's inode and
the superblock's ``s_bdi``; the I/O goes to (``read``/``write`` below), which the buffer cache
(stubs/fs/buffer.py) and block/bdev.c (stubs/block/bdev.py) use.

Its ``struct gendisk`` (``disk_name``, major/minor, ``bdi``, ``part0``) and
``struct request_queue`` (the queue limits of a loop device: 512-byte logical
and physical blocks) are there for what filesystems read of them inline.

Left out: queueing (bios are not queued: a buffer's I/O is done when
submitted; stubs/block/ models the block layer of drivers), partitions, direct I/O,
LOOP_* ioctls other than what attach/detach do, autoclear.
"""
from __future__ import annotations

import errno
import os

from kemu.abi.exports import members
from kemu.abi.toolkit import wr
from kemu.errors import KemuError

members("struct block_device", "bd_dev", "bd_inode", "bd_read_only", "bd_nr_sectors",
        "bd_super", "bd_holder", "bd_openers")
members("struct inode", "i_size", "i_blkbits", "i_rdev", "i_mode", "i_mapping", "i_data")
members("struct backing_dev_info", "dev")
members("struct block_device", "bd_disk", "bd_queue")
members("struct gendisk", "major", "first_minor", "minors", "disk_name", "queue", "bdi", "part0")
members("struct request_queue", "limits", "disk")
members("struct queue_limits", "logical_block_size", "physical_block_size", "io_min",
        "max_sectors", "max_hw_sectors", "max_segments", "max_segment_size")

LOOP_MAJOR = 7
SECTOR_SIZE = 512
SECTOR_SHIFT = 9


class BlockDevError(KemuError):
    """An image cannot be attached (the errno says why)."""


class LoopDevice:
    """One attached image: /dev/loopN, its file and its struct block_device."""

    def __init__(self, number: int, path: str, read_only: bool, size: int, bdev: int, inode: int,
                 bdi: int):
        self.number, self.path, self.read_only, self.size = number, path, read_only, size
        self.bdev, self.inode = bdev, inode
        self.bdi = bdi                        # the disk's backing_dev_info (bdi->dev set)
        self.holder = 0                       # the filesystem type holding it open exclusively
        self.openers = 0

    @property
    def name(self) -> str:
        return f"loop{self.number}"

    @property
    def devpath(self) -> str:
        return f"/dev/loop{self.number}"

    @property
    def sectors(self) -> int:
        return self.size >> SECTOR_SHIFT

    def read(self, offset: int, length: int) -> bytes:
        """Bytes at ``offset`` (zeros past the end of the file, as a short image reads)."""
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            data = fh.read(length)
        return data + bytes(length - len(data))

    def write(self, offset: int, data: bytes) -> None:
        if self.read_only:
            raise BlockDevError(f"{self.devpath}: write on a read-only device", errno.EROFS)
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)


class LoopDevices:
    """The attached images, by /dev/loopN number."""

    def __init__(self, k):
        self.k = k
        self.devices: dict[int, LoopDevice] = {}

    def attach(self, path: str, read_only: bool = False) -> LoopDevice:
        """losetup -f [-r] PATH: the first free loop device now backed by ``path``."""
        path = os.path.abspath(path)
        if os.path.isdir(path):
            raise BlockDevError(f"{path}: {os.strerror(errno.EISDIR)}", errno.EISDIR)
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            raise BlockDevError(f"{path}: {exc.strerror}", exc.errno) from None
        if not os.access(path, os.R_OK):
            raise BlockDevError(f"{path}: {os.strerror(errno.EACCES)}", errno.EACCES)
        if not os.access(path, os.W_OK):
            read_only = True
        number = 0
        while number in self.devices:
            number += 1
        k, t = self.k, self.k.target
        bdev = k.machine.alloc_kdata(t.sizeof("block_device"), 64)
        inode = k.machine.alloc_kdata(t.sizeof("inode"), 64)
        devt = (LOOP_MAJOR << 20) | number
        wr(k, inode, "inode.i_mode", t.const("S_IFBLK") | 0o660, 2)
        wr(k, inode, "inode.i_rdev", devt, 4)
        wr(k, inode, "inode.i_size", size & ~(SECTOR_SIZE - 1))
        k.machine.write_u8(inode + t.offset("inode.i_blkbits"), 12)     # block_size() 4096
        wr(k, inode, "inode.i_mapping", inode + t.offset("inode.i_data"))
        wr(k, bdev, "block_device.bd_dev", devt, 4)
        wr(k, bdev, "block_device.bd_inode", inode)
        wr(k, bdev, "block_device.bd_nr_sectors", size >> SECTOR_SHIFT)
        k.machine.write_u8(bdev + t.offset("block_device.bd_read_only"), int(read_only))
        bdi = k.machine.alloc_kdata(t.sizeof("backing_dev_info"), 64)
        wr(k, bdi, "backing_dev_info.dev", k.machine.alloc_kdata(t.sizeof("device"), 64))
        disk = k.machine.alloc_kdata(t.sizeof("gendisk"), 64)
        queue = k.machine.alloc_kdata(t.sizeof("request_queue"), 64)
        limits = queue + t.offset("request_queue.limits")
        for member, value, width in (("logical_block_size", SECTOR_SIZE, 4),
                                    ("physical_block_size", SECTOR_SIZE, 4),
                                    ("io_min", SECTOR_SIZE, 4), ("max_sectors", 2560, 4),
                                    ("max_hw_sectors", 2560, 4), ("max_segments", 128, 2),
                                    ("max_segment_size", 65536, 4)):
            wr(k, limits, f"queue_limits.{member}", value, width)
        wr(k, queue, "request_queue.disk", disk)
        wr(k, disk, "gendisk.major", LOOP_MAJOR, 4)
        wr(k, disk, "gendisk.first_minor", number, 4)
        wr(k, disk, "gendisk.minors", 1, 4)
        k.machine.write(disk + t.offset("gendisk.disk_name"), f"loop{number}".encode() + b"\0")
        wr(k, disk, "gendisk.queue", queue)
        wr(k, disk, "gendisk.bdi", bdi)
        wr(k, disk, "gendisk.part0", bdev)
        wr(k, bdev, "block_device.bd_disk", disk)
        wr(k, bdev, "block_device.bd_queue", queue)
        dev = self.devices[number] = LoopDevice(number, path, read_only, size, bdev, inode, bdi)
        return dev

    def detach(self, number: int) -> None:
        """losetup -d /dev/loopN (EBUSY while a filesystem holds it)."""
        dev = self.devices.get(number)
        if dev is None:
            raise BlockDevError(f"/dev/loop{number}: {os.strerror(errno.ENXIO)}", errno.ENXIO)
        if dev.openers:
            raise BlockDevError(f"{dev.devpath}: {os.strerror(errno.EBUSY)}", errno.EBUSY)
        del self.devices[number]

    def by_path(self, path: str) -> LoopDevice | None:
        """The device a /dev/loopN path names."""
        if path.startswith("/dev/loop") and path[9:].isdigit():
            return self.devices.get(int(path[9:]))
        return None

    def by_bdev(self, bdev: int) -> LoopDevice | None:
        for dev in self.devices.values():
            if dev.bdev == bdev:
                return dev
        return None

    def by_inode(self, inode: int) -> LoopDevice | None:
        for dev in self.devices.values():
            if dev.inode == inode:
                return dev
        return None

    def by_image(self, path: str) -> LoopDevice | None:
        path = os.path.abspath(path)
        for dev in self.devices.values():
            if dev.path == path:
                return dev
        return None
