"""fs/dcache.c, fs/namespace.c and do_dentry_open() (fs/open.c): the dentries,
mounts and superblocks behind the files a command opens.

The pseudo filesystems that hold module files are mounted where a Debian system
mounts them: procfs on /proc, sysfs on /sys, debugfs on /sys/kernel/debug and
devtmpfs on /dev, each with a ``struct super_block`` (its magic, block size,
``s_type`` and root dentry) and a ``struct vfsmount``. :func:`complete_open`
fills what do_dentry_open() leaves in a ``struct file`` and its inode before
->open runs: ``f_path`` (the mount and a dentry chain whose ``d_name`` and
``d_parent`` spell the path), ``f_inode``, ``f_mapping``, ``f_cred`` (a
reference on the opener's credentials, dropped by :func:`release_open`),
``i_sb``, ``i_mapping`` (``&inode->i_data``), ``i_ino``, ``i_uid``/``i_gid``.

Dentries of mounted filesystems (stubs/fs/namespace.py): ``d_make_root``,
``d_splice_alias``, ``d_add``, ``d_instantiate`` and ``dput`` on dentries made
by :func:`d_alloc_name` (__d_alloc(): name, parent, superblock, one
reference), with ``d_flags``' entry type from the inode (d_flags_for_inode()).

Left out: dentry reference counts, LRU and hashing into a dcache (a path's
dentry is made once and lives until its filesystem is unmounted), mount
propagation, aliases (d_splice_alias() of a directory that already has a
dentry makes a second one).
"""
from __future__ import annotations

import stat

from kemu import export
from kemu.abi.toolkit import is_err, rd, wr
from .namei import name_hash
from kemu.abi.exports import members

members("struct file", "f_path", "f_inode", "f_cred", "f_mapping")
members("struct inode", "i_uid", "i_gid", "i_sb", "i_mapping", "i_ino", "__i_nlink", "i_count",
        "i_data")
members("struct super_block", "s_dev", "s_blocksize", "s_blocksize_bits", "s_magic", "s_root",
        "s_type", "s_id", "s_flags", "s_fs_info")
# the mounts and address spaces of files opened from the command line (stubs/fs/dcache.py)
members("struct vfsmount", "mnt_root", "mnt_sb", "mnt_flags")
members("struct address_space", "host", "a_ops")
members("struct file_system_type", "name", "init_fs_context", "parameters", "mount", "kill_sb",
        "fs_supers")
members("struct dentry", "d_parent", "d_name", "d_inode", "d_iname", "d_sb", "d_flags",
        "d_fsdata")
members("struct qstr", "hash_len", "name")
members("struct path", "mnt", "dentry")
members("struct dentry", "d_lockref", "d_op")
members("struct lockref", "count")

DNAME_INLINE_LEN = 32                         # dentry.d_iname (x86_64)
MOUNTS = (                                    # longest mount point first
    ("/sys/kernel/debug", "debugfs", "DEBUGFS_MAGIC", "debugfs"),
    ("/proc", "proc", "PROC_SUPER_MAGIC", "proc"),
    ("/sys", "sysfs", "SYSFS_MAGIC", "sysfs"),
    ("/dev", "devtmpfs", "TMPFS_MAGIC", "devtmpfs"),
)
ANON_MINORS = {"proc": 22, "sysfs": 21, "debugfs": 7, "devtmpfs": 5}   # s_dev 0:N


class Mount:
    """One mounted pseudo filesystem: its superblock, vfsmount and root dentry."""

    def __init__(self, point, sb, mnt, root):
        self.point, self.sb, self.mnt, self.root = point, sb, mnt, root


