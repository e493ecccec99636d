"""fs/proc/generic.c, fs/proc/inode.c, fs/proc/proc_net.c: the /proc tree.

Entries form a real tree (name, mode, parent, proc_ops or seq_operations,
data, owning module), rooted at ``proc_root`` with what the kernel creates at
boot (``fs``, ``driver``, ``fs/nfsd``, ``tty``, ``bus``, ``sys``, the
``net -> self/net`` link) and a few files kemu renders itself
(``filesystems``, ``modules``, ``devices``, ``misc``, ``crypto``). ``/proc/net`` is
init_net's ``proc_net`` directory. Each ``struct proc_dir_entry`` a module
gets is an opaque kernel object whose address identifies the entry.

Opening an entry does what ``proc_reg_open`` does (``FMODE_LSEEK`` only with
a ``proc_lseek``); entries made by ``proc_create_seq*``/``_single*``/``_net*``
use the kernel's own open and release (``proc_seq_open``, ``seq_open_net``,
``single_open_net``...) with ``seq_read_iter`` and ``seq_lseek``. Removing an
entry runs down the files still open on it (their release is called, later
operations get -EIO), and a non-empty directory is removed with the kernel's
warning, leaking its children.

Python API::

    proc_read(k, "/proc/driver/foo") -> bytes      # open, read to EOF as cat, close
    proc_write(k, "/proc/foo", b"1\\n") -> int      # bytes written (FileError on -errno)
    proc_open(k, "/proc/foo", flags) -> OpenFile     # for partial reads, lseek, ioctl
    proc_list(k) -> [(path, kind, mode, owner module name or None), ...]
    proc_lookup(k, path) -> ProcEntry | None
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import kernel_api, members

from ..lib.kemu_warn import warn, warn_once
from ..lib.usercopy import copy_in, access_ok
from kemu.abi.toolkit import cstr, kfree, rd, s32, static, static_addr, wr
from .open import FileError, OpenFile, alloc_file, alloc_inode

members("struct proc_ops", "proc_read_iter", "proc_flags", "proc_open", "proc_read",
        "proc_write", "proc_lseek", "proc_release", "proc_poll", "proc_ioctl",
        "proc_compat_ioctl", "proc_mmap")
members("struct seq_file", "private")
members("struct file", "f_inode", "f_mode", "private_data")
members("struct net", "ns", "ns.count|count", "loopback_dev")
members("struct seq_net_private", "net")

PDE_OBJECT_SIZE = 128            # opaque to modules: only its address matters
PROC_DYNAMIC_FIRST = 0xF0000000
PAGE_SIZE = 4096


class ProcEntry:
    """One proc_dir_entry."""

    def __init__(self, name: str, mode: int, kind: str, addr: int = 0):
        self.name, self.mode, self.kind, self.addr = name, mode, kind, addr
        self.parent: ProcEntry | None = None
        self.children: dict[str, ProcEntry] = {}
        self.proc_ops = 0           # struct proc_ops * (kind "reg")
        self.seq_ops = 0            # struct seq_operations * (kinds "seq", "net_seq")
        self.single_show = 0        # show() of the single kinds
        self.state_size = 0
        self.data = 0               # pde->data (the inode's i_private)
        self.write = 0              # proc_write_t of the *_write variants
        self.owner = None           # Module that created it
        self.link = ""              # symlink target
        self.size = 0
        self.uid = self.gid = 0
        self.flags = 0
        self.ino = 0
        self.nlink = 2 if kind == "dir" else 1
        self.empty = False          # permanently empty (mount points)
        self.reader = None          # kemu-rendered file: fn(k) -> str
        self.openers: list[OpenFile] = []
        self.removed = False

    def is_dir(self) -> bool:
        return self.kind in ("dir", "netdir")

    def path(self) -> str:
        """The path under /proc ("" for the root)."""
        parts, e = [], self
        while e is not None and e.parent is not None:
            parts.append(e.name)
            e = e.parent
        if e is not None and e.kind == "netdir":
            parts.append("net")
        return "/".join(reversed(parts))

    def __repr__(self):
        return f"<ProcEntry /proc/{self.path()} {self.kind}>"


def _proc_order(name: str):
    """pde_subdir order (proc_match): shorter names first, then bytes."""
    raw = name.encode("utf-8", "surrogateescape")
    return (len(raw), raw)


class Proc:
    """Per-kernel /proc: the entry tree and the maps from kernel objects to entries."""

    def __init__(self, k):
        self.k = k
        self.by_addr: dict[int, ProcEntry] = {}
        self.by_inode: dict[int, ProcEntry] = {}
        self.net_dirs: dict[int, ProcEntry] = {}
        self.next_ino = PROC_DYNAMIC_FIRST
        t = k.target
        dirmode = t.const("S_IFDIR") | t.const("S_IRUGO") | t.const("S_IXUGO")
        self.root = self._new("/proc", dirmode, "dir", kdata=True)
        self.root.ino = 1
        self.link(self.root, "mounts", "self/mounts")
        # /proc/self/mounts (the mounts of the reader's namespace): rendered, not listed
        self.self_mounts = self._new("mounts", t.const("S_IFREG") | t.const("S_IRUGO"), "kemu")
        self.self_mounts.reader = _render_mounts
        self.link(self.root, "net", "self/net")
        for path in ("fs", "driver", "tty", "tty/ldisc", "bus", "sys"):
            parent, name = self._walk_boot(path)
            self.mkdir_in(parent, name, 0)
        nfsd = self.mkdir_in(self.root.children["fs"], "nfsd", 0)
        nfsd.empty = True
        self.mkdir_in(self.root.children["tty"], "driver", 0,
                      mode=t.const("S_IFDIR") | 0o500)
        for name, reader in (("filesystems", _render_filesystems), ("modules", _render_modules),
                             ("devices", _render_devices), ("misc", _render_misc),
                             ("crypto", _render_crypto), ("dma", _render_dma),
                             ("kallsyms", _render_kallsyms),
                             ("partitions", _render_partitions)):
            e = self._new(name, t.const("S_IFREG") | t.const("S_IRUGO"), "kemu")
            e.reader = reader
            self._insert(self.root, e)

    # ------------------------------------------------------------ building
    def _new(self, name, mode, kind, kdata=False) -> ProcEntry:
        k = self.k
        addr = (k.machine.alloc_kdata(PDE_OBJECT_SIZE, 64) if kdata else
                k.heap.alloc(PDE_OBJECT_SIZE, kind="proc_dir_entry", zero=True))
        e = ProcEntry(name, mode, kind, addr)
        self.next_ino += 1
        e.ino = self.next_ino
        self.by_addr[addr] = e
        return e

    def _walk_boot(self, path):
        parts = path.split("/")
        parent = self.root
        for p in parts[:-1]:
            parent = parent.children[p]
        return parent, parts[-1]

    def _insert(self, parent: ProcEntry, e: ProcEntry) -> bool:
        if e.name in parent.children:
            return False
        e.parent = parent
        parent.children[e.name] = e
        parent.children = dict(sorted(parent.children.items(), key=lambda kv: _proc_order(kv[0])))
        if e.is_dir():
            parent.nlink += 1
        return True

    def mkdir_in(self, parent, name, data, mode=None) -> ProcEntry:
        """A directory made by the kernel itself (boot entries, /proc/net/stat)."""
        t = self.k.target
        e = self._new(name, mode or t.const("S_IFDIR") | t.const("S_IRUGO") | t.const("S_IXUGO"),
                      "dir")
        e.data = data
        self._insert(parent, e)
        return e

    def link(self, parent, name, target) -> ProcEntry:
        t = self.k.target
        e = self._new(name, t.const("S_IFLNK") | t.const("S_IRWXUGO"), "link")
        e.link = target
        e.size = len(target)
        self._insert(parent, e)
        return e

    def net_dir(self, net: int) -> ProcEntry:
        """proc_net_ns_init(): the namespace's "net" directory (not under proc_root)."""
        e = self.net_dirs.get(net)
        if e is None:
            t = self.k.target
            e = self._new("net", t.const("S_IFDIR") | t.const("S_IRUGO") | t.const("S_IXUGO"),
                          "netdir")
            e.data = net
            self.net_dirs[net] = e
            if net == self.k.export_addr("init_net"):
                dev = self._new("dev", t.const("S_IFREG") | t.const("S_IRUGO"), "kemu")
                dev.reader = _render_net_dev
                self._insert(e, dev)
        return e

    def init_net_dir(self) -> ProcEntry:
        """init_net's /proc/net (init_net is set up on first use)."""
        net = self.k.export_addr("init_net")
        return self.net_dir(net)

    # ------------------------------------------------------------ lookups
    def entry(self, addr: int) -> ProcEntry | None:
        """The live entry whose proc_dir_entry is at ``addr``."""
        return self.by_addr.get(addr)

    def lookup(self, path: str) -> ProcEntry | None:
        """Resolve a path ("/proc/net/foo", "driver/bar"), following symlinks."""
        path = path.strip()
        if path.startswith("/proc"):
            path = path[5:]
        parts = [p for p in path.split("/") if p and p != "."]
        if parts[:2] == ["self", "net"]:
            parts = ["net"] + parts[2:]
        if parts == ["self", "mounts"]:
            return self.self_mounts
        e = self.root
        i = 0
        while i < len(parts):
            p = parts[i]
            if e is self.root and p == "net":
                e = self.init_net_dir()
            elif p == "..":
                e = e.parent or e
            else:
                e = e.children.get(p)
                if e is None:
                    return None
                if e.kind == "link":
                    target = e.link
                    rest = parts[i + 1:]
                    base = "" if target.startswith("/") else e.parent.path()
                    return self.lookup("/".join(x for x in (base, target, *rest) if x))
            i += 1
        return e

    def walk(self, e: ProcEntry | None = None):
        """Every entry below ``e`` (the root by default), depth first, in kernel order."""
        e = e or self.root
        for child in e.children.values():
            yield child
            if child.is_dir():
                yield from self.walk(child)


