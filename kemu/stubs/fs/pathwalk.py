"""fs/namei.c path_openat() and fs/read_write.c for the trees kemu models: a path
is looked up on its mount (/proc, /sys, /sys/kernel/debug, /dev), checked
against the opener's credentials as may_open()/generic_permission() do, and
opened through its filesystem's open; ``cat`` reads until end of file, ``echo >``
opens O_WRONLY|O_CREAT|O_TRUNC and writes once, ``ls`` lists a directory.

sysfs attributes (kernfs_fop_read_iter/kernfs_fop_write_iter: show() into a
page, store() of one write), sysfs bin attributes (->read/->write with the
struct file), module parameters (/sys/module/NAME/parameters/: param_attr_show/
store through the kernel_param_ops), debugfs value files and kemu-rendered /proc
files are files with a ``read``/``write``/``close`` of their own.

Paths on a filesystem kemu mounted (``kemu mount``) are served by
stubs/fs/namespace.py: the filesystem's lookup, iterate_shared and read_iter.

Left out: O_CREAT of new files (the pseudo filesystems refuse them: EACCES or
ENOENT as the kernel does), symlink following other than /proc/net, atime.
"""
from __future__ import annotations

import errno
import stat

from kemu.abi.exports import kernel_api, members
from kemu.errors import strerror
from kemu.module.module import ModuleState
from kemu.module.params import read_params

from ..kernel.process import cred_uid, current_cred, has_cap
from .open import FileError
from . import namespace

members("struct kernel_param_ops", "get")
members("struct inode", "i_mode", "i_flags", "i_op")
members("struct ctl_table", "mode", "poll")
members("struct device", "kobj")
members("struct bin_attribute", "attr", "size", "private", "read", "write")

DEBUGFS = "/sys/kernel/debug"


class Attr:
    """What lookup finds: a node's mode and owner (for the permission check)."""

    def __init__(self, mode: int, uid: int = 0, gid: int = 0):
        self.mode, self.uid, self.gid = mode, uid, gid


class FuncFile:
    """An open file whose reads and writes are Python calls (sysfs, parameters, values)."""

    def __init__(self, k, path: str, reader=None, writer=None, closer=None):
        self.k, self.path, self.reader, self.writer, self.closer = k, path, reader, writer, closer
        self.buf = None
        self.pos = 0
        self.closed = False

    def read(self, count: int = 131072) -> bytes:
        if self.buf is None:              # kernfs fills the buffer at the first read
            self.buf = self.reader() if self.reader else b""
        data = self.buf[self.pos:self.pos + count]
        self.pos += len(data)
        return data

    def read_all(self, chunk: int = 131072, limit: int = 1 << 24) -> bytes:
        out = bytearray()
        while len(out) < limit:
            data = self.read(chunk)
            if not data:
                break
            out += data
        return bytes(out)

    def write(self, data: bytes) -> int:
        if self.writer is None:
            raise FileError(f"{self.path}: write: {strerror(errno.EIO)}", errno.EIO)
        return self.writer(data)

    def llseek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: len(self.buf or b"")}.get(whence)
        if base is None or base + offset < 0:
            return -errno.EINVAL
        self.pos = base + offset
        return self.pos

    def poll(self) -> int:
        """kernfs_fop_poll() with nothing notified: DEFAULT_POLLMASK|EPOLLERR|EPOLLPRI."""
        c = self.k.target.const
        return (c("EPOLLIN") | c("EPOLLOUT") | c("EPOLLRDNORM") | c("EPOLLWRNORM")
                | c("EPOLLERR") | c("EPOLLPRI"))

    def close(self) -> int:
        if not self.closed and self.closer:
            self.closer()
        self.closed = True
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _fail(path: str, err: int):
    raise FileError(f"{path}: {strerror(-err if err < 0 else err)}", abs(err))


# ------------------------------------------------------------------ lookup
def _param(k, path: str):
    """(module, KernelParam) of /sys/module/NAME/parameters/P, or None."""
    parts = path.split("/")
    if len(parts) != 6 or parts[4] != "parameters":       # "", sys, module, NAME, ...
        return None
    mod = k.modules.get(parts[3])
    if mod is None:
        return None
    for kp in read_params(k, mod):
        if kp.name == parts[5] and kp.perm:
            return mod, kp
    return None


def _param_dirs(k) -> dict:
    """/sys/module/NAME[/parameters,/sections] of loaded modules -> mode."""
    out = {}
    for mod in k.modules.values():
        out[f"/sys/module/{mod.name}"] = 0o755
        if any(kp.perm for kp in read_params(k, mod)):
            out[f"/sys/module/{mod.name}/parameters"] = 0o755
        if mod.sect_attrs:
            out[f"/sys/module/{mod.name}/sections"] = 0o755
    return out