class Dcache:
    """The mounts and every dentry made for a path, by (mount point, path below it)."""

    def __init__(self, k):
        self.k = k
        self.mounts: dict[str, Mount] = {}
        self.dentries: dict[tuple[str, str], int] = {}
        self.next_ino = 10000
        for point, fstype, magic, ident in MOUNTS:
            self.mounts[point] = self._mount(point, fstype, magic, ident)

    def _alloc(self, size: int) -> int:
        return self.k.machine.alloc_kdata(size, 64)

    def _mount(self, point, fstype, magic, ident) -> Mount:
        k, t = self.k, self.k.target
        fst = self._alloc(t.sizeof("file_system_type"))
        name = self._alloc(len(fstype) + 1)
        k.machine.write(name, fstype.encode() + b"\0")
        wr(k, fst, "file_system_type.name", name)
        sb = self._alloc(t.sizeof("super_block"))
        wr(k, sb, "super_block.s_magic", t.const(magic))
        wr(k, sb, "super_block.s_blocksize", 4096)
        k.machine.write_u8(sb + t.offset("super_block.s_blocksize_bits"), 12)
        wr(k, sb, "super_block.s_type", fst)
        wr(k, sb, "super_block.s_dev", ANON_MINORS[fstype], 4)
        k.machine.write(sb + t.offset("super_block.s_id"), ident.encode() + b"\0")
        root = self._dentry(b"/", 0, sb)
        wr(k, sb, "super_block.s_root", root)
        mnt = self._alloc(t.sizeof("vfsmount"))
        wr(k, mnt, "vfsmount.mnt_root", root)
        wr(k, mnt, "vfsmount.mnt_sb", sb)
        return Mount(point, sb, mnt, root)

    def _dentry(self, name: bytes, parent: int, sb: int) -> int:
        k, t = self.k, self.k.target
        d = self._alloc(t.sizeof("dentry"))
        set_name(k, d, name, parent or d)
        wr(k, d, "dentry.d_sb", sb)
        return d

    def mount_of(self, path: str) -> Mount | None:
        """The mount a path is on (the longest mount point that is a prefix)."""
        for point, *_ in MOUNTS:
            if path == point or path.startswith(point + "/"):
                return self.mounts[point]
        return None

    def dentry(self, path: str) -> int:
        """The dentry of ``path`` (made with its parents on first use); 0 off the mounts."""
        mount = self.mount_of(path)
        if mount is None:
            return 0
        parent = mount.root
        rel = ""
        for part in [p for p in path[len(mount.point):].split("/") if p]:
            rel += "/" + part
            key = (mount.point, rel)
            d = self.dentries.get(key)
            if d is None:
                d = self.dentries[key] = self._dentry(part.encode("utf-8", "surrogateescape"),
                                                      parent, mount.sb)
            parent = d
        return parent

    def ino(self) -> int:
        """get_next_ino() for an inode that has no number of its own."""
        self.next_ino += 1
        return self.next_ino


def set_name(k, dentry: int, name: bytes, parent: int) -> None:
    """d_name (inline in d_iname when short, as __d_alloc does) and d_parent."""
    t = k.target
    if len(name) < DNAME_INLINE_LEN:
        where = dentry + t.offset("dentry.d_iname")
    else:
        where = k.machine.alloc_kdata(len(name) + 1, 8)
    k.machine.write(where, name + b"\0")
    qstr = dentry + t.offset("dentry.d_name")
    k.machine.write_u64(qstr + t.offset("qstr.hash_len"),
                        (len(name) << 32) | name_hash(parent, name) & 0xFFFFFFFF)
    k.machine.write_u64(qstr + t.offset("qstr.name"), where)
    wr(k, dentry, "dentry.d_parent", parent)


def complete_open(k, file: int, inode: int, path: str, dentry: int = 0,
                  uid: int = 0, gid: int = 0) -> None:
    """What do_dentry_open() and the inode's filesystem leave in ``file`` and ``inode``.

    ``dentry``: the filesystem's own dentry for the path (debugfs has them),
    else one is made in the dcache.
    """
    from ..kernel.cred import get_cred
    from ..kernel.process import current_cred
    dc = k.model(Dcache)
    mount = dc.mount_of(path)
    if mount is not None:
        if not dentry:                       # the filesystem's own dentries keep their inode
            dentry = dc.dentry(path)
            wr(k, dentry, "dentry.d_inode", inode)
        if not rd(k, dentry, "dentry.d_sb"):
            wr(k, dentry, "dentry.d_sb", mount.sb)
        path_at = file + k.target.offset("file.f_path")
        wr(k, path_at, "path.mnt", mount.mnt)
        wr(k, path_at, "path.dentry", dentry)
        wr(k, inode, "inode.i_sb", mount.sb)
    mapping = inode + k.target.offset("inode.i_data")
    wr(k, mapping, "address_space.host", inode)
    wr(k, inode, "inode.i_mapping", mapping)
    if not rd(k, inode, "inode.i_ino"):
        wr(k, inode, "inode.i_ino", dc.ino())
    if not rd(k, inode, "inode.__i_nlink", 4):
        wr(k, inode, "inode.__i_nlink", 1, 4)
    wr(k, inode, "inode.i_count", 1, 4)
    wr(k, inode, "inode.i_uid", uid, 4)
    wr(k, inode, "inode.i_gid", gid, 4)
    wr(k, file, "file.f_inode", inode)
    wr(k, file, "file.f_mapping", mapping)
    wr(k, file, "file.f_cred", get_cred(k, current_cred(k)))