# ------------------------------------------------------------ kemu-rendered files
def _render_mounts(k) -> str:
    """/proc/self/mounts: the pseudo filesystems kemu models, then the mounts made with
    ``kemu mount`` (stubs/fs/namespace.py)."""
    from .namespace import proc_mounts
    return ("sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
            "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
            "devtmpfs /dev devtmpfs rw,relatime 0 0\n"
            "debugfs /sys/kernel/debug debugfs rw,relatime 0 0\n") + proc_mounts(k)


def _render_filesystems(k) -> str:
    from .filesystems import proc_filesystems
    return proc_filesystems(k)


def _render_modules(k) -> str:
    from kemu.module.procfs import proc_modules
    return proc_modules(k)


def _render_kallsyms(k) -> str:
    from ..kernel.kallsyms import proc_kallsyms
    return proc_kallsyms(k)


def _render_crypto(k) -> str:
    from ..crypto.proc import proc_crypto
    return proc_crypto(k)


def _render_devices(k) -> str:
    from ..block.genhd import proc_devices_block
    from .char_dev import proc_devices
    return proc_devices(k) + "\n" + proc_devices_block(k)


def _render_partitions(k) -> str:
    from ..block.genhd import proc_partitions
    return proc_partitions(k)


def _render_net_dev(k) -> str:
    from ..net.core.netdevice import proc_net_dev
    return proc_net_dev(k)


