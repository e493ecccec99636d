"""fs/debugfs (inode.c, file.c): a minimal debugfs.

Every file and directory is a real ``struct dentry`` with its ``d_inode``
(``i_private`` = the data pointer, ``i_fop`` = the module's fops), its name in
``d_iname``/``d_name`` and ``d_parent``. Duplicate names fail -EEXIST with the
kernel's message; an ERR_PTR parent is passed through; ``debugfs_remove`` is
recursive; ``debugfs_lookup`` returns a referenced dentry.

The value files (``debugfs_create_u8`` ... ``_bool``, ``_blob``, ``_atomic_t``,
``_size_t``, ``_ulong``) are rendered as the kernel's fops do ("%llu\\n",
"0x%08llx\\n", "Y\\n"...), reading the variable in kernel memory.

Python API::

    debugfs_list(k) -> [(path, kind, owner module name or None), ...]
    debugfs_read(k, "/sys/kernel/debug/dir/file") -> bytes
    debugfs_write(k, path, data) -> int
    debugfs_open(k, path, flags) -> OpenFile        (module fops files)
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from ..lib.kstrtox import kstrtobool, kstrtoull
from kemu.abi.toolkit import cstr, err_ptr, is_err, kfree, rd, static, static_addr, wr

members("struct file", "f_path", "f_inode")
members("struct inode", "i_mode", "i_size", "i_fop", "i_private")
members("struct dentry", "d_parent", "d_name", "d_inode", "d_iname")
members("struct debugfs_blob_wrapper", "data", "size")
members("struct qstr", "hash_len", "name")
members("struct path", "dentry")

ROOT = "/sys/kernel/debug"


class DEntry:
    __slots__ = ("addr", "inode", "name", "parent", "kind", "children", "fops", "data", "owner",
                 "target", "refs")

    def __init__(self, addr, inode, name, parent, kind):
        self.addr, self.inode, self.name, self.parent, self.kind = addr, inode, name, parent, kind
        self.children: dict[str, DEntry] = {}
        self.fops = self.data = 0
        self.owner = None
        self.target = ""
        self.refs = 1

    def path(self) -> str:
        parts, e = [], self
        while e is not None and e.parent is not None:
            parts.append(e.name)
            e = e.parent
        return ROOT + "".join("/" + p for p in reversed(parts))


class DebugFS:
    """Per-kernel debugfs: the root dentry and every dentry by address."""

    def __init__(self, k):
        self.k = k
        self.by_addr: dict[int, DEntry] = {}
        self.root = self._dentry("/", None, "dir", k.target.const("S_IFDIR") | 0o700)

    def _dentry(self, name, parent, kind, mode, size=0) -> DEntry:
        k, t = self.k, self.k.target
        addr = k.heap.alloc(t.sizeof("dentry"), kind="dentry", zero=True)
        inode = k.heap.alloc(t.sizeof("inode"), kind="inode", zero=True)
        wr(k, inode, "inode.i_mode", mode, 2)
        wr(k, inode, "inode.i_size", size)
        wr(k, addr, "dentry.d_inode", inode)
        raw = name.encode("utf-8", "surrogateescape")[:31]
        k.machine.write(addr + t.offset("dentry.d_iname"), raw + b"\0")
        qstr = addr + t.offset("dentry.d_name")
        k.machine.write_u64(qstr + t.offset("qstr.hash_len"), len(raw) << 32)
        k.machine.write_u64(qstr + t.offset("qstr.name"), addr + t.offset("dentry.d_iname"))
        wr(k, addr, "dentry.d_parent", parent.addr if parent else addr)
        e = DEntry(addr, inode, name, parent, kind)
        self.by_addr[addr] = e
        return e

    def free(self, e: DEntry) -> None:
        self.by_addr.pop(e.addr, None)
        kfree(self.k, e.inode)
        kfree(self.k, e.addr)


def _start(k, name_addr, parent_addr):
    """start_creating(): (parent DEntry, name) or an ERR_PTR."""
    fs = k.model(DebugFS)
    if is_err(parent_addr):
        return parent_addr
    parent = fs.root if not parent_addr else fs.by_addr.get(parent_addr)
    name = cstr(k, name_addr, 256)
    if parent is None:
        k.finding("debugfs", f"debugfs parent {k.hash_pointer(parent_addr)} is not a live "
                             "debugfs dentry", k.current_module())
        return err_ptr(-errno.ENOENT)
    if parent.kind != "dir":
        return err_ptr(-errno.ENOENT)
    old = parent.children.get(name)
    if old is not None:
        pname = parent.name
        if old.kind == "dir":
            k.log.emit(KERN_ERR, f"debugfs: Directory '{name}' with parent '{pname}' already present!")
        else:
            k.log.emit(KERN_ERR, f"debugfs: File '{name}' in directory '{pname}' already present!")
        return err_ptr(-errno.EEXIST)
    return parent, name


def _create(k, name, mode, parent, kind, data=0, fops=0, size=0):
    """__debugfs_create_file() and friends: the dentry address or an ERR_PTR."""
    t = k.target
    got = _start(k, name, parent)
    if isinstance(got, int):
        return got
    pdent, text = got
    if kind == "dir":
        mode = t.const("S_IFDIR") | t.const("S_IRWXUGO") & 0o755
    elif kind == "link":
        mode = t.const("S_IFLNK") | t.const("S_IRWXUGO")
    elif not mode & t.const("S_IFMT"):
        mode |= t.const("S_IFREG")
    fs = k.model(DebugFS)
    e = fs._dentry(text, pdent, kind, mode, size)
    e.data, e.fops = data, fops
    e.owner = k.current_module()
    wr(k, e.inode, "inode.i_private", data)
    wr(k, e.inode, "inode.i_fop", fops)
    pdent.children[text] = e
    k.register("debugfs", e.addr, e.owner, f"debugfs {kind} {e.path()}")
    return e.addr


@export("struct dentry *debugfs_create_dir(const char *name, struct dentry *parent)")
def debugfs_create_dir(k, name, parent):
    return _create(k, name, 0, parent, "dir")


@export("struct dentry *debugfs_create_file(const char *name, umode_t mode, struct dentry *parent, "
        "void *data, const struct file_operations *fops)")
def debugfs_create_file(k, name, mode, parent, data, fops):
    return _create(k, name, mode, parent, "file", data, fops)


@export("struct dentry *debugfs_create_file_unsafe(const char *name, umode_t mode, "
        "struct dentry *parent, void *data, const struct file_operations *fops)")
def debugfs_create_file_unsafe(k, name, mode, parent, data, fops):
    return _create(k, name, mode, parent, "file", data, fops)


@export("void debugfs_create_file_size(const char *name, umode_t mode, struct dentry *parent, "
        "void *data, const struct file_operations *fops, loff_t file_size)")
def debugfs_create_file_size(k, name, mode, parent, data, fops, file_size):
    _create(k, name, mode, parent, "file", data, fops, size=file_size)


@export("struct dentry *debugfs_create_symlink(const char *name, struct dentry *parent, "
        "const char *target)")
def debugfs_create_symlink(k, name, parent, target):
    addr = _create(k, name, 0, parent, "link")
    if not is_err(addr):
        k.model(DebugFS).by_addr[addr].target = cstr(k, target, 4096)
    return addr


_VALUE_KINDS = {"u8": (1, "%llu"), "u16": (2, "%llu"), "u32": (4, "%llu"), "u64": (8, "%llu"),
                "x8": (1, "0x%02llx"), "x16": (2, "0x%04llx"), "x32": (4, "0x%08llx"),
                "x64": (8, "0x%016llx"), "ulong": (8, "%llu"), "size_t": (8, "%llu"),
                "atomic_t": (4, "%d")}


def _make_value(kind):
    ctype = {"atomic_t": "atomic_t", "size_t": "size_t", "ulong": "unsigned long",
             "x8": "u8", "x16": "u16", "x32": "u32", "x64": "u64"}.get(kind, kind)

    @export(f"void debugfs_create_{kind}(const char *name, umode_t mode, struct dentry *parent, "
            f"{ctype} *value)")
    def create(k, name, mode, parent, value):
        _create(k, name, mode, parent, kind, value)


for _kind in _VALUE_KINDS:
    _make_value(_kind)


@export("void debugfs_create_bool(const char *name, umode_t mode, struct dentry *parent, "
        "bool *value)")
def debugfs_create_bool(k, name, mode, parent, value):
    _create(k, name, mode, parent, "bool", value)


@export("struct dentry *debugfs_create_blob(const char *name, umode_t mode, struct dentry *parent, "
        "struct debugfs_blob_wrapper *blob)")
def debugfs_create_blob(k, name, mode, parent, blob):
    return _create(k, name, mode, parent, "blob", blob)


@export("void debugfs_create_devm_seqfile(struct device *dev, const char *name, "
        "struct dentry *parent, int (*read_fn)(struct seq_file *s, void *data))")
def debugfs_create_devm_seqfile(k, dev, name, parent, read_fn):
    if is_err(parent):
        return
    addr = _create(k, name, 0o444, parent, "devm_seqfile", dev)
    if not is_err(addr):
        k.model(DebugFS).by_addr[addr].fops = read_fn


def _remove(k, e: DEntry):
    fs = k.model(DebugFS)
    for child in list(e.children.values()):
        _remove(k, child)
    if e.parent is not None and e.parent.children.get(e.name) is e:
        del e.parent.children[e.name]
    k.unregister("debugfs", e.addr)
    fs.free(e)


@export("void debugfs_remove(struct dentry *dentry)")
def debugfs_remove(k, dentry):
    if not dentry or is_err(dentry):
        return
    e = k.model(DebugFS).by_addr.get(dentry)
    if e is None or e.parent is None:
        return
    _remove(k, e)


@export("struct dentry *debugfs_lookup(const char *name, struct dentry *parent)")
def debugfs_lookup(k, name, parent):
    fs = k.model(DebugFS)
    if not name or is_err(parent):
        return 0
    pdent = fs.root if not parent else fs.by_addr.get(parent)
    e = pdent.children.get(cstr(k, name, 256)) if pdent else None
    if e is None:
        return 0
    e.refs += 1
    return e.addr


@export("void debugfs_lookup_and_remove(const char *name, struct dentry *parent)")
def debugfs_lookup_and_remove(k, name, parent):
    d = debugfs_lookup(k, name, parent)
    if d:
        debugfs_remove(k, d)


@export("struct dentry *debugfs_rename(struct dentry *old_dir, struct dentry *old_dentry, "
        "struct dentry *new_dir, const char *new_name)")
def debugfs_rename(k, old_dir, old_dentry, new_dir, new_name):
    fs = k.model(DebugFS)
    e = fs.by_addr.get(old_dentry)
    nd = fs.root if not new_dir else fs.by_addr.get(new_dir)
    name = cstr(k, new_name, 256)
    if e is None or nd is None:
        return err_ptr(-errno.ENOENT)
    if name in nd.children:
        return err_ptr(-errno.EEXIST)
    del e.parent.children[e.name]
    e.name, e.parent = name, nd
    nd.children[name] = e
    t = k.target
    raw = name.encode("utf-8", "surrogateescape")[:31]
    k.machine.write(e.addr + t.offset("dentry.d_iname"), raw + b"\0")
    return old_dentry


@export("int debugfs_file_get(struct dentry *dentry)")
def debugfs_file_get(k, dentry):
    return 0 if dentry in k.model(DebugFS).by_addr else -errno.EIO


@export("void debugfs_file_put(struct dentry *dentry)")
def debugfs_file_put(k, dentry):
    pass


@export("bool debugfs_initialized(void)")
def debugfs_initialized(k):
    return True


@export("const struct file_operations *debugfs_real_fops(const struct file *filp)")
def debugfs_real_fops(k, filp):
    dentry = rd(k, filp + k.target.offset("file.f_path"), "path.dentry")
    e = k.model(DebugFS).by_addr.get(dentry)
    return e.fops if e is not None else 0


@export("ssize_t debugfs_attr_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)")
def debugfs_attr_read(k, file, buf, length, ppos):
    from .libfs import attr_read
    return (yield from attr_read(k, file, buf, length, ppos))


@export("ssize_t debugfs_attr_write(struct file *file, const char __user *buf, size_t len, "
        "loff_t *ppos)")
def debugfs_attr_write(k, file, buf, length, ppos):
    from .libfs import attr_write
    return (yield from attr_write(k, file, buf, length, ppos, False))


@export("ssize_t debugfs_attr_write_signed(struct file *file, const char __user *buf, size_t len, "
        "loff_t *ppos)")
def debugfs_attr_write_signed(k, file, buf, length, ppos):
    from .libfs import attr_write
    return (yield from attr_write(k, file, buf, length, ppos, True))


def _bool_text(k, value_addr) -> bytes:
    return b"Y\n" if k.machine.read_u8(value_addr) else b"N\n"


@export("ssize_t debugfs_read_file_bool(struct file *file, char __user *user_buf, size_t count, "
        "loff_t *ppos)")
def debugfs_read_file_bool(k, file, user_buf, count, ppos):
    from .libfs import read_from_buffer
    value = rd(k, rd(k, file, "file.f_inode"), "inode.i_private")
    return read_from_buffer(k, user_buf, count, ppos, _bool_text(k, value))


@export("ssize_t debugfs_write_file_bool(struct file *file, const char __user *user_buf, "
        "size_t count, loff_t *ppos)")
def debugfs_write_file_bool(k, file, user_buf, count, ppos):
    from ..lib.usercopy import copy_in
    value = rd(k, rd(k, file, "file.f_inode"), "inode.i_private")
    err, val = kstrtobool(copy_in(k, user_buf, min(count, 31)))
    if err:
        return err
    k.machine.write_u8(value, int(val))
    return count


# ------------------------------------------------------------ Python API
def _lookup(k, path: str) -> DEntry | None:
    fs = k.model(DebugFS)
    if path.startswith(ROOT):
        path = path[len(ROOT):]
    e = fs.root
    for part in [p for p in path.split("/") if p]:
        e = e.children.get(part) if e is not None else None
    return e


def debugfs_list(k) -> list:
    """(path, kind, owner module name or None) of every dentry below the root."""
    out = []

    def walk(e):
        for c in e.children.values():
            out.append((c.path(), c.kind, c.owner.name if c.owner else None))
            walk(c)
    walk(k.model(DebugFS).root)
    return out


def debugfs_open(k, path: str, flags: int = 0):
    """open(2) of a module-fops debugfs file (full_proxy_open: fops_get, ->open)."""
    from .open import FileError, open_file
    e = _lookup(k, path)
    if e is None:
        raise FileError(f"{path}: No such file or directory", errno.ENOENT)
    if e.kind != "file":
        raise FileError(f"{path}: not a module file", errno.EINVAL)
    mode = rd(k, e.inode, "inode.i_mode", 2)
    return open_file(k, e.fops, mode, flags=flags, private_inode=e.data, path=e.path(),
                     dentry=e.addr, inode=e.inode)


def debugfs_read(k, path: str) -> bytes:
    """Read a debugfs file to its end (value files rendered as the kernel's fops do)."""
    from .open import FileError
    e = _lookup(k, path)
    if e is None:
        raise FileError(f"{path}: No such file or directory", errno.ENOENT)
    m = k.machine
    if e.kind in _VALUE_KINDS:
        size, fmt = _VALUE_KINDS[e.kind]
        v = int.from_bytes(m.read(e.data, size), "little")
        if e.kind == "atomic_t" and v >> 31:
            v -= 1 << 32
        return (fmt.replace("ll", "") % v).encode() + b"\n"
    if e.kind == "bool":
        return _bool_text(k, e.data)
    if e.kind == "blob":
        d, n = rd(k, e.data, "debugfs_blob_wrapper.data"), rd(k, e.data, "debugfs_blob_wrapper.size")
        return m.read(d, n) if n else b""
    if e.kind == "devm_seqfile":
        return _devm_read(k, e)
    if e.kind == "file":
        f = debugfs_open(k, path, 0)
        try:
            return f.read_all()
        finally:
            f.close()
    raise FileError(f"{path}: Is a directory", errno.EISDIR)


def debugfs_write(k, path: str, data: bytes) -> int:
    """Write a debugfs file (value files parsed as the kernel's set callbacks do)."""
    from .open import FileError
    e = _lookup(k, path)
    if e is None:
        raise FileError(f"{path}: No such file or directory", errno.ENOENT)
    if e.kind in _VALUE_KINDS or e.kind == "bool":
        if not rd(k, e.inode, "inode.i_mode", 2) & 0o222:    # the _ro fops: attr->set NULL
            raise FileError(f"{path}: write: Permission denied", errno.EACCES)
    if e.kind in _VALUE_KINDS:
        size, _fmt = _VALUE_KINDS[e.kind]
        err, val = kstrtoull(data[:23], 0)
        if err:
            raise FileError(f"{path}: write: Invalid argument", -err)
        k.machine.write(e.data, (val & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
        return len(data)
    if e.kind == "bool":
        err, val = kstrtobool(data[:31])
        if err:
            raise FileError(f"{path}: write: Invalid argument", -err)
        k.machine.write_u8(e.data, int(val))
        return len(data)
    if e.kind == "file":
        f = debugfs_open(k, path, k.target.const("O_WRONLY"))
        try:
            return f.write(data)
        finally:
            f.close()
    raise FileError(f"{path}: write: Invalid argument", errno.EINVAL)   # fops_blob: no .write


@static("int debugfs_devm_entry_open(struct inode *inode, struct file *f)")
def debugfs_devm_entry_open(k, inode, f):
    from .seq_file import single_open_file
    e = k.model(DebugFS).by_addr[rd(k, inode, "inode.i_private")]
    return single_open_file(k, f, e.fops, e.data)


def _devm_read(k, e):
    from .open import OpenFile, alloc_file, alloc_inode
    inode = alloc_inode(k, rd(k, e.inode, "inode.i_mode", 2), private=e.addr)
    file = alloc_file(k, inode, 0, 0, path=e.path(), dentry=e.addr)
    ops = {"open": static_addr(k, "debugfs_devm_entry_open"), "read": k.export_addr("seq_read"),
           "llseek": k.export_addr("seq_lseek"), "release": k.export_addr("single_release")}
    f = OpenFile(k, e.path(), inode, file, ops, "fops", e.owner)
    ret = f.do_open()
    if ret:
        f.ops["release"] = 0
        f.close()
        from .open import FileError
        raise FileError(f"{e.path()}: open failed", -ret)
    try:
        return f.read_all()
    finally:
        f.close()
