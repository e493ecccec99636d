"""fs/buffer.c and fs/mpage.c: the buffer cache over image-backed block devices.

A buffer head is a ``struct buffer_head`` in kernel memory whose ``b_data`` is
in a page of the direct map (``b_page`` is that page's ``struct page``), cached
by (device, block number, size) as the block device's page cache keeps them:
``__getblk_gfp`` finds or makes one (a reference in ``b_count``),
``__bread_gfp`` reads it from the device when it is not up to date (a block
past the end of the device fails as bio_check_eod() fails it, with its
message, and NULL is returned), ``__brelse`` drops the reference (the kernel's
"VFS: brelse: Trying to free free buffer" warning on a free one),
``mark_buffer_dirty`` marks it, ``sync_dirty_buffer``/``write_dirty_buffer``
and ``sync_blockdev`` (stubs/block/bdev.py) write dirty buffers to the image.
I/O is synchronous: a buffer is never found locked.

``block_read_full_folio`` maps each block of a page cache page with the
filesystem's ``get_block`` (``create`` 0) and reads the mapped ones from the
device (holes and the part past ``i_size`` read as zeros), then marks the page
up to date and unlocks it, as end_buffer_async_read() does.

Writes: ``block_write_begin``/``__block_write_begin`` bring a page that is not
up to date in first (as above), then map each block the write touches with
``get_block`` (``create`` 1: the filesystem allocates); ``block_write_end``
marks the page up to date and dirty, ``generic_write_end`` also extends
``i_size`` and dirties the inode; ``block_write_full_page`` (writeback) maps
each block of the page below ``i_size`` and writes it to the device.

Left out: buffers attached to page cache pages (``create_empty_buffers``:
each block is mapped again when needed), the per-CPU LRU, asynchronous
submission, ``block_truncate_page`` zeroes the tail of the block in the page
cache only.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members
from kemu.abi.toolkit import rd, s32, wr
from kemu.kernel.log import KERN_ERR, KERN_INFO

from .internal import link_only_table
from ..drivers.block.loop import SECTOR_SHIFT, LoopDevices
from ..lib.kemu_warn import warn
from ..mm.filemap import folio_mark_dirty, grab_cache_page_write_begin
from ..mm.internal import page_cache
from ..mm.page_alloc import PAGE_SIZE, pages
from .inode import __mark_inode_dirty

_EIO = -errno.EIO

members("struct buffer_head", "b_state", "b_this_page", "b_page", "b_blocknr", "b_size",
        "b_data", "b_bdev", "b_end_io", "b_private", "b_count", "b_assoc_map")
members("struct page", "flags", "mapping", "index", "private", "_refcount")
members("struct address_space", "host", "a_ops")
members("struct inode", "i_blkbits", "i_size", "i_mapping", "i_sb")
members("struct block_device", "bd_dev", "bd_inode")

BH_Uptodate, BH_Dirty, BH_Lock, BH_Mapped = "BH_Uptodate", "BH_Dirty", "BH_Lock", "BH_Mapped"


class BufferCache:
    """The buffer heads of every block device: (bdev, block, size) -> buffer_head."""

    def __init__(self, k):
        self.k = k
        self.heads: dict[tuple[int, int, int], int] = {}

    def state(self, bh: int) -> int:
        return rd(self.k, bh, "buffer_head.b_state")

    def set_bit(self, bh: int, bit: str, on: bool = True) -> None:
        """set_buffer_X()/clear_buffer_X() of enum bh_state_bits member ``bit``."""
        bit = self.k.target.const(bit)
        st = self.state(bh)
        wr(self.k, bh, "buffer_head.b_state", st | 1 << bit if on else st & ~(1 << bit))

    def test(self, bh: int, bit: str) -> bool:
        return bool(self.state(bh) >> self.k.target.const(bit) & 1)

    def count(self, bh: int, delta: int = 0) -> int:
        n = rd(self.k, bh, "buffer_head.b_count", 4) + delta
        if delta:
            wr(self.k, bh, "buffer_head.b_count", n & 0xFFFFFFFF, 4)
        return n

    def getblk(self, bdev: int, block: int, size: int) -> int:
        key = (bdev, block, size)
        bh = self.heads.get(key)
        if bh is None:
            k = self.k
            bh = k.heap.alloc(k.target.sizeof("buffer_head"), kind="buffer_head", zero=True)
            data = pages(k).get(0)
            wr(k, bh, "buffer_head.b_bdev", bdev)
            wr(k, bh, "buffer_head.b_blocknr", block)
            wr(k, bh, "buffer_head.b_size", size)
            wr(k, bh, "buffer_head.b_data", data)
            wr(k, bh, "buffer_head.b_page", pages(k).page_of(data))
            wr(k, bh, "buffer_head.b_this_page", bh)
            wr(k, bh, "buffer_head.b_state", 1 << k.target.const(BH_Mapped))
            self.heads[key] = bh
        self.count(bh, 1)
        return bh

    def io(self, bh: int, write: bool) -> int:
        """submit_bh() and wait: 0 or -EIO (bio_check_eod()'s message past the end)."""
        k = self.k
        dev = k.model(LoopDevices).by_bdev(rd(k, bh, "buffer_head.b_bdev"))
        size = rd(k, bh, "buffer_head.b_size")
        offset = rd(k, bh, "buffer_head.b_blocknr") * size
        if dev is None:
            return _EIO
        sector, nr = offset >> SECTOR_SHIFT, size >> SECTOR_SHIFT
        if sector + nr > dev.sectors:
            comm = k.process[0]
            k.log.emit(KERN_INFO, f"{comm}: attempt to access beyond end of device")
            k.log.emit(KERN_INFO, f"{dev.name}: rw={1 if write else 0}, sector={sector}, "
                                  f"nr_sectors = {nr} limit={dev.sectors}")
            return _EIO
        data_at = rd(k, bh, "buffer_head.b_data")
        if write:
            if dev.read_only:
                k.log.emit(KERN_ERR, f"Trying to write to read-only block-device {dev.name}")
                return _EIO
            dev.write(offset, k.machine.read(data_at, size))
            self.set_bit(bh, BH_Dirty, False)
        else:
            k.machine.write(data_at, dev.read(offset, size))
            self.set_bit(bh, BH_Uptodate)
        return 0

    def free(self, key) -> None:
        k = self.k
        bh = self.heads.pop(key)
        pages(k).put(rd(k, bh, "buffer_head.b_data"), 0, "kill_bdev")
        k.heap.free(bh)


def cache(k) -> BufferCache:
    return k.model(BufferCache)


def write_dirty_buffers(k, bdev: int) -> int:
    """sync_blockdev(): write every dirty buffer of ``bdev``; 0 or the first error."""
    c, err = cache(k), 0
    for key, bh in sorted(c.heads.items()):
        if key[0] == bdev and c.test(bh, BH_Dirty):
            err = c.io(bh, True) or err
    return err


def kill_bdev(k, bdev: int) -> None:
    """kill_bdev()/invalidate_bdev(): drop the device's unused buffers."""
    c = cache(k)
    for key, bh in list(c.heads.items()):
        if key[0] == bdev and c.count(bh) == 0:
            c.free(key)


@export("struct buffer_head *__getblk_gfp(struct block_device *bdev, sector_t block, "
        "unsigned size, gfp_t gfp)")
def __getblk_gfp(k, bdev, block, size, gfp):
    if size & 511 or size < 512 or size > PAGE_SIZE:
        k.log.emit(KERN_ERR, f"getblk(): invalid block size {size} requested")
        k.log.emit(KERN_ERR, "logical block size: 512")
        return 0
    return cache(k).getblk(bdev, block, size)


@export("struct buffer_head *__find_get_block(struct block_device *bdev, sector_t block, "
        "unsigned size)")
def __find_get_block(k, bdev, block, size):
    c = cache(k)
    bh = c.heads.get((bdev, block, size), 0)
    if bh:
        c.count(bh, 1)
    return bh


@export("struct buffer_head *__bread_gfp(struct block_device *bdev, sector_t block, "
        "unsigned size, gfp_t gfp)")
def __bread_gfp(k, bdev, block, size, gfp):
    bh = __getblk_gfp(k, bdev, block, size, gfp)
    c = cache(k)
    if bh and not c.test(bh, BH_Uptodate):
        if c.io(bh, False):
            __brelse(k, bh)
            return 0
    return bh


@export("void __breadahead(struct block_device *bdev, sector_t block, unsigned int size)")
def __breadahead(k, bdev, block, size):
    bh = __bread_gfp(k, bdev, block, size, 0)
    if bh:
        __brelse(k, bh)


@export("void __brelse(struct buffer_head *buf)")
def __brelse(k, buf):
    c = cache(k)
    if c.count(buf):
        c.count(buf, -1)
        return
    warn(k, "fs/buffer.c:1187", "__brelse+0x2c/0x40", "VFS: brelse: Trying to free free buffer")


@export("void __bforget(struct buffer_head *bh)")
def __bforget(k, bh):
    cache(k).set_bit(bh, BH_Dirty, False)
    __brelse(k, bh)


@export("void mark_buffer_dirty(struct buffer_head *bh)")
def mark_buffer_dirty(k, bh):
    c = cache(k)
    if not c.test(bh, BH_Uptodate):
        warn(k, "fs/buffer.c:1101", "mark_buffer_dirty+0xe7/0x100")
    c.set_bit(bh, BH_Dirty)


@export("void mark_buffer_dirty_inode(struct buffer_head *bh, struct inode *inode)")
def mark_buffer_dirty_inode(k, bh, inode):
    mark_buffer_dirty(k, bh)


@export("int __sync_dirty_buffer(struct buffer_head *bh, unsigned int op_flags)")
def __sync_dirty_buffer(k, bh, op_flags):
    c = cache(k)
    if c.test(bh, BH_Dirty):
        return c.io(bh, True)
    return 0


@export("int sync_dirty_buffer(struct buffer_head *bh)")
def sync_dirty_buffer(k, bh):
    return __sync_dirty_buffer(k, bh, 0)


@export("void write_dirty_buffer(struct buffer_head *bh, unsigned int op_flags)")
def write_dirty_buffer(k, bh, op_flags):
    __sync_dirty_buffer(k, bh, op_flags)


@export("void __lock_buffer(struct buffer_head *bh)")
def __lock_buffer(k, bh):
    cache(k).set_bit(bh, BH_Lock)


@export("void unlock_buffer(struct buffer_head *bh)")
def unlock_buffer(k, bh):
    cache(k).set_bit(bh, BH_Lock, False)


@export("void __wait_on_buffer(struct buffer_head *bh)")
def __wait_on_buffer(k, bh):
    pass                                     # I/O is synchronous: never locked for long


@export("int bh_uptodate_or_lock(struct buffer_head *bh)")
def bh_uptodate_or_lock(k, bh):
    c = cache(k)
    if c.test(bh, BH_Uptodate):
        return 1
    c.set_bit(bh, BH_Lock)
    return 0


@export("struct buffer_head *alloc_buffer_head(gfp_t gfp_flags)", fails="NULL")
def alloc_buffer_head(k, gfp_flags):
    return k.heap.alloc(k.target.sizeof("buffer_head"), kind="buffer_head", zero=True)


@export("void free_buffer_head(struct buffer_head *bh)")
def free_buffer_head(k, bh):
    k.heap.free(bh)


@export("void invalidate_inode_buffers(struct inode *inode)")
def invalidate_inode_buffers(k, inode):
    pass                                     # no buffer is associated with an inode's list


@export("int sync_mapping_buffers(struct address_space *mapping)")
def sync_mapping_buffers(k, mapping):
    sb = rd(k, rd(k, mapping, "address_space.host"), "inode.i_sb") if mapping else 0
    return write_dirty_buffers(k, rd(k, sb, "super_block.s_bdev")) if sb else 0


_GET_BLOCK = ("int (*get_block)(struct inode *inode, sector_t iblock, "
              "struct buffer_head *bh_result, int create)")


@export("int block_read_full_folio(struct folio *folio, " + _GET_BLOCK + ")")
def block_read_full_folio(k, folio, get_block):
    return (yield from read_full_page(k, folio, get_block))


def map_block(k, inode: int, iblock: int, size: int, page: int, get_block: int, create: int):
    """get_block(inode, iblock, bh, create) on a temporary buffer head: a generator
    returning (err, mapped, new, block number, bdev)."""
    tmp = alloc_buffer_head(k, 0)
    c = cache(k)
    try:
        wr(k, tmp, "buffer_head.b_size", size)
        wr(k, tmp, "buffer_head.b_page", page)
        err = s32((yield k.call_request(get_block, inode, iblock, tmp, create)))
        return (err, c.test(tmp, BH_Mapped), c.test(tmp, "BH_New"),
                rd(k, tmp, "buffer_head.b_blocknr"), rd(k, tmp, "buffer_head.b_bdev"))
    finally:
        free_buffer_head(k, tmp)


def read_full_page(k, folio, get_block):
    m = k.machine
    mapping = rd(k, folio, "page.mapping")
    inode = rd(k, mapping, "address_space.host")
    bits = m.read_u8(inode + k.target.offset("inode.i_blkbits"))
    size = 1 << bits
    index = rd(k, folio, "page.index")
    isize = rd(k, inode, "inode.i_size")
    addr = pages(k).addr_of(folio)
    c = cache(k)
    error = False
    tmp = alloc_buffer_head(k, 0)
    try:
        for i in range(PAGE_SIZE >> bits):
            iblock = (index << (12 - bits)) + i
            data = bytes(size)
            if iblock << bits < isize:
                m.write(tmp, bytes(k.target.sizeof("buffer_head")))
                wr(k, tmp, "buffer_head.b_size", size)
                wr(k, tmp, "buffer_head.b_page", folio)
                err = s32((yield k.call_request(get_block, inode, iblock, tmp, 0)))
                if err:
                    error = True
                elif c.test(tmp, BH_Mapped):
                    bh = __bread_gfp(k, rd(k, tmp, "buffer_head.b_bdev"),
                                     rd(k, tmp, "buffer_head.b_blocknr"), size, 0)
                    if not bh:
                        k.log.emit(KERN_ERR, f"Buffer I/O error on dev {_devname(k, tmp)}, "
                                             f"logical block {rd(k, tmp, 'buffer_head.b_blocknr')}"
                                             ", async page read")
                        error = True
                    else:
                        data = m.read(rd(k, bh, "buffer_head.b_data"), size)
                        __brelse(k, bh)
            m.write(addr + i * size, data)
    finally:
        free_buffer_head(k, tmp)
    c = k.target.const
    flags = rd(k, folio, "page.flags")
    flags = flags | 1 << c("PG_error") if error else flags | 1 << c("PG_uptodate")
    wr(k, folio, "page.flags", flags & ~(1 << c("PG_locked")))
    return 0


def _devname(k, bh: int) -> str:
    dev = k.model(LoopDevices).by_bdev(rd(k, bh, "buffer_head.b_bdev"))
    return dev.name if dev else "?"

link_only_table((
    # linux/buffer_head.h
    ('int block_commit_write(struct page *page, unsigned from, unsigned to)', _EIO),
    ('void block_invalidate_folio(struct folio *folio, size_t offset, size_t length)', None),
    ('bool block_is_partially_uptodate(struct folio *folio, size_t from, size_t count)', 0),
    ('int block_page_mkwrite(struct vm_area_struct *vma, struct vm_fault *vmf, void '
     '*get_block)',
     _EIO),
    ('int buffer_migrate_folio(struct address_space *address_space, struct folio *dst, '
     'struct folio *src, enum migrate_mode migrate_mode)',
     _EIO),
    ('void clean_bdev_aliases(struct block_device *bdev, sector_t block, sector_t len)', None),
    ('int cont_write_begin(struct file *file, struct address_space *address_space, '
     'loff_t pos, unsigned arg, struct page **page, void **void, get_block_t '
     '*get_block_t, loff_t *pos2)',
     _EIO),
    ('void create_empty_buffers(struct page *page, unsigned long n, unsigned long b_state)', None),
    ('int generic_cont_expand_simple(struct inode *inode, loff_t size)', _EIO),
    ('void invalidate_bh_lrus(void)', None),
    ('void mark_buffer_async_write(struct buffer_head *bh)', None),
    ('void page_zero_new_buffers(struct page *page, unsigned from, unsigned to)', None),
    ('void set_bh_page(struct buffer_head *bh, struct page *page, unsigned long offset)', None),
    ('bool try_to_free_buffers(struct folio *folio)', 0),
    # linux/mpage.h
    ('int mpage_writepages(struct address_space *mapping, struct writeback_control '
     '*wbc, void *get_block)',
     _EIO),
))


def _page_geometry(k, page: int):
    mapping = rd(k, page, "page.mapping")
    inode = rd(k, mapping, "address_space.host")
    bits = k.machine.read_u8(inode + k.target.offset("inode.i_blkbits"))
    return mapping, inode, bits


@export("int __block_write_begin(struct page *page, loff_t pos, unsigned len, " + _GET_BLOCK + ")")
def __block_write_begin(k, page, pos, len, get_block):
    """Bring the page up to date (mapped blocks read, holes zero), then map with
    create=1 each block the write [pos, pos+len) touches."""
    c = page_cache(k)
    t = k.target
    mapping, inode, bits = _page_geometry(k, page)
    if not c.flag(page, t.const("PG_uptodate")):
        yield from read_full_page(k, page, get_block)
        c.set_flag(page, t.const("PG_locked"))
        if c.flag(page, t.const("PG_error")):
            return -errno.EIO
    size = 1 << bits
    start = pos & (PAGE_SIZE - 1)
    index = rd(k, page, "page.index")
    for i in range(start >> bits, (start + max(len, 1) - 1 >> bits) + 1):
        iblock = (index << (12 - bits)) + i
        err, mapped, new, _blk, _bdev = yield from map_block(k, inode, iblock, size, page,
                                                             get_block, 1)
        if err:
            return err
    return 0


@export("int block_write_begin(struct address_space *mapping, loff_t pos, unsigned len, "
        "struct page **pagep, " + _GET_BLOCK + ")")
def block_write_begin(k, mapping, pos, len, pagep, get_block):
    page = grab_cache_page_write_begin(k, mapping, pos >> 12)
    if not page:
        return -errno.ENOMEM
    err = yield from __block_write_begin(k, page, pos, len, get_block)
    if err:
        c = page_cache(k)
        c.set_flag(page, k.target.const("PG_locked"), False)
        c.ref(page, -1)
        page = 0
    k.machine.write_u64(pagep, page)
    return err


@export("int block_write_end(struct file *file, struct address_space *mapping, loff_t pos, "
        "unsigned len, unsigned copied, struct page *page, void *fsdata)")
def block_write_end(k, file, mapping, pos, len, copied, page, fsdata):
    page_cache(k).set_flag(page, k.target.const("PG_uptodate"))
    folio_mark_dirty(k, page)
    return copied


@export("int generic_write_end(struct file *file, struct address_space *mapping, loff_t pos, "
        "unsigned len, unsigned copied, struct page *page, void *fsdata)")
def generic_write_end(k, file, mapping, pos, len, copied, page, fsdata):
    copied = block_write_end(k, file, mapping, pos, len, copied, page, fsdata)
    inode = rd(k, mapping, "address_space.host")
    grown = pos + copied > rd(k, inode, "inode.i_size")
    if grown:
        wr(k, inode, "inode.i_size", pos + copied)
    c = page_cache(k)
    c.set_flag(page, k.target.const("PG_locked"), False)
    c.ref(page, -1)
    if grown:
        yield from __mark_inode_dirty(k, inode, k.target.const("I_DIRTY"))
    return copied


@export("bool block_dirty_folio(struct address_space *mapping, struct folio *folio)")
def block_dirty_folio(k, mapping, folio):
    return folio_mark_dirty(k, folio)


@export("int block_write_full_page(struct page *page, " + _GET_BLOCK +
        ", struct writeback_control *wbc)")
def block_write_full_page(k, page, get_block, wbc):
    """Each block of the page below i_size mapped (create=1) and written to the device;
    the page unlocked (end_page_writeback())."""
    c = page_cache(k)
    mapping, inode, bits = _page_geometry(k, page)
    size = 1 << bits
    index = rd(k, page, "page.index")
    isize = rd(k, inode, "inode.i_size")
    addr = pages(k).addr_of(page)
    err = 0
    for i in range(PAGE_SIZE >> bits):
        iblock = (index << (12 - bits)) + i
        if iblock << bits >= isize:
            break
        e, mapped, _new, blocknr, bdev = yield from map_block(k, inode, iblock, size, page,
                                                              get_block, 1)
        if e or not mapped:
            err = err or e
            continue
        bh = cache(k).getblk(bdev, blocknr, size)
        k.machine.write(rd(k, bh, "buffer_head.b_data"), k.machine.read(addr + i * size, size))
        cache(k).set_bit(bh, BH_Uptodate)
        err = err or cache(k).io(bh, True)
        __brelse(k, bh)
    c.set_flag(page, k.target.const("PG_locked"), False)
    return err


@export("int block_truncate_page(struct address_space *mapping, loff_t from, " + _GET_BLOCK + ")")
def block_truncate_page(k, mapping, from_, get_block):
    """Zero the rest of the block ``from`` falls in, in the page cache."""
    c = page_cache(k)
    page = c.pages.get((mapping, from_ >> 12))
    inode = rd(k, mapping, "address_space.host")
    bits = k.machine.read_u8(inode + k.target.offset("inode.i_blkbits"))
    off = from_ & ((1 << bits) - 1)
    if page and off:
        start = from_ & (PAGE_SIZE - 1)
        k.machine.write(pages(k).addr_of(page) + start, bytes((1 << bits) - off))
    return 0
    yield


@export("void end_buffer_read_sync(struct buffer_head *bh, int uptodate)")
def end_buffer_read_sync(k, bh, uptodate):
    c = cache(k)
    c.set_bit(bh, BH_Uptodate, bool(uptodate))
    c.set_bit(bh, BH_Lock, False)
    c.count(bh, -1)                                       # put_bh()


@export("void end_buffer_write_sync(struct buffer_head *bh, int uptodate)")
def end_buffer_write_sync(k, bh, uptodate):
    c = cache(k)
    c.set_bit(bh, BH_Uptodate, bool(uptodate))
    c.set_bit(bh, BH_Lock, False)
    c.count(bh, -1)


@export("void submit_bh(unsigned int opf, struct buffer_head *bh)")
def submit_bh(k, opf, bh):
    """The buffer's I/O, done at once, then its b_end_io(bh, uptodate)."""
    c, t = cache(k), k.target
    write = opf & t.const("REQ_OP_MASK") == t.const("REQ_OP_WRITE")
    c.set_bit(bh, "BH_Req")
    err = c.io(bh, write)
    if write and not err:
        c.set_bit(bh, BH_Dirty, False)
    end = rd(k, bh, "buffer_head.b_end_io")
    if end:
        yield k.call_request(end, bh, 0 if err else 1)


@export("int __bh_read(struct buffer_head *bh, unsigned int op_flags, bool wait)")
def __bh_read(k, bh, op_flags, wait):
    """bh_read(): a locked buffer read with end_buffer_read_sync; -EIO if it failed."""
    c = cache(k)
    c.count(bh, 1)                                        # get_bh()
    wr(k, bh, "buffer_head.b_end_io", k.export_addr("end_buffer_read_sync"))
    yield from submit_bh(k, k.target.const("REQ_OP_READ") | op_flags, bh)
    if wait and not c.test(bh, BH_Uptodate):
        return -errno.EIO
    return 0


@export("void __bh_read_batch(int nr, struct buffer_head *bhs[], unsigned int op_flags, "
        "bool force_lock)")
def __bh_read_batch(k, nr, bhs, op_flags, force_lock):
    c = cache(k)
    for i in range(nr):
        bh = k.machine.read_u64(bhs + 8 * i)
        if c.test(bh, BH_Uptodate):
            continue
        c.set_bit(bh, BH_Lock)
        yield from __bh_read(k, bh, op_flags, False)