def _render_dma(k) -> str:
    from ..kernel.dma.isa import proc_dma
    return proc_dma(k)


def _render_misc(k) -> str:
    from ..drivers.char.misc import proc_misc
    return proc_misc(k)


# ------------------------------------------------------------ creation (generic.c)
def _warn(k, where, func, message):
    warn(k, f"fs/proc/generic.c:{where}", func, message)


def _xlate(k, proc, name: str, parent: ProcEntry, warn_missing=True):
    """__xlate_proc_name(): walk the directories in ``name``; (parent, last component)."""
    de = parent
    parts = name.split("/")
    for comp in parts[:-1]:
        nxt = de.children.get(comp)
        if nxt is None:
            if warn_missing:
                _warn(k, 156, "__xlate_proc_name+0x8d/0xa0", f"name '{name}'")
            return None, None
        de = nxt
    return de, parts[-1]


def _parent(k, proc, parent_addr) -> ProcEntry | None:
    if not parent_addr:
        return proc.root
    e = proc.entry(parent_addr)
    if e is None:
        k.finding("proc", f"proc_dir_entry parent {k.hash_pointer(parent_addr)} is not a live "
                          "/proc entry", k.current_module())
    return e


def _create(k, name_addr, mode, parent_addr, kind):
    """__proc_create(): validate the name and allocate the entry (not yet registered)."""
    proc = k.model(Proc)
    parent = _parent(k, proc, parent_addr)
    if parent is None:
        return None, None
    name = cstr(k, name_addr)
    parent, fn = _xlate(k, proc, name, parent)
    if parent is None:
        return None, None
    raw = fn.encode("utf-8", "surrogateescape")
    if not raw or len(raw) >= 256:
        _warn(k, 413, "__proc_create+0x20c/0x260", f"name len {len(raw)}")
        return None, None
    if fn in (".", ".."):
        _warn(k, 417 if fn == "." else 421, "__proc_create+0x20c/0x260", f"name '{fn}'")
        return None, None
    if parent is proc.root and fn.isdigit() and len(fn) < 10 and int(fn) < 0xFFFFFFFF and \
            (fn == "0" or not fn.startswith("0")):
        _warn(k, 425, "__proc_create+0x20c/0x260", f"create '/proc/{fn}' by hand")
        return None, None
    if parent.empty:
        _warn(k, 429, "__proc_create+0x20c/0x260", "attempt to add to permanently empty directory")
        return None, None
    e = proc._new(fn, mode, kind)
    e.owner = k.current_module()
    return parent, e