def _module_attrs(k, mod) -> dict:
    """The files of /sys/module/NAME kemu models besides parameters -> (mode, show).

    coresize and initsize (kernel/module/main.c's modinfo_attrs: core_layout.size
    and init_layout.size before 6.4, the sizes of the core and init classes of
    module_memory since), and sections/ (kernel/module/sysfs.c add_sect_attrs():
    each SHF_ALLOC section not empty, the .symtab and .strtab layout_symtab()
    allocated among them, 0400, its address as "0x%px" for a reader who may see
    kernel addresses). Leaves out the other attributes (refcnt, taint, holders/, notes/).
    """
    out = {"coresize": (0o444, lambda: f"{mod.core_size()}\n"),
           "initsize": (0o444, lambda: f"{mod.init_size()}\n")}
    for name, addr in mod.sect_attrs:
        out[f"sections/{name}"] = (0o400, lambda addr=addr: f"0x{addr:016x}\n")
    return out


def _module_attr(k, path: str):
    """(mode, show) of /sys/module/NAME/ATTR or .../sections/SECTION, or None."""
    parts = path.split("/", 4)                      # "", sys, module, NAME, ATTR
    if len(parts) != 5:
        return None
    mod = k.modules.get(parts[3])
    if mod is None or mod.state == ModuleState.UNFORMED:
        return None
    return _module_attrs(k, mod).get(parts[4])


def lookup(k, path: str) -> Attr | None:
    """The mode (S_IFMT included) and owner of ``path``, or None when it does not exist."""
    t = k.target
    IFDIR, IFREG = t.const("S_IFDIR"), t.const("S_IFREG")
    if path in ("/", "/proc", "/sys", "/dev", DEBUGFS):
        return Attr(IFDIR | (0o700 if path == DEBUGFS else 0o755))
    if path.startswith(DEBUGFS + "/"):
        from .debugfs import _lookup
        e = _lookup(k, path)
        if e is None:
            return None
        from kemu.abi.toolkit import rd
        return Attr(rd(k, e.inode, "inode.i_mode", 2))
    if path == "/proc/sys" or path.startswith("/proc/sys/"):
        return _sysctl_lookup(k, path)
    if path.startswith("/proc/"):
        from .proc import proc_lookup
        e = proc_lookup(k, path)
        return Attr(e.mode, e.uid, e.gid) if e is not None else None
    if path.startswith("/sys/module/"):
        got = _param(k, path)
        if got is not None:
            return Attr(IFREG | got[1].perm)
        mode = _param_dirs(k).get(path)
        if mode is not None:
            return Attr(IFDIR | mode)
        got = _module_attr(k, path)
        if got is not None:
            return Attr(IFREG | got[0])
    if path.startswith("/sys/"):
        from .sysfs import Sysfs
        node = k.model(Sysfs).nodes.get(path[4:])
        if node is None:
            return None
        if node.kind in ("file", "bin"):
            if not node.attr:                      # the device core's dev (0444), uevent (0644)
                return Attr(IFREG | (0o444 if path.endswith("/dev") else 0o644))
            return Attr(IFREG | (node.mode & 0o7777))
        if node.kind == "link":
            return Attr(t.const("S_IFLNK") | 0o777)
        return Attr(IFDIR | 0o755)
    if path.startswith("/dev/"):
        from ..drivers.base.core import Devices
        node = k.model(Devices).nodes.get(path[5:])
        if node is None:
            return None
        return Attr(t.const("S_IFCHR") | ((node[1] or 0o600) & 0o7777))
    return None


def _sysctl_lookup(k, path: str) -> Attr | None:
    """/proc/sys: a ctl_table entry's mode, or a directory on the way to one."""
    from ..kernel.sysctl import Sysctl
    from kemu.abi.toolkit import rd
    t = k.target
    rel = path[len("/proc/sys"):].strip("/")
    hit = k.model(Sysctl).files.get(rel)
    if hit is not None:
        return Attr(t.const("S_IFREG") | (rd(k, hit[0], "ctl_table.mode", 2) & 0o7777))
    if not rel or any(f.startswith(rel + "/") for f in k.model(Sysctl).files):
        return Attr(t.const("S_IFDIR") | 0o555)
    return None