def release_open(k, file: int) -> None:
    """__fput(): put_cred(file->f_cred)."""
    from ..kernel.cred import put_cred
    cred = rd(k, file, "file.f_cred")
    if cred:
        wr(k, file, "file.f_cred", 0)
        put_cred(k, cred)


# ------------------------------------------------------------ mounted filesystems
class Dentries:
    """The dentries made for mounted filesystems, by superblock (freed at umount)."""

    def __init__(self, k):
        self.by_sb: dict[int, list[int]] = {}


def d_alloc_name(k, name: bytes, parent: int, sb: int) -> int:
    """__d_alloc(): a dentry named ``name`` below ``parent`` (itself when 0)."""
    t = k.target
    d = k.heap.alloc(t.sizeof("dentry"), kind="dentry", zero=True)
    set_name(k, d, name, parent or d)
    wr(k, d, "dentry.d_sb", sb)
    wr(k, d + t.offset("dentry.d_lockref"), "lockref.count", 1, 4)
    if sb:
        wr(k, d, "dentry.d_op", rd(k, sb, "super_block.s_d_op"))
    k.model(Dentries).by_sb.setdefault(sb, []).append(d)
    return d


def free_dentries(k, sb: int) -> None:
    """shrink_dcache_for_umount(): the superblock's dentries go."""
    for d in k.model(Dentries).by_sb.pop(sb, []):
        k.heap.free(d)


def _d_flags_for_inode(k, inode: int) -> int:
    c = k.target.const
    if not inode:
        return 0
    mode = rd(k, inode, "inode.i_mode", 2)
    if stat.S_ISDIR(mode):
        return c("DCACHE_DIRECTORY_TYPE")
    if stat.S_ISLNK(mode):
        return c("DCACHE_SYMLINK_TYPE")
    if stat.S_ISREG(mode):
        return c("DCACHE_REGULAR_TYPE")
    return c("DCACHE_SPECIAL_TYPE")


def d_set_inode(k, dentry: int, inode: int) -> None:
    """__d_instantiate(): the inode and the entry type in d_flags."""
    flags = rd(k, dentry, "dentry.d_flags", 4) & ~k.target.const("DCACHE_ENTRY_TYPE")
    wr(k, dentry, "dentry.d_flags", flags | _d_flags_for_inode(k, inode), 4)
    wr(k, dentry, "dentry.d_inode", inode)


@export("struct dentry *d_make_root(struct inode *root_inode)")
def d_make_root(k, root_inode):
    """The root dentry "/" of the inode's superblock; NULL (and iput) on failure."""
    if not root_inode:
        return 0
    d = d_alloc_name(k, b"/", 0, rd(k, root_inode, "inode.i_sb"))
    d_set_inode(k, d, root_inode)
    return d


@export("void d_instantiate(struct dentry *entry, struct inode *inode)")
def d_instantiate(k, entry, inode):
    if inode:
        d_set_inode(k, entry, inode)


@export("void d_add(struct dentry *dentry, struct inode *inode)")
def d_add(k, dentry, inode):
    d_set_inode(k, dentry, inode)


@export("struct dentry *d_splice_alias(struct inode *inode, struct dentry *dentry)")
def d_splice_alias(k, inode, dentry):
    """The lookup's result: ERR_PTR passed through, else the dentry gets the inode
    (NULL: a negative dentry) and NULL is returned (the lookup's own dentry is used)."""
    if inode and is_err(inode):
        return inode
    d_set_inode(k, dentry, inode)
    return 0


@export("void dput(struct dentry *dentry)")
def dput(k, dentry):
    if not dentry or is_err(dentry):
        return
    ref = dentry + k.target.offset("dentry.d_lockref")
    n = rd(k, ref, "lockref.count", 4)
    if n:
        wr(k, ref, "lockref.count", n - 1, 4)