def _register(k, parent: ProcEntry, e: ProcEntry) -> int:
    """proc_register(): insert into the parent; a duplicate name warns and fails."""
    proc = k.model(Proc)
    if not proc._insert(parent, e):
        pname = "/proc" if parent is proc.root else parent.name
        _warn(k, 381, "proc_register+0x11e/0x140",
              f"proc_dir_entry '{pname}/{e.name}' already registered")
        _free(k, proc, e)
        return 0
    if e.kind != "kemu":
        k.register("proc entry", e.addr, e.owner, f"/proc/{e.path()}")
    return e.addr


def _free(k, proc, e):
    proc.by_addr.pop(e.addr, None)
    if e.kind == "link" and e.data:
        kfree(k, e.data)
    kfree(k, e.addr)


def _reg(k, name, mode, parent_addr, data, kind):
    """proc_create_reg(): a regular file's mode rules and the parent's uid/gid."""
    t = k.target
    if mode & t.const("S_IFMT") == 0:
        mode |= t.const("S_IFREG")
    if mode & t.const("S_IALLUGO") == 0:
        mode |= t.const("S_IRUGO")
    if mode & t.const("S_IFMT") != t.const("S_IFREG"):
        warn_once(k, "fs/proc/generic.c:573", "proc_create_reg+0x76/0x80")
        return None, None
    parent, e = _create(k, name, mode, parent_addr, kind)
    if e is not None:
        e.uid, e.gid = parent.uid, parent.gid
        e.data = data
    return parent, e


@export("struct proc_dir_entry *proc_create_data(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, const struct proc_ops *proc_ops, void *data)", fails="NULL")
def proc_create_data(k, name, mode, parent, proc_ops, data):
    parent, e = _reg(k, name, mode, parent, data, "reg")
    if e is None:
        return 0
    e.proc_ops = proc_ops
    if rd(k, proc_ops, "proc_ops.proc_read_iter"):
        e.flags |= 2                          # PROC_ENTRY_proc_read_iter
    return _register(k, parent, e)


@export("struct proc_dir_entry *proc_create(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, const struct proc_ops *proc_ops)", fails="NULL")
def proc_create(k, name, mode, parent, proc_ops):
    return proc_create_data(k, name, mode, parent, proc_ops, 0)


@export("struct proc_dir_entry *proc_create_seq_private(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, const struct seq_operations *ops, "
        "unsigned int state_size, void *data)", fails="NULL")
def proc_create_seq_private(k, name, mode, parent, ops, state_size, data):
    parent, e = _reg(k, name, mode, parent, data, "seq")
    if e is None:
        return 0
    e.seq_ops, e.state_size = ops, state_size
    return _register(k, parent, e)


@export("struct proc_dir_entry *proc_create_single_data(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, int (*show)(struct seq_file *, void *), void *data)", fails="NULL")
def proc_create_single_data(k, name, mode, parent, show, data):
    parent, e = _reg(k, name, mode, parent, data, "single")
    if e is None:
        return 0
    e.single_show = show
    return _register(k, parent, e)