def permission(k, attr: Attr, mask: int) -> int:
    """generic_permission(): the owner, group or other bits, then CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH as capable_wrt_inode_uidgid() decides them."""
    t = k.target
    cred = current_cred(k)
    fsuid, fsgid = cred_uid(k, cred)
    mode = attr.mode
    if fsuid == attr.uid:
        bits = mode >> 6
    elif fsgid == attr.gid:
        bits = mode >> 3
    else:
        bits = mode
    if not mask & ~bits & 7:
        return 0
    is_dir = stat.S_ISDIR(mode)
    if not is_dir or not mask & t.const("MAY_WRITE"):
        if has_cap(k, cred, t.const("CAP_DAC_READ_SEARCH")) and \
                not mask & ~(t.const("MAY_READ") | (t.const("MAY_EXEC") if is_dir else 0)):
            return 0
    if has_cap(k, cred, t.const("CAP_DAC_OVERRIDE")):
        if not mask & t.const("MAY_EXEC") or is_dir or mode & 0o111:
            return 0
    return -errno.EACCES


def resolve(k, path: str) -> str:
    """The path with sysfs symlinks on the way followed (/sys/class/X/Y -> /sys/devices/...)."""
    from .sysfs import Sysfs
    nodes = k.model(Sysfs).nodes
    for _ in range(40):                                   # MAXSYMLINKS
        if not path.startswith("/sys/"):
            return path
        parts = path.split("/")
        for i in range(3, len(parts) + 1):
            node = nodes.get("/" + "/".join(parts[2:i]))
            if node is not None and node.kind == "link" and node.target:
                path = "/sys" + node.target + "".join("/" + p for p in parts[i:])
                break
        else:
            return path
    _fail(path, errno.ELOOP)


def _walk(k, path: str) -> Attr:
    """Each directory on the way needs search (x) permission: link_path_walk()."""
    t = k.target
    path = resolve(k, path)
    parts = path.split("/")[1:]
    for i in range(1, len(parts)):
        d = "/" + "/".join(parts[:i])
        attr = lookup(k, d)
        if attr is None:
            _fail(path, errno.ENOENT)
        if not stat.S_ISDIR(attr.mode) and not stat.S_ISLNK(attr.mode):
            _fail(path, errno.ENOTDIR)
        if permission(k, attr, t.const("MAY_EXEC")):
            _fail(path, errno.EACCES)
    attr = lookup(k, path)
    if attr is None:
        _fail(path, errno.ENOENT)
    return attr


# ------------------------------------------------------------------ open
def _device_file(k, path: str, node):
    """The device core's own dev and uevent (dev_show(), dev_uevent() of a device node)."""
    from ..drivers.base.core import Devices
    from ..fs.char_dev import MAJOR, MINOR
    dev = node.kobj - k.target.offset("device.kobj")
    name = path.rsplit("/", 1)[-1]
    for devname, (devt, mode, device) in k.model(Devices).nodes.items():
        if device == dev:
            if name == "dev":
                text = f"{MAJOR(k, devt)}:{MINOR(k, devt)}\n"
            else:
                text = f"MAJOR={MAJOR(k, devt)}\nMINOR={MINOR(k, devt)}\nDEVNAME={devname}\n"
                if mode:
                    text += f"DEVMODE={mode & 0o7777:#o}\n".replace("0o", "0")
            return FuncFile(k, path, reader=lambda: text.encode())
    return FuncFile(k, path, reader=lambda: b"")


def _sysfs_file(k, path: str, node, flags: int):
    from .sysfs import sysfs_read, sysfs_write
    if node.kind == "bin":
        return _bin_file(k, path, node, flags)
    if not node.attr:
        return _device_file(k, path, node)
    return FuncFile(k, path, reader=lambda: sysfs_read(k, path),
                    writer=lambda data: sysfs_write(k, path, data))


def _bin_has(k, node, member: str) -> bool:
    from kemu.abi.toolkit import rd
    return bool(rd(k, node.attr - k.target.offset("bin_attribute.attr"),
                   f"bin_attribute.{member}"))


