"""fs/open.c, fs/read_write.c, fs/ioctl.c, fs/file_table.c: files opened and
used the way the VFS does it, for the models of /proc, /dev and debugfs.

:class:`OpenFile` is one open file: a real ``struct inode`` and ``struct file``
in kernel memory, the operations of the file (``struct file_operations`` or,
for /proc, ``struct proc_ops``) called in emulation with the VFS's argument
conventions: a user buffer in the emulated user space for read and write,
``loff_t *ppos`` pointing at a copy of ``f_pos`` (NULL for stream files),
``-ENOIOCTLCMD`` turned into ``-ENOTTY``, and module references taken at open
(``fops_get``) and dropped at release (``fops_put``).

Python API::

    f = open_file(k, fops_addr, mode=S_IFCHR | 0o600, rdev=devt, flags=O_RDWR)
    data = f.read(4096)            # bytes; FileError(errno) on a negative result
    n = f.write(b"...")            # bytes written
    ret, out = f.ioctl_buf(cmd, b"in", out_size=8)
    f.llseek(0, SEEK_SET); f.close()
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.errors import KemuError, strerror
from kemu.abi.exports import members

from ..lib.usercopy import user_buffer
from .dcache import complete_open, release_open
from kemu.abi.toolkit import kfree, rd, s32, s64, wr

members("struct file_operations", "owner")
members("struct file", "f_op", "f_count", "f_flags", "f_mode", "f_pos", "private_data")
members("struct inode", "i_mode", "i_ino", "i_rdev", "i_size", "i_fop", "i_cdev", "i_private")
# fs, proc, seq_file, devices, sysfs, netns (stubs/fs, stubs/drivers, stubs/net)
members("struct kiocb", "ki_filp", "ki_pos")
members("struct iov_iter", "iter_type", "data_source", "user_backed", "count", "ubuf",
        "nr_segs", "nofault", "kvec", "bvec", "xarray", "pipe")

ENOIOCTLCMD = 515
MAX_RW_COUNT = 0x7FFFF000          # INT_MAX & PAGE_MASK


class FileError(KemuError):
    """A file operation returned a negative errno."""

    def __init__(self, message: str, err: int):
        super().__init__(message, err)
        self.errno = err


def alloc_inode(k, mode: int, rdev: int = 0, private: int = 0, ino: int = 0, size: int = 0,
                fop: int = 0, cdev: int = 0) -> int:
    """A zeroed struct inode with the members a driver looks at."""
    t = k.target
    inode = k.heap.alloc(t.sizeof("inode"), kind="inode", zero=True)
    wr(k, inode, "inode.i_mode", mode, 2)
    wr(k, inode, "inode.i_rdev", rdev, 4)
    wr(k, inode, "inode.i_private", private)
    wr(k, inode, "inode.i_ino", ino)
    wr(k, inode, "inode.i_size", size)
    wr(k, inode, "inode.i_fop", fop)
    wr(k, inode, "inode.i_cdev", cdev)
    return inode


def open_fmode(k, flags: int) -> int:
    """OPEN_FMODE(flags) | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE (do_dentry_open)."""
    t = k.target
    acc = (flags + 1) & t.const("O_ACCMODE")
    mode = 0
    if acc & 1:
        mode |= t.const("FMODE_READ")
    if acc & 2:
        mode |= t.const("FMODE_WRITE")
    return mode | t.const("FMODE_LSEEK") | t.const("FMODE_PREAD") | t.const("FMODE_PWRITE")


def alloc_file(k, inode: int, fop: int, flags: int, private: int = 0, path: str = "",
               dentry: int = 0, uid: int = 0, gid: int = 0) -> int:
    """A struct file as alloc_empty_file() + do_dentry_open() leave it before ->open:
    f_path (the dentry of ``path`` on its mount), f_inode, f_mapping, f_cred, ..."""
    t = k.target
    file = k.heap.alloc(t.sizeof("file"), kind="file", zero=True)
    complete_open(k, file, inode, path, dentry=dentry, uid=uid, gid=gid)
    wr(k, file, "file.f_op", fop)
    wr(k, file, "file.f_flags", flags, 4)
    wr(k, file, "file.f_mode", open_fmode(k, flags), 4)
    wr(k, file, "file.f_count", 1)
    wr(k, file, "file.private_data", private)
    return file


FOPS_MEMBERS = ("open", "read", "read_iter", "write", "write_iter", "llseek",
                "unlocked_ioctl", "release", "poll", "mmap", "flush")
PROC_MEMBERS = {"open": "proc_open", "read": "proc_read", "read_iter": "proc_read_iter",
                "write": "proc_write", "llseek": "proc_lseek", "unlocked_ioctl": "proc_ioctl",
                "release": "proc_release", "poll": "proc_poll", "mmap": "proc_mmap"}


def fops_table(k, fops: int) -> dict:
    """The function pointers of a struct file_operations, by member name."""
    return {name: rd(k, fops, f"file_operations.{name}") for name in FOPS_MEMBERS} if fops else {}


def module_get(k, module_ptr: int) -> bool:
    """try_module_get() as the module model does it."""
    from ..kernel.module import try_module_get
    return bool(try_module_get(k, module_ptr))


def module_put(k, module_ptr: int) -> None:
    """module_put() as the module model does it."""
    from ..kernel.module import module_put as _put
    _put(k, module_ptr)


class OpenFile:
    """One open file. ``ops`` maps file operation names to function addresses.

    ``kind`` is "fops" (struct file_operations: char devices, debugfs) or
    "proc" (proc_reg_* semantics: a missing read or write is -EIO).
    """

    def __init__(self, k, path: str, inode: int, file: int, ops: dict, kind: str = "fops",
                 module=None, refs=(), on_close=None, inode_owned=True):
        self.k, self.path, self.inode, self.file = k, path, inode, file
        self.ops, self.kind, self.module = dict(ops), kind, module
        self.refs = list(refs)            # struct module pointers to module_put at release
        self.on_close = on_close
        self.inode_owned = inode_owned    # False: the filesystem's own inode (debugfs)
        self.closed = False
        self.dead = False                 # /proc: the entry was removed under the open file
        self._pos = k.heap.alloc(8, kind="loff_t", zero=True)

    # -------------------------------------------------------- plumbing
    def _call(self, what: str, fn: int, *args) -> int:
        k = self.k
        mod = self.module if self.module is not None else k.module_containing(fn)
        return k.call(fn, *args, entry=f"{self.path} {what}", module=mod)

    def fmode(self) -> int:
        """file->f_mode."""
        return rd(self.k, self.file, "file.f_mode", 4)

    def pos(self) -> int:
        """file->f_pos."""
        return s64(rd(self.k, self.file, "file.f_pos"))

    @property
    def private_data(self) -> int:
        """file->private_data."""
        return rd(self.k, self.file, "file.private_data")

    def _ppos(self) -> int:
        if self.fmode() & self.k.target.const("FMODE_STREAM"):
            return 0
        self.k.machine.write_u64(self._pos, rd(self.k, self.file, "file.f_pos"))
        return self._pos

    def _pos_back(self, ppos: int) -> None:
        if ppos:
            wr(self.k, self.file, "file.f_pos", self.k.machine.read_u64(ppos))

    def do_open(self) -> int:
        """Run ->open (already set up by the caller); FMODE_CAN_READ/WRITE as the VFS sets them."""
        t = self.k.target
        ret = 0
        if self.ops.get("open"):
            ret = s32(self._call("open", self.ops["open"], self.inode, self.file))
        if ret == 0:
            mode = self.fmode()
            if mode & t.const("FMODE_READ") and (self.ops.get("read") or self.ops.get("read_iter")
                                                 or self.kind == "proc"):
                mode |= t.const("FMODE_CAN_READ")
            if mode & t.const("FMODE_WRITE") and (self.ops.get("write") or self.ops.get("write_iter")
                                                  or self.kind == "proc"):
                mode |= t.const("FMODE_CAN_WRITE")
            wr(self.k, self.file, "file.f_mode", mode, 4)
        return ret

    # -------------------------------------------------------- vfs_read / vfs_write
    def read_into(self, ubuf: int, count: int) -> int:
        """vfs_read(file, ubuf, count, &pos): the raw result (bytes or -errno)."""
        t = self.k.target
        if self.dead:
            return -errno.EIO
        mode = self.fmode()
        if not mode & t.const("FMODE_READ"):
            return -errno.EBADF
        if not mode & t.const("FMODE_CAN_READ"):
            return -errno.EINVAL
        count = min(count, MAX_RW_COUNT)
        ppos = self._ppos()
        if self.ops.get("read"):
            ret = s64(self._call("read", self.ops["read"], self.file, ubuf, count, ppos))
        elif self.ops.get("read_iter"):
            ret = self._sync_iter("read_iter", ubuf, count, ppos, t.const("ITER_DEST"))
        else:
            ret = -errno.EIO if self.kind == "proc" else -errno.EINVAL
        if ret >= 0:
            self._pos_back(ppos)
        return ret

    def write_from(self, ubuf: int, count: int) -> int:
        """vfs_write(file, ubuf, count, &pos): the raw result (bytes or -errno)."""
        t = self.k.target
        if self.dead:
            return -errno.EIO
        mode = self.fmode()
        if not mode & t.const("FMODE_WRITE"):
            return -errno.EBADF
        if not mode & t.const("FMODE_CAN_WRITE"):
            return -errno.EINVAL
        count = min(count, MAX_RW_COUNT)
        ppos = self._ppos()
        if self.ops.get("write"):
            ret = s64(self._call("write", self.ops["write"], self.file, ubuf, count, ppos))
        elif self.ops.get("write_iter"):
            ret = self._sync_iter("write_iter", ubuf, count, ppos, t.const("ITER_SOURCE"))
        else:
            ret = -errno.EIO if self.kind == "proc" else -errno.EINVAL
        if ret >= 0:
            self._pos_back(ppos)
        return ret

    def _sync_iter(self, what: str, ubuf: int, count: int, ppos: int, direction: int) -> int:
        """new_sync_read()/new_sync_write(): a kiocb and an ITER_UBUF iov_iter."""
        k, t = self.k, self.k.target
        kiocb = k.heap.alloc(t.sizeof("kiocb"), kind="kiocb", zero=True)
        it = k.heap.alloc(t.sizeof("iov_iter"), kind="iov_iter", zero=True)
        try:
            wr(k, kiocb, "kiocb.ki_filp", self.file)
            wr(k, kiocb, "kiocb.ki_pos", k.machine.read_u64(ppos) if ppos else 0)
            k.machine.write_u8(it + t.offset("iov_iter.iter_type"), t.const("ITER_UBUF"))
            k.machine.write_u8(it + t.offset("iov_iter.data_source"), direction)
            k.machine.write_u8(it + t.offset("iov_iter.user_backed"), 1)
            wr(k, it, "iov_iter.ubuf", ubuf)
            wr(k, it, "iov_iter.count", count)
            wr(k, it, "iov_iter.nr_segs", 1)
            ret = s64(self._call(what, self.ops[what], kiocb, it))
            if ret > 0 and ppos:
                k.machine.write_u64(ppos, rd(k, kiocb, "kiocb.ki_pos"))
            return ret
        finally:
            k.heap.free(kiocb)
            k.heap.free(it)

    def read(self, count: int = 131072) -> bytes:
        """read(2) of up to ``count`` bytes; raises FileError on a negative result."""
        with user_buffer(self.k, count) as ubuf:
            n = self.read_into(ubuf, count)
            if n < 0:
                raise FileError(f"{self.path}: read: {strerror(n)}", -n)
            return self.k.machine.read(ubuf, min(n, count)) if n else b""

    def read_all(self, chunk: int = 131072, limit: int = 1 << 24) -> bytes:
        """Read until end of file as cat(1) does (``chunk`` bytes per read)."""
        out = bytearray()
        while len(out) < limit:
            data = self.read(chunk)
            if not data:
                break
            out += data
        return bytes(out)

    def write(self, data: bytes) -> int:
        """write(2) of ``data``; returns the count written, FileError on a negative result."""
        with user_buffer(self.k, data) as ubuf:
            n = self.write_from(ubuf, len(data))
        if n < 0:
            raise FileError(f"{self.path}: write: {strerror(n)}", -n)
        return n

    # -------------------------------------------------------- ioctl, llseek
    def ioctl(self, cmd: int, arg: int = 0) -> int:
        """vfs_ioctl(): the handler's result, -ENOTTY without one or for -ENOIOCTLCMD."""
        if self.dead:
            return -errno.EIO
        fn = self.ops.get("unlocked_ioctl")
        if not fn:
            return -errno.ENOTTY
        ret = s64(self._call("ioctl", fn, self.file, cmd & 0xFFFFFFFF, arg))
        return -errno.ENOTTY if ret == -ENOIOCTLCMD else ret

    def ioctl_buf(self, cmd: int, data: bytes = b"", out_size: int | None = None):
        """ioctl(fd, cmd, &buf) with a user buffer holding ``data``; returns (ret, buffer after)."""
        size = max(len(data), out_size or 0, 1)
        with user_buffer(self.k, data.ljust(size, b"\0")) as ubuf:
            ret = self.ioctl(cmd, ubuf)
            return ret, self.k.machine.read(ubuf, size)

    def llseek(self, offset: int, whence: int = 0) -> int:
        """vfs_llseek(): -ESPIPE without FMODE_LSEEK or an llseek operation."""
        if self.dead:
            return -errno.EIO
        fn = self.ops.get("llseek")
        if not self.fmode() & self.k.target.const("FMODE_LSEEK") or not fn:
            if self.kind == "proc" and fn is None and self.fmode() & self.k.target.const("FMODE_LSEEK"):
                fn = self.k.export_addr("default_llseek")
            else:
                return -errno.ESPIPE
        return s64(self._call("llseek", fn, self.file, offset & 0xFFFFFFFFFFFFFFFF, whence))

    def poll(self) -> int:
        """vfs_poll() with no poll_table (poll(2) with a zero timeout): the handler's
        mask, DEFAULT_POLLMASK for a file without one."""
        t = self.k.target
        if self.dead:
            return t.const("EPOLLERR")
        fn = self.ops.get("poll")
        if not fn:
            return (t.const("EPOLLIN") | t.const("EPOLLOUT") | t.const("EPOLLRDNORM")
                    | t.const("EPOLLWRNORM"))
        return self._call("poll", fn, self.file, 0) & 0xFFFFFFFF

    # -------------------------------------------------------- release
    def close(self) -> int:
        """fput() -> __fput(): ->release, then the module references are dropped."""
        if self.closed:
            return 0
        self.closed = True
        ret = 0
        try:
            if self.ops.get("release") and not self.dead:
                ret = s32(self._call("release", self.ops["release"], self.inode, self.file))
        finally:
            if self.on_close:
                self.on_close(self)
            for ptr in self.refs:
                module_put(self.k, ptr)
            self.k.heap.free(self._pos)
            release_open(self.k, self.file)
            kfree(self.k, self.file)
            if self.inode_owned:
                kfree(self.k, self.inode)
        return ret

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_file(k, fops: int, mode: int, rdev: int = 0, flags: int = 0, private_inode: int = 0,
              path: str = "", file_private: int = 0, dentry: int = 0,
              inode: int = 0) -> OpenFile:
    """Open a file whose inode has ``i_fop = fops``: fops_get, ->open; FileError on failure.
    ``dentry``/``inode``: the filesystem's own (debugfs), else new ones for ``path``."""
    ops = fops_table(k, fops)
    owner = rd(k, fops, "file_operations.owner") if fops else 0
    if owner and not module_get(k, owner):
        raise FileError(f"{path}: open: {strerror(errno.ENXIO)}", errno.ENXIO)
    owned = not inode
    if owned:
        inode = alloc_inode(k, mode, rdev=rdev, private=private_inode, fop=fops)
    file = alloc_file(k, inode, fops, flags, private=file_private, path=path, dentry=dentry)
    f = OpenFile(k, path or "file", inode, file, ops, "fops", k.module_at(owner) if owner else None,
                 [owner] if owner else [], inode_owned=owned)
    ret = f.do_open()
    if ret:
        f.ops.pop("release", None)
        f.close()
        raise FileError(f"{path}: open: {strerror(ret)}", -ret)
    return f