def _net_create(k, name, mode, parent, data, kind, ops=0, show=0, write=0, state_size=0):
    parent, e = _reg(k, name, mode, parent, data, kind)
    if e is None:
        return 0
    e.seq_ops, e.single_show, e.write, e.state_size = ops, show, write, state_size
    return _register(k, parent, e)


@export("struct proc_dir_entry *proc_create_net_data(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, const struct seq_operations *ops, "
        "unsigned int state_size, void *data)", fails="NULL")
def proc_create_net_data(k, name, mode, parent, ops, state_size, data):
    return _net_create(k, name, mode, parent, data, "net_seq", ops=ops, state_size=state_size)


@export("struct proc_dir_entry *proc_create_net_data_write(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, const struct seq_operations *ops, int (*write)(struct file *, char *, size_t), "
        "unsigned int state_size, void *data)", fails="NULL")
def proc_create_net_data_write(k, name, mode, parent, ops, write, state_size, data):
    return _net_create(k, name, mode, parent, data, "net_seq", ops=ops, write=write,
                       state_size=state_size)


@export("struct proc_dir_entry *proc_create_net_single(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, int (*show)(struct seq_file *, void *), void *data)", fails="NULL")
def proc_create_net_single(k, name, mode, parent, show, data):
    return _net_create(k, name, mode, parent, data, "net_single", show=show)


@export("struct proc_dir_entry *proc_create_net_single_write(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, int (*show)(struct seq_file *, void *), "
        "int (*write)(struct file *, char *, size_t), void *data)", fails="NULL")
def proc_create_net_single_write(k, name, mode, parent, show, write, data):
    return _net_create(k, name, mode, parent, data, "net_single", show=show, write=write)


@export("struct proc_dir_entry *_proc_mkdir(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, void *data, bool force_lookup)", fails="NULL")
def _proc_mkdir(k, name, mode, parent, data, force_lookup):
    t = k.target
    if mode == 0:
        mode = t.const("S_IRUGO") | t.const("S_IXUGO")
    parent, e = _create(k, name, t.const("S_IFDIR") | mode, parent, "dir")
    if e is None:
        return 0
    e.data = data
    return _register(k, parent, e)


@export("struct proc_dir_entry *proc_mkdir_data(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent, void *data)", fails="NULL")
def proc_mkdir_data(k, name, mode, parent, data):
    return _proc_mkdir(k, name, mode, parent, data, False)


@export("struct proc_dir_entry *proc_mkdir_mode(const char *name, umode_t mode, "
        "struct proc_dir_entry *parent)", fails="NULL")
def proc_mkdir_mode(k, name, mode, parent):
    return _proc_mkdir(k, name, mode, parent, 0, False)


@export("struct proc_dir_entry *proc_mkdir(const char *name, struct proc_dir_entry *parent)", fails="NULL")
def proc_mkdir(k, name, parent):
    return _proc_mkdir(k, name, 0, parent, 0, False)


@export("struct proc_dir_entry *proc_create_mount_point(const char *name)")
def proc_create_mount_point(k, name):
    t = k.target
    parent, e = _create(k, name, t.const("S_IFDIR") | t.const("S_IRUGO") | t.const("S_IXUGO"),
                        0, "dir")
    if e is None:
        return 0
    e.empty = True
    return _register(k, parent, e)


@export("struct proc_dir_entry *proc_symlink(const char *name, struct proc_dir_entry *parent, "
        "const char *dest)")
def proc_symlink(k, name, parent, dest):
    t = k.target
    parent, e = _create(k, name, t.const("S_IFLNK") | t.const("S_IRWXUGO"), parent, "link")
    if e is None:
        return 0
    target = k.machine.read_cstr(dest)
    e.link = target.decode("utf-8", "surrogateescape")
    e.size = len(target)
    from ..mm.slab import kmalloc
    e.data = kmalloc(k, len(target) + 1, t.const("GFP_KERNEL"))
    k.machine.write(e.data, target + b"\0")
    return _register(k, parent, e)


@export("void proc_set_size(struct proc_dir_entry *de, loff_t size)")
def proc_set_size(k, de, size):
    e = k.model(Proc).entry(de)
    if e is not None:
        e.size = size


