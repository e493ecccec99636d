"""fs/libfs.c and the llseek helpers of fs/read_write.c.

``simple_read_from_buffer``/``simple_write_to_buffer``, ``simple_open``, the
``simple_attr_*`` file operations that DEFINE_SIMPLE_ATTRIBUTE and
DEFINE_DEBUGFS_ATTRIBUTE expand to (the get/set callbacks run in emulation,
the value is formatted with the module's format string), and the llseek
family (``generic_file_llseek``, ``default_llseek``, ``noop_llseek``,
``fixed_size_llseek``...) with the kernel's SEEK_* rules.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from ..lib.kstrtox import kstrtoll, kstrtoull
from ..lib.usercopy import access_ok, copy_in, copy_out
from kemu.abi.toolkit import FormatArgs, kfree, kzalloc, rd, s32, s64, wr
from kemu.stubs.lib.vsprintf import vformat

members("struct file", "f_inode", "f_mode", "f_pos", "private_data")
members("struct inode", "i_size", "i_private")

LLONG_MAX = (1 << 63) - 1


# ------------------------------------------------------------ buffers
def read_from_buffer(k, to, count, ppos, data: bytes) -> int:
    """simple_read_from_buffer() with the source as Python bytes."""
    pos = s64(k.machine.read_u64(ppos))
    available = len(data)
    if pos < 0:
        return -errno.EINVAL
    if pos >= available or not count:
        return 0
    count = min(count, available - pos)
    ret = count if not access_ok(to, count) else copy_out(k, to, data[pos:pos + count])
    if ret == count:
        return -errno.EFAULT
    count -= ret
    k.machine.write_u64(ppos, pos + count)
    return count


@export("ssize_t simple_read_from_buffer(void __user *to, size_t count, loff_t *ppos, "
        "const void *from, size_t available)")
def simple_read_from_buffer(k, to, count, ppos, frm, available):
    pos = s64(k.machine.read_u64(ppos))
    if pos < 0:
        return -errno.EINVAL
    if pos >= available or not count:
        return 0
    n = min(count, available - pos)
    ret = n if not access_ok(to, n) else copy_out(k, to, k.machine.read(frm + pos, n))
    if ret == n:
        return -errno.EFAULT
    n -= ret
    k.machine.write_u64(ppos, pos + n)
    return n


@export("ssize_t simple_write_to_buffer(void *to, size_t available, loff_t *ppos, "
        "const void __user *from, size_t count)")
def simple_write_to_buffer(k, to, available, ppos, frm, count):
    pos = s64(k.machine.read_u64(ppos))
    if pos < 0:
        return -errno.EINVAL
    if pos >= available or not count:
        return 0
    count = min(count, available - pos)
    got = copy_in(k, frm, count) if access_ok(frm, count) else b""
    if not got:
        return -errno.EFAULT
    k.machine.write(to + pos, got)
    k.machine.write_u64(ppos, pos + len(got))
    return len(got)


@export("ssize_t memory_read_from_buffer(void *to, size_t count, loff_t *ppos, const void *from, "
        "size_t available)")
def memory_read_from_buffer(k, to, count, ppos, frm, available):
    pos = s64(k.machine.read_u64(ppos))
    if pos < 0:
        return -errno.EINVAL
    if pos >= available:
        return 0
    count = min(count, available - pos)
    if count:
        k.machine.write(to, k.machine.read(frm + pos, count))
    k.machine.write_u64(ppos, pos + count)
    return count


@export("int simple_open(struct inode *inode, struct file *file)")
def simple_open(k, inode, file):
    private = rd(k, inode, "inode.i_private")
    if private:
        wr(k, file, "file.private_data", private)
    return 0


# ------------------------------------------------------------ simple_attr
class SimpleAttr:
    """struct simple_attr (private to libfs.c): get, set, the buffers, data, fmt."""
    __slots__ = ("get", "set", "get_buf", "data", "fmt")

    def __init__(self, get, set_, data, fmt):
        self.get, self.set, self.data, self.fmt, self.get_buf = get, set_, data, fmt, b""


class SimpleAttrs:
    def __init__(self, k):
        self.by_addr: dict[int, SimpleAttr] = {}


@export("int simple_attr_open(struct inode *inode, struct file *file, "
        "int (*get)(void *, u64 *), int (*set)(void *, u64), const char *fmt)")
def simple_attr_open(k, inode, file, get, set_, fmt):
    from .open import nonseekable_open
    addr = kzalloc(k, 96, "simple_attr")
    k.model(SimpleAttrs).by_addr[addr] = SimpleAttr(get, set_, rd(k, inode, "inode.i_private"),
                                                    fmt)
    wr(k, file, "file.private_data", addr)
    return nonseekable_open(k, inode, file)


@export("int simple_attr_release(struct inode *inode, struct file *file)")
def simple_attr_release(k, inode, file):
    addr = rd(k, file, "file.private_data")
    k.model(SimpleAttrs).by_addr.pop(addr, None)
    kfree(k, addr)
    return 0


def attr_read(k, file, buf, length, ppos):
    """simple_attr_read(): get() on the first read, then simple_read_from_buffer."""
    attr = k.model(SimpleAttrs).by_addr.get(rd(k, file, "file.private_data"))
    if attr is None or not attr.get:
        return -errno.EACCES
    pos = k.machine.read_u64(ppos)
    if not (pos and attr.get_buf):
        val_addr = k.heap.alloc(8, kind="u64", zero=True)
        try:
            ret = s32((yield k.call_request(attr.get, attr.data, val_addr)))
            if ret:
                return ret
            val = k.machine.read_u64(val_addr)
        finally:
            k.heap.free(val_addr)
        attr.get_buf = vformat(k, attr.fmt, FormatArgs([val]))[:23]     # scnprintf(get_buf, 24)
    return read_from_buffer(k, buf, length, ppos, attr.get_buf)


def attr_write(k, file, buf, length, ppos, signed):
    """simple_attr_write_xsigned()."""
    attr = k.model(SimpleAttrs).by_addr.get(rd(k, file, "file.private_data"))
    if attr is None or not attr.set:
        return -errno.EACCES
    size = min(23, length)
    data = copy_in(k, buf, size) if access_ok(buf, size) else b""
    if len(data) != size:
        return -errno.EFAULT
    err, val = (kstrtoll if signed else kstrtoull)(data, 0)
    if err:
        return err
    ret = s32((yield k.call_request(attr.set, attr.data, val & 0xFFFFFFFFFFFFFFFF)))
    return length if ret == 0 else ret


@export("ssize_t simple_attr_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)")
def simple_attr_read(k, file, buf, length, ppos):
    return (yield from attr_read(k, file, buf, length, ppos))


@export("ssize_t simple_attr_write(struct file *file, const char __user *buf, size_t len, "
        "loff_t *ppos)")
def simple_attr_write(k, file, buf, length, ppos):
    return (yield from attr_write(k, file, buf, length, ppos, False))


@export("ssize_t simple_attr_write_signed(struct file *file, const char __user *buf, size_t len, "
        "loff_t *ppos)")
def simple_attr_write_signed(k, file, buf, length, ppos):
    return (yield from attr_write(k, file, buf, length, ppos, True))


# ------------------------------------------------------------ llseek
def _unsigned_offsets(k, file):
    return rd(k, file, "file.f_mode", 4) & k.target.const("FMODE_UNSIGNED_OFFSET")


def vfs_setpos(k, file, offset, maxsize):
    """vfs_setpos()."""
    if offset < 0 and not _unsigned_offsets(k, file):
        return -errno.EINVAL
    if offset > maxsize:
        return -errno.EINVAL
    wr(k, file, "file.f_pos", offset)
    return offset


def llseek_size(k, file, offset, whence, maxsize, eof):
    """generic_file_llseek_size()."""
    t = k.target
    if whence == t.const("SEEK_END"):
        offset += eof
    elif whence == t.const("SEEK_CUR"):
        pos = s64(rd(k, file, "file.f_pos"))
        if offset == 0:
            return pos
        return vfs_setpos(k, file, pos + offset, maxsize)
    elif whence == t.const("SEEK_DATA"):
        if offset & 0xFFFFFFFFFFFFFFFF >= eof:
            return -errno.ENXIO
    elif whence == t.const("SEEK_HOLE"):
        if offset & 0xFFFFFFFFFFFFFFFF >= eof:
            return -errno.ENXIO
        offset = eof
    return vfs_setpos(k, file, offset, maxsize)


def _i_size(k, file):
    return s64(rd(k, rd(k, file, "file.f_inode"), "inode.i_size"))


@export("loff_t generic_file_llseek_size(struct file *file, loff_t offset, int whence, "
        "loff_t maxsize, loff_t eof)")
def generic_file_llseek_size(k, file, offset, whence, maxsize, eof):
    return llseek_size(k, file, offset, whence, maxsize, eof)


@export("loff_t generic_file_llseek(struct file *file, loff_t offset, int whence)")
def generic_file_llseek(k, file, offset, whence):
    # s_maxbytes of the filesystems kemu's files live on (devtmpfs, debugfs, proc)
    return llseek_size(k, file, offset, whence, k.target.const("MAX_LFS_FILESIZE"),
                       _i_size(k, file))


@export("loff_t fixed_size_llseek(struct file *file, loff_t offset, int whence, loff_t size)")
def fixed_size_llseek(k, file, offset, whence, size):
    t = k.target
    if whence in (t.const("SEEK_SET"), t.const("SEEK_CUR"), t.const("SEEK_END")):
        return llseek_size(k, file, offset, whence, size, size)
    return -errno.EINVAL


@export("loff_t no_seek_end_llseek(struct file *file, loff_t offset, int whence)")
def no_seek_end_llseek(k, file, offset, whence):
    t = k.target
    if whence in (t.const("SEEK_SET"), t.const("SEEK_CUR")):
        return llseek_size(k, file, offset, whence, LLONG_MAX, 0)
    return -errno.EINVAL


@export("loff_t no_seek_end_llseek_size(struct file *file, loff_t offset, int whence, loff_t size)")
def no_seek_end_llseek_size(k, file, offset, whence, size):
    t = k.target
    if whence in (t.const("SEEK_SET"), t.const("SEEK_CUR")):
        return llseek_size(k, file, offset, whence, size, 0)
    return -errno.EINVAL


@export("loff_t no_llseek(struct file *file, loff_t offset, int whence)", until="6.1")
def no_llseek(k, file, offset, whence):
    """5.10: the llseek of a file that cannot seek (fs/read_write.c)."""
    return -errno.ESPIPE


@export("loff_t noop_llseek(struct file *file, loff_t offset, int whence)")
def noop_llseek(k, file, offset, whence):
    return s64(rd(k, file, "file.f_pos"))


@export("loff_t default_llseek(struct file *file, loff_t offset, int whence)")
def default_llseek(k, file, offset, whence):
    t = k.target
    size = _i_size(k, file)
    pos = s64(rd(k, file, "file.f_pos"))
    if whence == t.const("SEEK_END"):
        offset += size
    elif whence == t.const("SEEK_CUR"):
        if offset == 0:
            return pos
        offset += pos
    elif whence == t.const("SEEK_DATA"):
        if offset >= size:
            return -errno.ENXIO
    elif whence == t.const("SEEK_HOLE"):
        if offset >= size:
            return -errno.ENXIO
        offset = size
    if offset >= 0 or _unsigned_offsets(k, file):
        wr(k, file, "file.f_pos", offset)
        return offset
    return -errno.EINVAL


@export("int generic_check_addressable(unsigned blocksize_bits, u64 num_blocks)")
def generic_check_addressable(k, blocksize_bits, num_blocks):
    """Whether a filesystem of ``num_blocks`` blocks fits sector_t and pgoff_t."""
    if num_blocks == 0:
        return 0
    if blocksize_bits < 9 or blocksize_bits > 12:
        return -errno.EINVAL
    last_block = num_blocks - 1
    if last_block > ((1 << 64) - 1) >> (blocksize_bits - 9) or \
            last_block >> (12 - blocksize_bits) > (1 << 64) - 1:
        return -errno.EFBIG
    return 0