def _bin_file(k, path: str, node, flags: int):
    """sysfs_kf_bin_read()/write(): ->read(file, kobj, attr, buf, pos, count) into a
    kernel buffer, the struct file the opener got."""
    from kemu.abi.toolkit import kfree, rd, s64
    from .open import alloc_file, alloc_inode
    t = k.target
    page_size = t.const("PAGE_SIZE")
    battr = node.attr - t.offset("bin_attribute.attr")
    size = rd(k, battr, "bin_attribute.size")
    inode = alloc_inode(k, t.const("S_IFREG") | (node.mode & 0o7777), size=size)
    file = alloc_file(k, inode, 0, flags, path=path)
    state = {"pos": 0}

    def call(member, buf, off, count):
        fn = rd(k, battr, f"bin_attribute.{member}")
        if not fn:
            return -errno.EIO
        return s64(k.call(fn, file, node.kobj, battr, buf, off, count,
                          entry=f"{path} {member}", module=node.owner))

    def reader():
        out = bytearray()
        buf = k.heap.alloc(page_size, kind="sysfs bin buffer", zero=True)
        try:
            while True:
                off = state["pos"]
                count = page_size
                if size:
                    if off >= size:
                        break
                    count = min(count, size - off)
                n = call("read", buf, off, count)
                if n < 0:
                    raise FileError(f"{path}: read: {strerror(n)}", -n)
                if n == 0:
                    break
                out += k.machine.read(buf, n)
                state["pos"] += n
        finally:
            k.heap.free(buf)
        return bytes(out)

    def writer(data):
        if size and len(data) > size:
            data = data[:size]
        if not data:
            return 0
        buf = k.heap.alloc(max(len(data), 1), kind="sysfs bin buffer", zero=True)
        try:
            k.machine.write(buf, data)
            n = call("write", buf, 0, len(data))
        finally:
            k.heap.free(buf)
        if n < 0:
            raise FileError(f"{path}: write: {strerror(n)}", -n)
        return n

    def closer():
        from .dcache import release_open
        release_open(k, file)
        kfree(k, file)
        kfree(k, inode)
    return FuncFile(k, path, reader=reader, writer=writer, closer=closer)


def _param_file(k, path: str, mod, kp):
    """param_attr_show()/param_attr_store() (kernel/params.c)."""
    from kemu.abi.toolkit import rd, s64
    page_size = k.target.const("PAGE_SIZE")

    def reader():
        get = rd(k, kp.ops_addr, "kernel_param_ops.get")
        if not get:
            raise FileError(f"{path}: read: {strerror(errno.EPERM)}", errno.EPERM)
        page = k.heap.alloc(page_size, kind="param page", zero=True)
        try:
            n = s64(k.call(get, page, kp.addr, entry=f"{mod.name} param {kp.name} get",
                           module=mod))
            if n < 0:
                raise FileError(f"{path}: read: {strerror(n)}", -n)
            return k.machine.read(page, n)
        finally:
            k.heap.free(page)

    def writer(data):
        set_ = rd(k, kp.ops_addr, "kernel_param_ops.set")
        if not set_:
            raise FileError(f"{path}: write: {strerror(errno.EPERM)}", errno.EPERM)
        page = k.heap.alloc(page_size, kind="param page", zero=True)
        try:
            k.machine.write(page, data[:page_size - 1] + b"\0")
            err = s64(k.call(set_, page, kp.addr, entry=f"{mod.name} param {kp.name} set",
                             module=mod))
        finally:
            k.heap.free(page)
        if err < 0:
            raise FileError(f"{path}: write: {strerror(err)}", -err)
        return len(data)
    return FuncFile(k, path, reader=reader, writer=writer)


def _debugfs_file(k, path: str, flags: int):
    from .debugfs import _lookup, debugfs_open, debugfs_read, debugfs_write
    e = _lookup(k, path)
    if e.kind == "file":
        return debugfs_open(k, path, flags)
    return FuncFile(k, path, reader=lambda: debugfs_read(k, path),
                    writer=lambda data: debugfs_write(k, path, data))


@kernel_api("file_open")
def file_open(k, path: str, flags: int = 0):
    """open(2): an open file with read/write/close (FileError with the errno)."""
    t = k.target
    if namespace.mounted(k, path):
        return namespace.open_mounted(k, path, flags)
    path = resolve(k, namespace.normalize(path))
    attr = _walk(k, path)
    acc = flags & t.const("O_ACCMODE")
    if stat.S_ISDIR(attr.mode):            # cat reads a directory: EISDIR from read(2)
        _fail(path, errno.EISDIR)
    mask = {0: t.const("MAY_READ"), 1: t.const("MAY_WRITE")}.get(
        acc, t.const("MAY_READ") | t.const("MAY_WRITE"))
    if permission(k, attr, mask):
        _fail(path, errno.EACCES)
    if path.startswith(DEBUGFS + "/"):
        return _debugfs_file(k, path, flags)
    if path.startswith("/sys/"):
        return _sysfs_open(k, path, attr, acc)
    if path.startswith("/proc/sys/"):
        from ..kernel.sysctl import sysctl_read, sysctl_write
        rel = path[len("/proc/sys/"):]
        return FuncFile(k, path, reader=lambda: sysctl_read(k, rel),
                        writer=lambda data: sysctl_write(k, rel, data))
    if path.startswith("/proc/"):
        from .proc import proc_open
        return proc_open(k, path, flags)
    from ..drivers.base.devtmpfs import dev_open
    return dev_open(k, path, flags)