@export("void proc_set_user(struct proc_dir_entry *de, kuid_t uid, kgid_t gid)")
def proc_set_user(k, de, uid, gid):
    e = k.model(Proc).entry(de)
    if e is not None:
        e.uid, e.gid = uid, gid


@export("void *PDE_DATA(const struct inode *inode)", until="5.17")   # pde_data() is inline after
def PDE_DATA(k, inode):
    e = k.model(Proc).by_inode.get(inode)
    return e.data if e is not None else 0


@export("void *proc_get_parent_data(const struct inode *inode)")
def proc_get_parent_data(k, inode):
    e = k.model(Proc).by_inode.get(inode)
    return e.parent.data if e is not None and e.parent is not None else 0


# ------------------------------------------------------------ removal
def _rundown(k, e: ProcEntry):
    """proc_entry_rundown(): release every file still open on the entry."""
    e.removed = True
    for f in list(e.openers):
        if not f.closed and not f.dead:
            rel = f.ops.get("release")
            if rel:
                yield k.call_request(rel, f.inode, f.file)
            f.dead = True
    e.openers.clear()


def _unlink(k, proc, e):
    parent = e.parent
    if parent is not None and parent.children.get(e.name) is e:
        del parent.children[e.name]
        if e.is_dir():
            parent.nlink -= 1
    k.unregister("proc entry", e.addr)


@export("void remove_proc_entry(const char *name, struct proc_dir_entry *parent)")
def remove_proc_entry(k, name, parent):
    proc = k.model(Proc)
    base = _parent(k, proc, parent)
    text = cstr(k, name)
    if base is None:
        return
    base, fn = _xlate(k, proc, text, base)
    if base is None:
        return
    de = base.children.get(fn)
    if de is None:
        _warn(k, 708, "remove_proc_entry+0x16f/0x180", f"name '{text}'")
        return
    _unlink(k, proc, de)
    yield from _rundown(k, de)
    if de.children:
        first = next(iter(de.children.values()))
        pname = "/proc" if de.parent is proc.root else (de.parent.name if de.parent else "")
        _warn(k, 713, "remove_proc_entry+0x146/0x180",
              f"remove_proc_entry: removing non-empty directory '{pname}/{de.name}', "
              f"leaking at least '{first.name}'")
        de.children = {}                         # the children stay allocated (and registered)
    _free(k, proc, de)


def _remove_subtree(k, proc, root: ProcEntry):
    """Every entry of the subtree, deepest first, each run down and freed."""
    stack = [root]
    order = []
    while stack:
        e = stack.pop()
        order.append(e)
        stack.extend(e.children.values())
    for e in reversed(order):
        _unlink(k, proc, e)
        yield from _rundown(k, e)
        e.children.clear()
        _free(k, proc, e)


@export("int remove_proc_subtree(const char *name, struct proc_dir_entry *parent)")
def remove_proc_subtree(k, name, parent):
    proc = k.model(Proc)
    base = _parent(k, proc, parent)
    if base is None:
        return -errno.ENOENT
    base, fn = _xlate(k, proc, cstr(k, name), base)
    if base is None:
        return -errno.ENOENT
    root = base.children.get(fn)
    if root is None:
        return -errno.ENOENT
    yield from _remove_subtree(k, proc, root)
    return 0


@export("void proc_remove(struct proc_dir_entry *de)")
def proc_remove(k, de):
    if not de:
        return
    proc = k.model(Proc)
    e = proc.entry(de)
    if e is None or e.parent is None:
        return
    if e.parent.children.get(e.name) is not e:
        return
    yield from _remove_subtree(k, proc, e)


# ------------------------------------------------------------ the kernel's own proc_ops
def _pde(k, inode) -> ProcEntry:
    return k.model(Proc).by_inode[inode]


def _get_net(k, net):
    count = net + k.target.offset("net.ns.count")
    k.machine.write_u32(count, k.machine.read_u32(count) + 1)


def _put_net(k, net):
    count = net + k.target.offset("net.ns.count")
    k.machine.write_u32(count, k.machine.read_u32(count) - 1)


@static("int proc_seq_open(struct inode *inode, struct file *file)")
def proc_seq_open(k, inode, file):
    from .seq_file import open_private, seq_open_file
    de = _pde(k, inode)
    if de.state_size:
        return 0 if open_private(k, file, de.seq_ops, de.state_size) else -errno.ENOMEM
    return seq_open_file(k, file, de.seq_ops)