# ---------------------------------------------------------------- exports
@export("int nonseekable_open(struct inode *inode, struct file *filp)")
def nonseekable_open(k, inode, filp):
    t = k.target
    mode = rd(k, filp, "file.f_mode", 4)
    mode &= ~(t.const("FMODE_LSEEK") | t.const("FMODE_PREAD") | t.const("FMODE_PWRITE"))
    wr(k, filp, "file.f_mode", mode, 4)
    return 0


@export("int stream_open(struct inode *inode, struct file *filp)")
def stream_open(k, inode, filp):
    t = k.target
    mode = rd(k, filp, "file.f_mode", 4)
    mode &= ~(t.const("FMODE_LSEEK") | t.const("FMODE_PREAD") | t.const("FMODE_PWRITE")
              | t.const("FMODE_ATOMIC_POS"))
    wr(k, filp, "file.f_mode", mode | t.const("FMODE_STREAM"), 4)
    return 0


@export("int generic_file_open(struct inode *inode, struct file *filp)")
def generic_file_open(k, inode, filp):
    t = k.target
    if not rd(k, filp, "file.f_flags", 4) & t.const("O_LARGEFILE") and \
            s64(rd(k, inode, "inode.i_size")) > 0x7FFFFFFF:
        return -errno.EOVERFLOW
    return 0