def _sysfs_open(k, path: str, attr: Attr, acc: int):
    """kernfs_fop_open(): no read (write) bit in the mode refuses the open, root's too."""
    if acc != 1 and not attr.mode & 0o444 or acc and not attr.mode & 0o222:
        _fail(path, errno.EACCES)
    if path.startswith("/sys/module/") and _param(k, path):
        return _param_file(k, path, *_param(k, path))
    if path.startswith("/sys/module/") and _module_attr(k, path):
        show = _module_attr(k, path)[1]
        return FuncFile(k, path, reader=lambda: show().encode())
    from .sysfs import Sysfs
    node = k.model(Sysfs).nodes[path[4:]]
    if node.kind == "bin" and not _bin_has(k, node, "write" if acc else "read"):
        _fail(path, errno.EACCES)
    return _sysfs_file(k, path, node, acc)


@kernel_api("read_file")
def read_file(k, path: str, chunk: int = 131072) -> bytes:
    """cat PATH: open O_RDONLY, read until a read returns 0, close."""
    if namespace.mounted(k, path):
        return namespace.read_mounted(k, path)
    f = file_open(k, path, 0)
    try:
        return f.read_all(chunk)
    finally:
        f.close()


@kernel_api("write_file")
def write_file(k, path: str, data) -> int:
    """echo DATA > PATH: open O_WRONLY|O_CREAT|O_TRUNC, one write(2), close."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    t = k.target
    f = file_open(k, path, t.const("O_WRONLY") | t.const("O_CREAT") | t.const("O_TRUNC"))
    try:
        n = f.write(data)
        while 0 < n < len(data):            # a short write: the shell writes the rest
            more = f.write(data[n:])
            if more <= 0:
                break
            n += more
        return n
    finally:
        f.close()


class DirEntry:
    """One name in a directory listing, with its mode."""

    def __init__(self, name: str, mode: int, target: str = "", stat=None):
        self.name, self.mode, self.target = name, mode, target
        self.stat = stat                  # lstat() of an entry on a mounted filesystem


@kernel_api("list_dir")
def list_dir(k, path: str, all_names: bool = False, with_stat: bool = False) -> list[DirEntry]:
    """readdir(): the names directly below ``path``, sorted as ls sorts them (C locale)."""
    t = k.target
    if namespace.mounted(k, path):
        return [DirEntry(name, mode, s.target if s else "", s) for name, s, mode in
                namespace.list_mounted(k, path, all_names, with_stat)]
    path = resolve(k, namespace.normalize(path))
    attr = _walk(k, path)
    if not stat.S_ISDIR(attr.mode):
        return [DirEntry(path.rsplit("/", 1)[-1], attr.mode)]
    if permission(k, attr, t.const("MAY_READ")):
        _fail(path, errno.EACCES)
    names: set[str] = set()
    prefix = path.rstrip("/") + "/"
    for full in _all_paths(k):
        if full.startswith(prefix) and full != path:
            names.add(full[len(prefix):].split("/")[0])
    if path == "/":
        names |= {"proc", "sys", "dev"}
    if path == "/sys/kernel":
        names.add("debug")
    out = []
    for name in sorted(names):
        a = lookup(k, prefix + name)
        if a is not None:
            out.append(DirEntry(name, a.mode))
    return out


def _all_paths(k):
    from ..drivers.base.core import Devices
    from .debugfs import debugfs_list
    from .proc import proc_list
    from .sysfs import sysfs_list
    from ..kernel.sysctl import Sysctl
    for p, *_ in proc_list(k):
        yield p
    for rel in k.model(Sysctl).files:
        yield "/proc/sys/" + rel
    for p, *_ in sysfs_list(k):
        yield p
    for p, *_ in debugfs_list(k):
        yield p
    for name in k.model(Devices).nodes:
        yield "/dev/" + name
    for d in _param_dirs(k):
        yield d
    for mod in k.modules.values():
        for kp in read_params(k, mod):
            if kp.perm:
                yield f"/sys/module/{mod.name}/parameters/{kp.name}"
        if mod.state != ModuleState.UNFORMED:
            for name in _module_attrs(k, mod):
                yield f"/sys/module/{mod.name}/{name}"