@static("int proc_seq_release(struct inode *inode, struct file *file)")
def proc_seq_release(k, inode, file):
    from .seq_file import release_seq, seq_release_private
    if _pde(k, inode).state_size:
        return seq_release_private(k, inode, file)
    return release_seq(k, file)


@static("int proc_single_open(struct inode *inode, struct file *file)")
def proc_single_open(k, inode, file):
    from .seq_file import single_open_file
    de = _pde(k, inode)
    return single_open_file(k, file, de.single_show, de.data)


@static("int seq_open_net(struct inode *inode, struct file *file)")
def seq_open_net(k, inode, file):
    from .seq_file import open_private
    de = _pde(k, inode)
    t = k.target
    if de.state_size < t.sizeof("seq_net_private"):
        warn_once(k, "fs/proc/proc_net.c:45", "seq_open_net+0xb5/0x100")
    if rd(k, file, "file.f_mode", 4) & t.const("FMODE_WRITE") and not de.write:
        return -errno.EACCES
    net = de.parent.data if de.parent else 0
    if not net:
        return -errno.ENXIO
    _get_net(k, net)
    p = open_private(k, file, de.seq_ops, de.state_size)
    if not p:
        _put_net(k, net)
        return -errno.ENOMEM
    wr(k, p, "seq_net_private.net", net)
    return 0


@static("int seq_release_net(struct inode *ino, struct file *f)")
def seq_release_net(k, ino, f):
    from .seq_file import seq_release_private
    seq = rd(k, f, "file.private_data")
    _put_net(k, rd(k, rd(k, seq, "seq_file.private"), "seq_net_private.net"))
    return seq_release_private(k, ino, f)


@static("int single_open_net(struct inode *inode, struct file *file)")
def single_open_net(k, inode, file):
    from .seq_file import single_open_file
    de = _pde(k, inode)
    net = de.parent.data if de.parent else 0
    if not net:
        return -errno.ENXIO
    _get_net(k, net)
    err = single_open_file(k, file, de.single_show, net)
    if err:
        _put_net(k, net)
    return err


@static("int single_release_net(struct inode *ino, struct file *f)")
def single_release_net(k, ino, f):
    from .seq_file import single_release_file
    seq = rd(k, f, "file.private_data")
    _put_net(k, rd(k, seq, "seq_file.private"))
    return single_release_file(k, f)


@static("ssize_t proc_simple_write(struct file *f, const char __user *ubuf, size_t size, "
        "loff_t *_pos)")
def proc_simple_write(k, f, ubuf, size, _pos):
    from ..mm.slab import kfree_addr, kmalloc
    de = _pde(k, rd(k, f, "file.f_inode"))
    if not de.write:
        return -errno.EACCES
    if size == 0 or size > PAGE_SIZE - 1:
        return -errno.EINVAL
    if not access_ok(ubuf, size):             # memdup_user_nul()
        return -errno.EFAULT
    data = copy_in(k, ubuf, size)
    if len(data) != size:
        return -errno.EFAULT
    buf = kmalloc(k, size + 1, k.target.const("GFP_KERNEL"))
    k.machine.write(buf, data + b"\0")
    ret = s32((yield k.call_request(de.write, f, buf, size)))
    kfree_addr(k, buf)
    return size if ret == 0 else ret


_KERNEL_OPS = {
    "seq": ("proc_seq_open", None, "proc_seq_release"),
    "single": ("proc_single_open", None, "single_release"),
    "net_seq": ("seq_open_net", "proc_simple_write", "seq_release_net"),
    "net_single": ("single_open_net", "proc_simple_write", "single_release_net"),
}


def _ops_of(k, e: ProcEntry) -> dict:
    """The operations of an entry, named as OpenFile knows them."""
    if e.kind == "reg":
        from .open import PROC_MEMBERS
        ops = {name: rd(k, e.proc_ops, f"proc_ops.{member}")
               for name, member in PROC_MEMBERS.items()}
        if ops["read_iter"]:
            ops["read"] = 0                    # proc_iter_file_ops has no .read
        else:
            ops["read_iter"] = 0
        return ops
    open_, write, release = _KERNEL_OPS[e.kind]

    def fn(name):
        return k.export_addr(name) if name in ("single_release",) else static_addr(k, name)
    return {"open": fn(open_), "read_iter": k.export_addr("seq_read_iter"),
            "write": static_addr(k, write) if write else 0,
            "llseek": k.export_addr("seq_lseek"), "release": fn(release)}


