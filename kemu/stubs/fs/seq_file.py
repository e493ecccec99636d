"""fs/seq_file.c (Linux 6.1) against the real ``struct seq_file`` layout.

Everything a module can see lives in kernel memory: ``buf``, ``size``,
``from``, ``count``, ``pad_until``, ``index``, ``read_pos``, ``op``, ``file``
and ``private``; the read protocol (``seq_read_iter`` and ``traverse``) calls
the module's ``start``/``show``/``next``/``stop`` in emulation in the order
and with the arguments (``&m->index``) the kernel uses, so iterators that keep
state in ``m->private`` or compare ``*pos`` behave as they do on Linux.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import VaList, members
from kemu.kernel.log import KERN_INFO

from ..lib.usercopy import access_ok, copy_out, iter_copy_to, iter_count
from ..lib.vsprintf import ESCAPE_OCTAL, isascii, isprint, string_escape_mem
from kemu.abi.toolkit import (cstr, err_ptr, init_list_head, is_err, kfree, kzalloc, rd, s32, s64,
                              static, static_addr, wr)
from kemu.stubs.lib.vsprintf import vformat

members("struct hlist_head", "first")
members("struct hlist_node", "next")
members("struct seq_file", "index", "lock", "buf", "size", "from", "count", "pad_until",
        "read_pos", "op", "poll_event", "file")
members("struct seq_operations", "start", "stop", "next", "show")
members("struct file", "f_mode", "f_pos", "private_data", "f_lock")
members("struct mutex", "wait_list", "owner", "wait_lock", "osq")
# fs, proc, seq_file, devices, sysfs, netns (stubs/fs, stubs/drivers, stubs/net)
members("struct kiocb", "ki_filp", "ki_pos", "ki_complete", "private", "ki_flags")

SEQ_START_TOKEN = 1
PAGE_SIZE = 4096


# ------------------------------------------------------------ field access
def _g(k, m, name):
    return rd(k, m, f"seq_file.{name}")


def _s(k, m, name, value):
    wr(k, m, f"seq_file.{name}", value)


def _op(k, m, name):
    return rd(k, _g(k, m, "op"), f"seq_operations.{name}")


def _buf_alloc(k, size):
    """seq_buf_alloc(): kvmalloc(size, GFP_KERNEL_ACCOUNT)."""
    return k.heap.alloc(size, kind="seq_file buf")


def _buf_free(k, addr):
    if addr and k.heap.find(addr) is not None:
        k.heap.free(addr)


def overflowed(k, m) -> bool:
    """seq_has_overflowed()."""
    return _g(k, m, "count") == _g(k, m, "size")


def _set_overflow(k, m):
    _s(k, m, "count", _g(k, m, "size"))


def _ps(k, addr) -> str:
    hit = k.symbolize(addr)
    if not hit:
        return f"{addr:#x}"
    return hit[0] + (f" [{hit[3]}]" if hit[3] else "")


# ------------------------------------------------------------ the read protocol
def traverse(k, m, offset):
    """traverse(): re-run the iterator up to byte ``offset``; a generator returning an error."""
    pos = 0
    error = 0
    idx_ptr = m + k.target.offset("seq_file.index")
    _s(k, m, "index", 0)
    _s(k, m, "count", 0)
    _s(k, m, "from", 0)
    if not offset:
        return 0
    if not _g(k, m, "buf"):
        _s(k, m, "size", PAGE_SIZE)
        _s(k, m, "buf", _buf_alloc(k, PAGE_SIZE))
    p = yield k.call_request(_op(k, m, "start"), m, idx_ptr)
    while p:
        error = s64(p) if is_err(p) else 0
        if is_err(p):
            break
        error = s32((yield k.call_request(_op(k, m, "show"), m, p)))
        if error < 0:
            break
        if error:
            error = 0
            _s(k, m, "count", 0)
        if overflowed(k, m):
            yield k.call_request(_op(k, m, "stop"), m, p)
            _buf_free(k, _g(k, m, "buf"))
            _s(k, m, "count", 0)
            size = _g(k, m, "size") << 1
            _s(k, m, "size", size)
            _s(k, m, "buf", _buf_alloc(k, size))
            return -errno.EAGAIN
        p = yield k.call_request(_op(k, m, "next"), m, p, idx_ptr)
        count = _g(k, m, "count")
        if pos + count > offset:
            _s(k, m, "from", offset - pos)
            _s(k, m, "count", count - (offset - pos))
            break
        pos += count
        _s(k, m, "count", 0)
        if pos == offset:
            break
    yield k.call_request(_op(k, m, "stop"), m, p)
    return error


class UserSink:
    """copy_to_iter() for a plain user buffer (seq_read's one-segment iovec)."""

    def __init__(self, k, ubuf, size):
        self.k, self.ubuf, self.left = k, ubuf, size

    def count(self):
        return self.left

    def copy(self, data):
        data = data[:self.left]
        if not data or not access_ok(self.ubuf, len(data)):
            return 0
        n = len(data) - copy_out(self.k, self.ubuf, data)
        self.ubuf += n
        self.left -= n
        return n


class IterSink:
    """copy_to_iter() into a struct iov_iter."""

    def __init__(self, k, it):
        self.k, self.it = k, it

    def count(self):
        return iter_count(self.k, self.it)

    def copy(self, data):
        return iter_copy_to(self.k, self.it, data)


def read_iter(k, m, ki_pos, sink):
    """seq_read_iter(): a generator returning (copied or -errno, new ki_pos)."""
    copied = 0
    err = 0
    mach = k.machine
    idx_ptr = m + k.target.offset("seq_file.index")
    if not sink.count():
        return 0, ki_pos
    if ki_pos == 0:
        _s(k, m, "index", 0)
        _s(k, m, "count", 0)
    if ki_pos != s64(_g(k, m, "read_pos")):
        while True:
            err = yield from traverse(k, m, ki_pos)
            if err != -errno.EAGAIN:
                break
        if err:
            _s(k, m, "read_pos", 0)
            _s(k, m, "index", 0)
            _s(k, m, "count", 0)
            return _done(k, m, copied, err, ki_pos)
        _s(k, m, "read_pos", ki_pos)
    if not _g(k, m, "buf"):
        _s(k, m, "size", PAGE_SIZE)
        _s(k, m, "buf", _buf_alloc(k, PAGE_SIZE))
    count = _g(k, m, "count")
    if count:
        frm = _g(k, m, "from")
        n = sink.copy(mach.read(_g(k, m, "buf") + frm, count))
        _s(k, m, "count", count - n)
        _s(k, m, "from", frm + n)
        copied += n
        if count - n:
            return _done(k, m, copied, err, ki_pos)
    _s(k, m, "from", 0)
    p = yield k.call_request(_op(k, m, "start"), m, idx_ptr)
    while True:
        err = s64(p) if is_err(p) else 0
        if not p or is_err(p):
            break
        err = s32((yield k.call_request(_op(k, m, "show"), m, p)))
        if err < 0:
            break
        if err:
            _s(k, m, "count", 0)
        if not _g(k, m, "count"):
            p = yield k.call_request(_op(k, m, "next"), m, p, idx_ptr)
            continue
        if not overflowed(k, m):
            break               # Fill
        yield k.call_request(_op(k, m, "stop"), m, p)
        _buf_free(k, _g(k, m, "buf"))
        _s(k, m, "count", 0)
        size = _g(k, m, "size") << 1
        _s(k, m, "size", size)
        _s(k, m, "buf", _buf_alloc(k, size))
        p = yield k.call_request(_op(k, m, "start"), m, idx_ptr)
    if not p or is_err(p) or err < 0:
        yield k.call_request(_op(k, m, "stop"), m, p)
        _s(k, m, "count", 0)
        return _done(k, m, copied, err, ki_pos)
    # Fill: one non-empty record is in the buffer; add more while they fit.
    while True:
        offs = _g(k, m, "count")
        pos = _g(k, m, "index")
        next_fn = _op(k, m, "next")
        p = yield k.call_request(next_fn, m, p, idx_ptr)
        if pos == _g(k, m, "index"):
            k.log.emit(KERN_INFO, f"buggy .next function {_ps(k, next_fn)} did not update position index")
            _s(k, m, "index", pos + 1)
        if not p or is_err(p):
            break
        if _g(k, m, "count") >= sink.count():
            break
        err = s32((yield k.call_request(_op(k, m, "show"), m, p)))
        if err > 0:
            _s(k, m, "count", offs)
        elif err or overflowed(k, m):
            _s(k, m, "count", offs)
            break
    yield k.call_request(_op(k, m, "stop"), m, p)
    count = _g(k, m, "count")
    n = sink.copy(mach.read(_g(k, m, "buf"), count)) if count else 0
    copied += n
    _s(k, m, "count", count - n)
    _s(k, m, "from", n)
    return _done(k, m, copied, err, ki_pos)


def _done(k, m, copied, err, ki_pos):
    if not copied:
        return (-errno.EFAULT if _g(k, m, "count") else err), ki_pos
    _s(k, m, "read_pos", _g(k, m, "read_pos") + copied)
    return copied, ki_pos + copied


# ------------------------------------------------------------ open / read / release
def seq_open_file(k, file, op) -> int:
    """seq_open(): a zeroed seq_file as file->private_data."""
    t = k.target
    if rd(k, file, "file.private_data"):
        from ..lib.kemu_warn import warn
        warn(k, "fs/seq_file.c:61", "seq_open+0x67/0x80")
    p = k.heap.alloc(t.sizeof("seq_file"), kind="kmem_cache:seq_file", zero=True)
    wr(k, file, "file.private_data", p)
    if t.has_offset("mutex.wait_list"):
        init_list_head(k, p + t.offset("seq_file.lock") + t.offset("mutex.wait_list"))
    _s(k, p, "op", op)
    _s(k, p, "file", file)
    mode = rd(k, file, "file.f_mode", 4) & ~t.const("FMODE_PWRITE")
    wr(k, file, "file.f_mode", mode, 4)
    return 0


@export("int seq_open(struct file *file, const struct seq_operations *op)")
def seq_open(k, file, op):
    return seq_open_file(k, file, op)


@export("ssize_t seq_read_iter(struct kiocb *iocb, struct iov_iter *iter)")
def seq_read_iter(k, iocb, it):
    file = rd(k, iocb, "kiocb.ki_filp")
    m = rd(k, file, "file.private_data")
    ret, pos = yield from read_iter(k, m, s64(rd(k, iocb, "kiocb.ki_pos")), IterSink(k, it))
    wr(k, iocb, "kiocb.ki_pos", pos)
    return ret


@export("ssize_t seq_read(struct file *file, char __user *buf, size_t size, loff_t *ppos)")
def seq_read(k, file, buf, size, ppos):
    m = rd(k, file, "file.private_data")
    pos = s64(k.machine.read_u64(ppos))
    ret, pos = yield from read_iter(k, m, pos, UserSink(k, buf, size))
    k.machine.write_u64(ppos, pos)
    return ret


@export("loff_t seq_lseek(struct file *file, loff_t offset, int whence)")
def seq_lseek(k, file, offset, whence):
    m = rd(k, file, "file.private_data")
    retval = -errno.EINVAL
    if whence == 1:                        # SEEK_CUR
        offset += s64(rd(k, file, "file.f_pos"))
        whence = 0
    if whence == 0 and offset >= 0:
        retval = offset
        if offset != s64(_g(k, m, "read_pos")):
            while True:
                retval = yield from traverse(k, m, offset)
                if retval != -errno.EAGAIN:
                    break
            if retval:
                wr(k, file, "file.f_pos", 0)
                _s(k, m, "read_pos", 0)
                _s(k, m, "index", 0)
                _s(k, m, "count", 0)
            else:
                _s(k, m, "read_pos", offset)
                wr(k, file, "file.f_pos", offset)
                retval = offset
        else:
            wr(k, file, "file.f_pos", offset)
    return retval


def release_seq(k, file):
    """seq_release(): free the buffer and the seq_file."""
    m = rd(k, file, "file.private_data")
    if m:
        _buf_free(k, _g(k, m, "buf"))
        kfree(k, m)
    return 0


@export("int seq_release(struct inode *inode, struct file *file)")
def seq_release(k, inode, file):
    return release_seq(k, file)


@export("int seq_release_private(struct inode *inode, struct file *file)")
def seq_release_private(k, inode, file):
    m = rd(k, file, "file.private_data")
    _free_private(k, _g(k, m, "private"))
    _s(k, m, "private", 0)
    return release_seq(k, file)


def _free_private(k, addr):
    from ..mm.slab import kfree_addr
    kfree_addr(k, addr)


def open_private(k, file, ops, psize) -> int:
    """__seq_open_private(): a zeroed private area of ``psize`` as seq->private."""
    from ..mm.slab import kmalloc
    t = k.target
    private = kmalloc(k, psize & 0xFFFFFFFF if psize >= 0 else 1 << 41,
                      t.const("GFP_KERNEL") | t.const("__GFP_ZERO"))
    if not private:
        return 0
    seq_open_file(k, file, ops)
    _s(k, rd(k, file, "file.private_data"), "private", private)
    return private


@export("void *__seq_open_private(struct file *f, const struct seq_operations *ops, int psize)")
def __seq_open_private(k, f, ops, psize):
    return open_private(k, f, ops, psize)


@export("int seq_open_private(struct file *filp, const struct seq_operations *ops, int psize)")
def seq_open_private(k, filp, ops, psize):
    return 0 if open_private(k, filp, ops, psize) else -errno.ENOMEM


# ------------------------------------------------------------ single_open
@static("void *single_start(struct seq_file *p, loff_t *pos)")
def single_start(k, p, pos):
    return 0 if k.machine.read_u64(pos) else SEQ_START_TOKEN


@static("void *single_next(struct seq_file *p, void *v, loff_t *pos)")
def single_next(k, p, v, pos):
    k.machine.write_u64(pos, k.machine.read_u64(pos) + 1)
    return 0


@static("void single_stop(struct seq_file *p, void *v)")
def single_stop(k, p, v):
    pass


def single_open_file(k, file, show, data) -> int:
    """single_open(): a kmalloc'd seq_operations with single_start/next/stop and ``show``."""
    t = k.target
    op = kzalloc(k, t.sizeof("seq_operations"), "single_open ops")
    wr(k, op, "seq_operations.start", static_addr(k, "single_start"))
    wr(k, op, "seq_operations.next", static_addr(k, "single_next"))
    wr(k, op, "seq_operations.stop", static_addr(k, "single_stop"))
    wr(k, op, "seq_operations.show", show)
    res = seq_open_file(k, file, op)
    if res:
        kfree(k, op)
        return res
    _s(k, rd(k, file, "file.private_data"), "private", data)
    return 0


@export("int single_open(struct file *file, int (*show)(struct seq_file *, void *), void *data)")
def single_open(k, file, show, data):
    return single_open_file(k, file, show, data)


@export("int single_open_size(struct file *file, int (*show)(struct seq_file *, void *), "
        "void *data, size_t size)")
def single_open_size(k, file, show, data, size):
    buf = _buf_alloc(k, max(size, 1))
    ret = single_open_file(k, file, show, data)
    if ret:
        _buf_free(k, buf)
        return ret
    m = rd(k, file, "file.private_data")
    _s(k, m, "buf", buf)
    _s(k, m, "size", size)
    return 0


def single_release_file(k, file) -> int:
    """single_release(): seq_release() and kfree(op)."""
    m = rd(k, file, "file.private_data")
    op = _g(k, m, "op") if m else 0
    res = release_seq(k, file)
    kfree(k, op)
    return res


@export("int single_release(struct inode *inode, struct file *file)")
def single_release(k, inode, file):
    return single_release_file(k, file)


# ------------------------------------------------------------ output
def put_bytes(k, m, data: bytes) -> None:
    """seq_write() semantics: all of ``data`` or overflow."""
    count, size = _g(k, m, "count"), _g(k, m, "size")
    if count + len(data) < size:
        if data:
            k.machine.write(_g(k, m, "buf") + count, data)
        _s(k, m, "count", count + len(data))
    else:
        _set_overflow(k, m)


def _printf(k, m, text: bytes) -> None:
    count, size = _g(k, m, "count"), _g(k, m, "size")
    if count < size:
        avail = size - count
        k.machine.write(_g(k, m, "buf") + count, text[:avail - 1] + b"\0")
        if count + len(text) < size:
            _s(k, m, "count", count + len(text))
            return
    _set_overflow(k, m)


@export("void seq_printf(struct seq_file *m, const char *f, ...)")
def seq_printf(k, m, f, va):
    _printf(k, m, vformat(k, f, va))


@export("void seq_vprintf(struct seq_file *m, const char *f, va_list args)")
def seq_vprintf(k, m, f, args):
    _printf(k, m, vformat(k, f, VaList(k.machine, args)))


@export("void seq_puts(struct seq_file *m, const char *s)")
def seq_puts(k, m, s):
    text = k.machine.read_cstr(s)
    count, size = _g(k, m, "count"), _g(k, m, "size")
    if count + len(text) >= size:
        _set_overflow(k, m)
        return
    if text:
        k.machine.write(_g(k, m, "buf") + count, text)
    _s(k, m, "count", count + len(text))


def putc(k, m, c: int) -> None:
    """seq_putc()."""
    count = _g(k, m, "count")
    if count >= _g(k, m, "size"):
        return
    k.machine.write_u8(_g(k, m, "buf") + count, c)
    _s(k, m, "count", count + 1)


@export("void seq_putc(struct seq_file *m, char c)")
def seq_putc(k, m, c):
    putc(k, m, c & 0xFF)


@export("int seq_write(struct seq_file *seq, const void *data, size_t len)")
def seq_write(k, seq, data, length):
    count, size = _g(k, seq, "count"), _g(k, seq, "size")
    if count + length < size:
        if length:
            k.machine.write(_g(k, seq, "buf") + count, k.machine.read(data, length))
        _s(k, seq, "count", count + length)
        return 0
    _set_overflow(k, seq)
    return -1


@export("void seq_pad(struct seq_file *m, char c)")
def seq_pad(k, m, c):
    count, size = _g(k, m, "count"), _g(k, m, "size")
    pad = _g(k, m, "pad_until") - count
    if pad > 0:
        if pad + count > size:
            _set_overflow(k, m)
            return
        k.machine.write(_g(k, m, "buf") + count, b" " * pad)
        _s(k, m, "count", count + pad)
    if c & 0xFF:
        putc(k, m, c & 0xFF)


def _num_to_str(num: int, size: int, width: int) -> bytes | None:
    digits = str(num).encode()
    if len(digits) > size or width > size:
        return None
    return digits.rjust(width, b" ") if width > len(digits) else digits


def _delimiter(k, m, delimiter):
    if delimiter:
        d = k.machine.read_cstr(delimiter, 4096)
        if d:
            if len(d) == 1:
                putc(k, m, d[0])
            else:
                put_text(k, m, d)


def put_text(k, m, text: bytes) -> None:
    """seq_puts() of Python bytes."""
    count, size = _g(k, m, "count"), _g(k, m, "size")
    if count + len(text) >= size:
        _set_overflow(k, m)
        return
    if text:
        k.machine.write(_g(k, m, "buf") + count, text)
    _s(k, m, "count", count + len(text))


def _put_decimal_ull_width(k, m, delimiter, num, width):
    if _g(k, m, "count") + 2 >= _g(k, m, "size"):
        _set_overflow(k, m)
        return
    _delimiter(k, m, delimiter)
    width = width or 1
    count, size = _g(k, m, "count"), _g(k, m, "size")
    if count + width >= size:
        _set_overflow(k, m)
        return
    digits = _num_to_str(num, size - count, width)
    if not digits:
        _set_overflow(k, m)
        return
    k.machine.write(_g(k, m, "buf") + count, digits)
    _s(k, m, "count", count + len(digits))


def seq_put_decimal_ull_width(k, m, delimiter, num, width):
    _put_decimal_ull_width(k, m, delimiter, num, width)


@export("void seq_put_decimal_ull(struct seq_file *m, const char *delimiter, unsigned long long num)")
def seq_put_decimal_ull(k, m, delimiter, num):
    _put_decimal_ull_width(k, m, delimiter, num, 0)


@export("void seq_put_decimal_ll(struct seq_file *m, const char *delimiter, long long num)")
def seq_put_decimal_ll(k, m, delimiter, num):
    if _g(k, m, "count") + 3 >= _g(k, m, "size"):
        _set_overflow(k, m)
        return
    _delimiter(k, m, delimiter)
    if num < 0:
        count = _g(k, m, "count")
        k.machine.write_u8(_g(k, m, "buf") + count, ord("-"))
        _s(k, m, "count", count + 1)
        num = -num
    count, size = _g(k, m, "count"), _g(k, m, "size")
    digits = _num_to_str(num, size - count, 0)
    if not digits:
        _set_overflow(k, m)
        return
    k.machine.write(_g(k, m, "buf") + count, digits)
    _s(k, m, "count", count + len(digits))


def seq_put_hex_ll(k, m, delimiter, v, width):
    _delimiter(k, m, delimiter)
    length = max((v.bit_length() + 3) // 4, 1, width)
    count, size = _g(k, m, "count"), _g(k, m, "size")
    if count + length > size:
        _set_overflow(k, m)
        return
    k.machine.write(_g(k, m, "buf") + count, f"{v:0{length}x}"[-length:].encode())
    _s(k, m, "count", count + length)




def _commit(k, m, data: bytes) -> None:
    """seq_get_buf() + seq_commit(): all of ``data`` if it fits the free space, else overflow."""
    count, size = _g(k, m, "count"), _g(k, m, "size")
    room = size - count if count < size else 0
    if len(data) < room:
        if data:
            k.machine.write(_g(k, m, "buf") + count, data)
        _s(k, m, "count", count + len(data))
    else:
        _set_overflow(k, m)


@export("void seq_escape(struct seq_file *m, const char *s, const char *esc)", until="6.1")
def seq_escape(k, m, s, esc):
    """5.10: seq_escape_mem() of the whole string, ESCAPE_OCTAL (fs/seq_file.c)."""
    src = k.machine.read_cstr(s, 1 << 20)
    only = k.machine.read_cstr(esc, 4096) if esc else None
    _commit(k, m, string_escape_mem(src, ESCAPE_OCTAL, only))


@export("void seq_escape_mem(struct seq_file *m, const char *src, size_t len, "
        "unsigned int flags, const char *esc)")
def seq_escape_mem(k, m, src, length, flags, esc):
    only = k.machine.read_cstr(esc, 4096) if esc else None
    _commit(k, m, string_escape_mem(k.machine.read(src, length) if length else b"", flags, only))


def hex_dump_line(data: bytes, rowsize: int, groupsize: int, ascii: bool) -> bytes:
    """hex_dump_to_buffer() with an unbounded buffer (lib/hexdump.c)."""
    if rowsize not in (16, 32):
        rowsize = 16
    data = data[:rowsize]
    length = len(data)
    if groupsize not in (1, 2, 4, 8):
        groupsize = 1
    if length % groupsize:
        groupsize = 1
    ngroups = length // groupsize
    ascii_column = rowsize * 2 + rowsize // groupsize + 1
    if not length:
        return b""
    if groupsize == 1:
        line = " ".join(f"{b:02x}" for b in data)
    else:
        width = groupsize * 2
        line = " ".join(f"{int.from_bytes(data[j * groupsize:(j + 1) * groupsize], 'little'):0{width}x}"
                        for j in range(ngroups))
    out = line.encode()
    if ascii:
        out = out.ljust(ascii_column, b" ")
        out += bytes(c if isascii(c) and isprint(c) else 0x2E for c in data)
    return out


@export("void seq_hex_dump(struct seq_file *m, const char *prefix_str, int prefix_type, "
        "int rowsize, int groupsize, const void *buf, size_t len, bool ascii)")
def seq_hex_dump(k, m, prefix_str, prefix_type, rowsize, groupsize, buf, length, ascii):
    if rowsize not in (16, 32):
        rowsize = 16
    prefix = k.machine.read_cstr(prefix_str) if prefix_str else b""
    remaining = length
    i = 0
    while i < length and not overflowed(k, m):
        linelen = min(remaining, rowsize)
        remaining -= rowsize
        if prefix_type == 1:                    # DUMP_PREFIX_ADDRESS (%p, hashed)
            _printf(k, m, prefix + f"{k.hash_pointer(buf + i)}: ".encode())
        elif prefix_type == 2:                  # DUMP_PREFIX_OFFSET
            _printf(k, m, prefix + f"{i:08x}: ".encode())
        else:
            _printf(k, m, prefix)
        _commit(k, m, hex_dump_line(k.machine.read(buf + i, linelen), rowsize, groupsize,
                                    bool(ascii)))
        putc(k, m, 0x0A)
        i += rowsize


# ------------------------------------------------------------ list iterators
def _next(k, node):
    return rd(k, node, "list_head.next")


@export("struct list_head *seq_list_start(struct list_head *head, loff_t pos)")
def seq_list_start(k, head, pos):
    lh = _next(k, head)
    while lh != head:
        if pos == 0:
            return lh
        pos -= 1
        lh = _next(k, lh)
        k.machine.check_deadline()              # a list a module made circular
    return 0


@export("struct list_head *seq_list_start_head(struct list_head *head, loff_t pos)")
def seq_list_start_head(k, head, pos):
    return head if not pos else seq_list_start(k, head, pos - 1)


@export("struct list_head *seq_list_next(void *v, struct list_head *head, loff_t *ppos)")
def seq_list_next(k, v, head, ppos):
    lh = _next(k, v)
    k.machine.write_u64(ppos, k.machine.read_u64(ppos) + 1)
    return 0 if lh == head else lh


for _suffix in ("_rcu",):
    export(f"struct list_head *seq_list_start{_suffix}(struct list_head *head, loff_t pos)")(
        lambda k, head, pos: seq_list_start(k, head, pos))
    export(f"struct list_head *seq_list_start_head{_suffix}(struct list_head *head, loff_t pos)")(
        lambda k, head, pos: seq_list_start_head(k, head, pos))
    export(f"struct list_head *seq_list_next{_suffix}(void *v, struct list_head *head, "
           "loff_t *ppos)")(lambda k, v, head, ppos: seq_list_next(k, v, head, ppos))


def _hfirst(k, head):
    return rd(k, head, "hlist_head.first")


def _hnext(k, node):
    return rd(k, node, "hlist_node.next")


def _hlist_start(k, head, pos):
    node = _hfirst(k, head)
    while node:
        if pos == 0:
            return node
        pos -= 1
        node = _hnext(k, node)
        k.machine.check_deadline()
    return 0


def _hlist_start_head(k, head, pos):
    return SEQ_START_TOKEN if not pos else _hlist_start(k, head, pos - 1)


def _hlist_next(k, v, head, ppos):
    k.machine.write_u64(ppos, k.machine.read_u64(ppos) + 1)
    return _hfirst(k, head) if v == SEQ_START_TOKEN else _hnext(k, v)


for _suffix in ("", "_rcu"):
    export(f"struct hlist_node *seq_hlist_start{_suffix}(struct hlist_head *head, loff_t pos)")(
        lambda k, head, pos: _hlist_start(k, head, pos))
    export(f"struct hlist_node *seq_hlist_start_head{_suffix}(struct hlist_head *head, "
           "loff_t pos)")(lambda k, head, pos: _hlist_start_head(k, head, pos))
    export(f"struct hlist_node *seq_hlist_next{_suffix}(void *v, struct hlist_head *head, "
           "loff_t *ppos)")(lambda k, v, head, ppos: _hlist_next(k, v, head, ppos))


def seq_text(k, m) -> bytes:
    """What is in the buffer now (for tests and diagnostics)."""
    count = _g(k, m, "count")
    return k.machine.read(_g(k, m, "buf"), count) if count else b""


__all__ = ["read_iter", "traverse", "seq_open_file", "single_open_file", "open_private",
           "release_seq", "single_release_file", "err_ptr", "cstr"]