# ------------------------------------------------------------ Python API
def proc_lookup(k, path: str) -> ProcEntry | None:
    """The entry at ``path`` ("/proc/..." or relative to /proc), or None."""
    return k.model(Proc).lookup(path)


class _KemuFile:
    """An open kemu-rendered file (read-only, rendered at open like single_open)."""

    def __init__(self, text: bytes, path: str):
        self.text, self.path, self.pos, self.closed = text, path, 0, False

    def read(self, count=131072):
        data = self.text[self.pos:self.pos + count]
        self.pos += len(data)
        return data

    def read_all(self, chunk=131072, limit=1 << 24):
        data = self.text[self.pos:self.pos + limit]
        self.pos += len(data)
        return data

    def write(self, data):
        raise FileError(f"{self.path}: write: Input/output error", errno.EIO)

    def close(self):
        self.closed = True
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@kernel_api("proc_open")
def proc_open(k, path: str, flags: int = 0):
    """open(2) of a /proc file: an OpenFile (FileError for a missing entry or a failed open)."""
    proc = k.model(Proc)
    e = proc.lookup(path)
    shown = "/proc/" + path[len("/proc/"):] if path.startswith("/proc/") else path
    if e is None:
        raise FileError(f"{shown}: No such file or directory", errno.ENOENT)
    if e.is_dir():
        if flags & k.target.const("O_ACCMODE"):
            raise FileError(f"{shown}: Is a directory", errno.EISDIR)
        raise FileError(f"{shown}: Is a directory", errno.EISDIR)
    if e.kind == "kemu":
        if flags & k.target.const("O_ACCMODE"):
            raise FileError(f"{shown}: Permission denied", errno.EACCES)
        return _KemuFile(e.reader(k).encode(), shown)
    t = k.target
    inode = alloc_inode(k, e.mode, private=e.data, ino=e.ino, size=e.size)
    file = alloc_file(k, inode, 0, flags, path=shown, uid=e.uid, gid=e.gid)
    proc.by_inode[inode] = e
    ops = _ops_of(k, e)
    f = OpenFile(k, shown, inode, file, ops, "proc", e.owner,
                 on_close=lambda of: _closed(proc, e, of))
    if not ops.get("llseek"):                  # proc_reg_open
        wr(k, file, "file.f_mode", f.fmode() & ~t.const("FMODE_LSEEK"), 4)
    ret = f.do_open()
    if ret:
        f.ops["release"] = 0
        f.close()
        raise FileError(f"{shown}: open: {os_strerror(ret)}", -ret)
    if ops.get("release"):
        e.openers.append(f)
    return f


def os_strerror(err):
    from kemu.errors import strerror
    return strerror(err)


def _closed(proc, e, f):
    if f in e.openers:
        e.openers.remove(f)
    proc.by_inode.pop(f.inode, None)


@kernel_api("proc_read")
def proc_read(k, path: str, chunk: int = 131072) -> bytes:
    """cat /proc/PATH: open, read until EOF (``chunk`` bytes a read), close."""
    f = proc_open(k, path, 0)
    try:
        return f.read_all(chunk)
    finally:
        f.close()


@kernel_api("proc_write")
def proc_write(k, path: str, data: bytes) -> int:
    """echo > /proc/PATH: open O_WRONLY, one write(2) of ``data``, close; bytes written."""
    if isinstance(data, str):
        data = data.encode()
    f = proc_open(k, path, k.target.const("O_WRONLY"))
    try:
        return f.write(data)
    finally:
        f.close()


def proc_list(k) -> list:
    """(path, kind, mode, owner module name or None) of every entry, /proc/net included."""
    proc = k.model(Proc)
    out = []
    for e in proc.walk():
        out.append(("/proc/" + e.path(), e.kind, e.mode, e.owner.name if e.owner else None))
    net = proc.init_net_dir()
    for e in proc.walk(net):
        out.append(("/proc/" + e.path(), e.kind, e.mode, e.owner.name if e.owner else None))
    return out
