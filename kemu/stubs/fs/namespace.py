"""fs/namespace.c, fs/namei.c, fs/readdir.c and fs/stat.c for mounted filesystems.

``kemu attach IMAGE`` binds an image to the next /dev/loopN
(stubs/drivers/block/loop.py, with the loop driver's "detected capacity
change" message). ``kemu mount`` is do_new_mount(): get_fs_type() (a type not
registered is asked of modprobe as "fs-TYPE", as the kernel's
request_module() does, from the session's module tree; -ENODEV if none
has it; the type's module is held until umount, so rmmod is refused), fs_context_for_mount() and the context's ``get_tree``
with the options parsed as generic_parse_monolithic() does, or a legacy
type's ``mount(type, flags, source, data)`` with the option string as data;
then SB_BORN, a ``struct vfsmount`` and the mount on its mount point.
``kemu umount`` drops the mount: deactivate_locked_super() runs the type's
``kill_sb``, the type's module reference goes, an image attached by the mount
is detached (autoclear, as ``mount -o loop`` sets it). A source that is an
image file is attached first, as ``mount -o loop`` does. Mounts are flagged
MS_SILENT, as busybox's mount (the oracle's) passes it.

Paths below a mount point are walked as link_path_walk() does: each
component looked up in a cache of the mount's dentries, else with the
directory's ``i_op->lookup`` on a new dentry (a negative result is ENOENT, a
non-directory on the way ENOTDIR); symlinks are followed (``i_link``, else
page_get_link(): page 0 of the link's page cache), 40 at most.
``list_dir`` is iterate_dir(): a ``struct file`` of the directory and
``f_op->iterate_shared`` (or ``iterate``) with a ``dir_context`` whose actor
is filldir64() (kemu's own, collecting each name, inode number and type)
until a pass adds nothing. ``stat`` is vfs_getattr(): ``i_op->getattr`` or
``generic_fillattr`` into a ``struct kstat``. Files are opened with the
inode's ``i_fop`` (``open``, ``read_iter`` through the page cache...).

Writes: open(O_CREAT) of a missing name is the directory's ``i_op->create``
on the negative dentry (lookup_open()), O_TRUNC of a non-empty file
``i_op->setattr`` with ATTR_SIZE 0 (do_truncate()), and the file's
``write_iter`` (generic_file_write_iter() through ``write_begin``/``write_end``);
``mkdir``, ``unlink`` and ``rmdir`` are the directory's ``i_op`` of the same
name (vfs_mkdir()/vfs_unlink()/vfs_rmdir(): EEXIST, ENOENT, ENOTDIR, EISDIR
and EROFS as those say), and the victim's dentry goes with its inode
reference (d_delete()). ``sync`` is sync_filesystem() on every mount: dirty
pages through ``writepage``, dirty inodes through ``write_inode``, then the
device's dirty buffers.

Left out: mount propagation and bind mounts, mounting over a mount point that
is in use (-EBUSY here; Linux stacks a second filesystem), the permission
checks of the walk (kemu's processes are root), atime updates, rename,
symlink and link creation.
"""
from __future__ import annotations

import errno
import os
import stat as st

from kemu import export
from kemu.abi.exports import kernel_api, members
from kemu.abi.toolkit import (cstr, is_err, kfree, ptr_err, rd, s32, s64, static, static_addr,
                              wr)
from kemu.errors import KemuError, strerror
from kemu.kernel.log import KERN_INFO

from ..drivers.block.loop import LoopDevices
from ..kernel.cred import get_cred
from ..kernel.kmod import request_module
from ..kernel.process import current_cred
from ..mm.filemap import page_cache, read_page
from ..mm.page_alloc import pages
from .dcache import d_alloc_name, release_open
from .filesystems import FileSystems, get_fs_type, put_filesystem
from .fs_context import alloc_fs_context, fc_op, parse_options, put_fs_context
from .open import FileError, OpenFile, fops_table, open_fmode
from .inode import current_time, iput_gen
from .super import deactivate_locked_super_gen, sync_filesystem_gen

members("struct vfsmount", "mnt_root", "mnt_sb", "mnt_flags")
members("struct dir_context", "actor", "pos")
members("struct file", "f_op", "f_inode", "f_mapping", "f_path", "f_flags", "f_mode", "f_count",
        "f_cred", "f_pos", "f_version")
members("struct file_operations", "iterate", "iterate_shared", "open", "release", "read_iter")
members("struct inode", "i_link", "i_op", "i_fop", "i_atime", "i_mtime", "i_ctime", "i_blocks",
        "i_blkbits", "i_rdev", "i_size")
members("struct inode_operations", "lookup", "get_link", "getattr")
members("struct kstat", "result_mask", "mode", "nlink", "blksize", "ino", "dev", "rdev", "uid",
        "gid", "size", "atime", "mtime", "ctime", "blocks")
members("struct timespec64", "tv_sec", "tv_nsec")
members("struct inode_operations", "create", "mkdir", "unlink", "rmdir", "setattr")
members("struct iattr", "ia_valid", "ia_mode", "ia_uid", "ia_gid", "ia_size", "ia_atime",
        "ia_mtime", "ia_ctime")

MAXSYMLINKS = 40
PSEUDO = ("/proc", "/sys", "/dev")
MS_FLAGS = {"ro": "SB_RDONLY", "nosuid": "SB_NOSUID", "nodev": "SB_NODEV", "noexec": "SB_NOEXEC",
            "sync": "SB_SYNCHRONOUS", "dirsync": "SB_DIRSYNC", "noatime": "SB_NOATIME",
            "nodiratime": "SB_NODIRATIME", "mand": "SB_MANDLOCK", "lazytime": "SB_LAZYTIME"}
USER_ONLY = ("loop", "rw", "defaults", "auto", "noauto", "user", "nouser", "relatime", "atime",
             "diratime", "suid", "dev", "exec", "async", "nomand")
STATX_BASIC_STATS = 0x7FF


class MountError(KemuError):
    """A mount or umount refused (errno and the message the shell shows)."""


class Mount:
    """One mounted filesystem: the struct vfsmount, its superblock and root dentry."""

    def __init__(self, point, source, fstype, fs_type, sb, root, mnt, flags, options, loop=None):
        self.point, self.source, self.fstype, self.fs_type = point, source, fstype, fs_type
        self.sb, self.root, self.mnt, self.flags, self.options = sb, root, mnt, flags, options
        self.loop = loop                     # the loop device the mount attached, if it did
        self.dentries: dict[str, int] = {"": root}
        self.open_files = 0                  # files open on it: umount is -EBUSY


class Namespace:
    """The mounts of the initial mount namespace, in mount order."""

    def __init__(self, k):
        self.k = k
        self.mounts: list[Mount] = []

    def at(self, point: str) -> Mount | None:
        for m in reversed(self.mounts):
            if m.point == point:
                return m
        return None

    def mount_of(self, path: str):
        """(mount, path below it) for the innermost mount holding ``path``, or None."""
        best = None
        for m in self.mounts:
            if path == m.point or path.startswith(m.point.rstrip("/") + "/"):
                if best is None or len(m.point) > len(best.point):
                    best = m
        if best is None:
            return None
        return best, path[len(best.point):].strip("/")


def normalize(path: str) -> str:
    if not path.startswith("/"):
        raise FileError(f"{path}: {strerror(errno.ENOENT)}", errno.ENOENT)
    parts: list[str] = []
    for p in path.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if parts:
                parts.pop()
            continue
        parts.append(p)
    return "/" + "/".join(parts)


def drive(k, gen, entry: str, module=None):
    """Run a model generator from the command line, its calls into module code by k.call."""
    value = None
    while True:
        try:
            req = gen.send(value)
        except StopIteration as stop:
            return stop.value
        value = k.call(req.fn_addr, *req.args, entry=entry,
                       module=module if module is not None else k.module_containing(req.fn_addr))


def _fail(path: str, err: int, what: str = ""):
    err = abs(err)
    raise FileError(f"{path}: {what + ': ' if what else ''}{strerror(err)}", err)


# ------------------------------------------------------------------ attach
@kernel_api("attach")
def attach(k, image: str, read_only: bool = False):
    """losetup -f IMAGE: the LoopDevice (loop_set_size()'s capacity message)."""
    dev = k.model(LoopDevices).attach(image, read_only)
    k.log.emit(KERN_INFO, f"{dev.name}: detected capacity change from 0 to {dev.sectors}")
    return dev


@kernel_api("detach")
def detach(k, devpath: str) -> None:
    loops = k.model(LoopDevices)
    dev = loops.by_path(devpath)
    if dev is None:
        raise MountError(f"{devpath}: {strerror(errno.ENXIO)}", errno.ENXIO)
    loops.detach(dev.number)


# ------------------------------------------------------------------ mount
def parse_mount_options(k, options: str) -> tuple[int, list[str], bool]:
    """mount(8)'s split of -o: (MS_* flags, the filesystem's options, loop asked)."""
    flags, rest, loop = 0, [], False
    for opt in [o for o in (options or "").split(",") if o]:
        if opt in MS_FLAGS:
            flags |= k.target.const(MS_FLAGS[opt])
        elif opt == "rw":
            flags &= ~k.target.const("SB_RDONLY")
        elif opt == "loop":
            loop = True
        elif opt in USER_ONLY:
            continue
        else:
            rest.append(opt)
    return flags, rest, loop


def _module_of(k, fs_type: int):
    return k.module_at(rd(k, fs_type, "file_system_type.owner"))


def _check_point(k, ns: Namespace, point: str) -> None:
    if point in PSEUDO or any(point.startswith(p + "/") for p in PSEUDO):
        raise MountError(f"{point}: {strerror(errno.EBUSY)}", errno.EBUSY)
    if ns.at(point) is not None:
        raise MountError(f"{point}: {strerror(errno.EBUSY)}", errno.EBUSY)
    if ns.mount_of(point) is not None:
        attr = stat_path(k, point)
        if not st.S_ISDIR(attr.mode):
            raise MountError(f"{point}: {strerror(errno.ENOTDIR)}", errno.ENOTDIR)


@kernel_api("mount")
def do_mount(k, source: str, point: str, fstype: str, options: str = "") -> Mount:
    """mount -t TYPE [-o OPTIONS] SOURCE POINT (SOURCE: /dev/loopN or an image file)."""
    t = k.target
    ns = k.model(Namespace)
    point = normalize(point)
    _check_point(k, ns, point)
    flags, fs_options, _loop = parse_mount_options(k, options)
    flags |= t.const("SB_SILENT")
    loops = k.model(LoopDevices)
    attached = None
    if loops.by_path(source) is None and os.path.isfile(source):
        attached = attach(k, source, read_only=bool(flags & t.const("SB_RDONLY")))
        source = attached.devpath
    try:
        m = _do_new_mount(k, ns, fstype, flags, source, point, fs_options)
    except BaseException:
        if attached is not None:
            loops.detach(attached.number)
        raise
    m.loop = attached
    return m


def _do_new_mount(k, ns, fstype, flags, source, point, fs_options) -> Mount:
    t = k.target
    name_at = k.heap.alloc(len(fstype.encode()) + 1, kind="fstype", zero=True)
    k.machine.write(name_at, fstype.encode() + b"\0")
    try:
        fs_type = get_fs_type(k, name_at)
        if not fs_type:                      # get_fs_type(): request_module("fs-%s")
            if drive(k, request_module(k, f"fs-{fstype}"), f"mount -t {fstype}") == 0:
                fs_type = get_fs_type(k, name_at)
    finally:
        k.heap.free(name_at)
    if not fs_type:
        raise MountError(f"mounting {source} on {point} failed: {strerror(errno.ENODEV)}",
                         errno.ENODEV)
    mod = _module_of(k, fs_type)
    entry = f"mount -t {fstype} {source} {point}"
    try:
        if rd(k, fs_type, "file_system_type.init_fs_context"):
            root = drive(k, _get_tree(k, fs_type, flags, source, fs_options), entry, mod)
        else:
            root = drive(k, _legacy_mount(k, fs_type, flags, source, fs_options), entry, mod)
    except BaseException:
        put_filesystem(k, fs_type)
        raise
    if root < 0:
        put_filesystem(k, fs_type)
        raise MountError(f"mounting {source} on {point} failed: {strerror(root)}", -root)
    sb = rd(k, root, "dentry.d_sb")
    wr(k, sb, "super_block.s_flags", rd(k, sb, "super_block.s_flags") | t.const("SB_BORN"))
    mnt = k.heap.alloc(t.sizeof("vfsmount"), kind="vfsmount", zero=True)
    wr(k, mnt, "vfsmount.mnt_root", root)
    wr(k, mnt, "vfsmount.mnt_sb", sb)
    m = Mount(point, source, fstype, fs_type, sb, root, mnt,
              rd(k, sb, "super_block.s_flags"), ",".join(fs_options))
    ns.mounts.append(m)
    return m


def _get_tree(k, fs_type, flags, source, fs_options):
    """vfs_get_tree() on a new context: the root dentry or -errno."""
    fc, err = yield from alloc_fs_context(k, fs_type, flags)
    try:
        if err:
            return err
        err = yield from parse_options(k, fc, source, fs_options)
        if err:
            return err
        get_tree = fc_op(k, fc, "get_tree")
        if not get_tree:
            return -errno.EINVAL
        err = s32((yield k.call_request(get_tree, fc)))
        if err:
            return err
        root = rd(k, fc, "fs_context.root")
        if not root:
            return -errno.EINVAL
        return root
    finally:
        yield from put_fs_context(k, fc)


def _legacy_mount(k, fs_type, flags, source, fs_options):
    """legacy_get_tree(): fs_type->mount(fs_type, flags, source, data)."""
    src = k.heap.alloc(len(source.encode()) + 1, kind="mount source", zero=True)
    k.machine.write(src, source.encode() + b"\0")
    data = 0
    if fs_options:
        text = ",".join(fs_options).encode()
        data = k.heap.alloc(4096, kind="mount data", zero=True)     # copy_mount_options: a page
        k.machine.write(data, text[:4095] + b"\0")
    try:
        fn = rd(k, fs_type, "file_system_type.mount")
        root = (yield k.call_request(fn, fs_type, flags, src, data)) & 0xFFFFFFFFFFFFFFFF
    finally:
        k.heap.free(src)
        if data:
            k.heap.free(data)
    if is_err(root):
        return ptr_err(root)
    if not root:
        return -errno.EINVAL
    return root


@kernel_api("umount")
def do_umount(k, point: str) -> None:
    """umount POINT: kill_sb through deactivate_locked_super(), the type's module put."""
    ns = k.model(Namespace)
    point = normalize(point)
    m = ns.at(point)
    if m is None:
        raise MountError(f"can't unmount {point}: {strerror(errno.EINVAL)}", errno.EINVAL)
    if m.open_files or any(o.point.startswith(point.rstrip("/") + "/")
                           for o in ns.mounts if o is not m):
        raise MountError(f"can't unmount {point}: {strerror(errno.EBUSY)}", errno.EBUSY)
    ns.mounts.remove(m)
    mod = _module_of(k, m.fs_type)
    try:
        drive(k, deactivate_locked_super_gen(k, m.sb), f"umount {point}", mod)
    finally:
        k.heap.free(m.mnt)
        put_filesystem(k, m.fs_type)
        if m.loop is not None:
            k.model(LoopDevices).detach(m.loop.number)


@kernel_api("mounts")
def mounts(k) -> list:
    return [(m.source, m.point, m.fstype, m.options) for m in k.model(Namespace).mounts]


def proc_mounts(k) -> str:
    """/proc/mounts lines of the filesystems kemu mounted (show_vfsmnt())."""
    out = []
    for m in k.model(Namespace).mounts:
        opts = ["ro" if m.flags & k.target.const("SB_RDONLY") else "rw", "relatime"]
        if m.options:
            opts.append(m.options)
        out.append(f"{m.source} {m.point} {m.fstype} {','.join(opts)} 0 0\n")
    return "".join(out)


# ------------------------------------------------------------------ walking
class Attr:
    """A looked-up path's inode and mode."""

    def __init__(self, mount, dentry, inode, mode):
        self.mount, self.dentry, self.inode, self.mode = mount, dentry, inode, mode


def _lookup_one(k, m: Mount, parent: int, rel: str, name: str) -> int:
    """The dentry of ``name`` in directory dentry ``parent`` (0: negative)."""
    key = (rel + "/" + name).strip("/")
    d = m.dentries.get(key)
    if d is not None:
        return d
    dir_inode = rd(k, parent, "dentry.d_inode")
    iop = rd(k, dir_inode, "inode.i_op")
    lookup = rd(k, iop, "inode_operations.lookup") if iop else 0
    if not lookup:
        return 0
    d = d_alloc_name(k, name.encode("utf-8", "surrogateescape"), parent, m.sb)
    res = drive(k, _call(k, lookup, dir_inode, d, 0), f"{m.point}/{key} lookup",
                _module_of(k, m.fs_type)) & 0xFFFFFFFFFFFFFFFF
    if is_err(res):
        _fail(m.point + "/" + key, ptr_err(res))
    if res:
        d = res
    if not rd(k, d, "dentry.d_inode"):
        return 0
    m.dentries[key] = d
    return d


def _call(k, fn, *args):
    return (yield k.call_request(fn, *args))


def readlink(k, m: Mount, inode: int) -> str:
    """The target of a symlink: i_link, else page 0 of its page cache up to i_size."""
    link = rd(k, inode, "inode.i_link")
    if link:
        return cstr(k, link)
    mapping = rd(k, inode, "inode.i_mapping")
    page = drive(k, read_page(k, mapping, 0), "readlink", _module_of(k, m.fs_type))
    if page < 0:
        raise FileError(f"readlink: {strerror(page)}", -page)
    size = min(rd(k, inode, "inode.i_size"), 4095)
    data = k.machine.read(pages(k).addr_of(page), size)
    page_cache(k).ref(page, -1)
    return data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def walk(k, path: str, follow: bool = True) -> Attr:
    """Look ``path`` up; FileError(ENOENT/ENOTDIR/ELOOP) as the shell shows them."""
    ns = k.model(Namespace)
    orig = path
    for _ in range(MAXSYMLINKS):
        path = normalize(path)
        hit = ns.mount_of(path)
        if hit is None:
            _fail(orig, errno.ENOENT)
        m, rel = hit
        d, done = m.root, ""
        parts = [p for p in rel.split("/") if p]
        redirected = False
        for i, name in enumerate(parts):
            inode = rd(k, d, "dentry.d_inode")
            mode = rd(k, inode, "inode.i_mode", 2)
            if st.S_ISLNK(mode):
                target = readlink(k, m, inode)
                base = m.point.rstrip("/") + "/" + done.rsplit("/", 1)[0] if "/" in done else \
                    m.point
                path = (target if target.startswith("/") else base.rstrip("/") + "/" + target) \
                    + "/" + "/".join(parts[i:])
                redirected = True
                break
            if not st.S_ISDIR(mode):
                _fail(orig, errno.ENOTDIR)
            nd = _lookup_one(k, m, d, done, name)
            if not nd:
                _fail(orig, errno.ENOENT)
            d, done = nd, (done + "/" + name).strip("/")
        if redirected:
            continue
        inode = rd(k, d, "dentry.d_inode")
        mode = rd(k, inode, "inode.i_mode", 2)
        if follow and st.S_ISLNK(mode):
            target = readlink(k, m, inode)
            parent = m.point.rstrip("/") + ("/" + done.rsplit("/", 1)[0] if "/" in done else "")
            path = target if target.startswith("/") else (parent or "/") + "/" + target
            continue
        return Attr(m, d, inode, mode)
    _fail(orig, errno.ELOOP)


def mounted(k, path: str) -> bool:
    """Whether ``path`` is on a filesystem kemu mounted."""
    try:
        path = normalize(path)
    except FileError:
        return False
    return k.model(Namespace).mount_of(path) is not None


# ------------------------------------------------------------------ files
def open_struct_file(k, a: Attr, flags: int) -> int:
    """alloc_empty_file() + do_dentry_open() up to ->open."""
    t = k.target
    file = k.heap.alloc(t.sizeof("file"), kind="file", zero=True)
    wr(k, file, "file.f_op", rd(k, a.inode, "inode.i_fop"))
    wr(k, file, "file.f_inode", a.inode)
    wr(k, file, "file.f_mapping", rd(k, a.inode, "inode.i_mapping"))
    path_at = file + t.offset("file.f_path")
    wr(k, path_at, "path.mnt", a.mount.mnt)
    wr(k, path_at, "path.dentry", a.dentry)
    wr(k, file, "file.f_flags", flags, 4)
    wr(k, file, "file.f_mode", open_fmode(k, flags), 4)
    wr(k, file, "file.f_count", 1)
    wr(k, file, "file.f_cred", get_cred(k, current_cred(k)))
    return file


def open_mounted(k, path: str, flags: int = 0) -> OpenFile:
    """open(2) of a file on a mounted filesystem: create (O_CREAT), truncate (O_TRUNC),
    the inode's i_fop, ->open."""
    t = k.target
    acc = flags & t.const("O_ACCMODE")
    if flags & t.const("O_CREAT"):
        try:
            a = walk(k, path)
            if flags & t.const("O_EXCL"):
                _fail(path, errno.EEXIST)
        except FileError as exc:
            if exc.errno != errno.ENOENT:
                raise
            a = create(k, path, t.const("S_IFREG") | 0o644, "create")
    else:
        a = walk(k, path)
    if flags & t.const("O_TRUNC") and acc and st.S_ISREG(a.mode) and \
            rd(k, a.inode, "inode.i_size") and not a.mount.flags & t.const("SB_RDONLY"):
        truncate(k, a, path, 0)
    if st.S_ISDIR(a.mode):
        if acc:
            _fail(path, errno.EISDIR)
    if acc and a.mount.flags & t.const("SB_RDONLY"):
        _fail(path, errno.EROFS)
    file = open_struct_file(k, a, flags)
    fop = rd(k, a.inode, "inode.i_fop")
    mount = a.mount

    def closed(_f):
        mount.open_files -= 1
    f = OpenFile(k, path, a.inode, file, fops_table(k, fop), module=_module_of(k, mount.fs_type),
                 inode_owned=False, on_close=closed)
    ret = f.do_open()
    if ret:
        f.closed = True
        kfree(k, file)
        _fail(path, ret)
    mount.open_files += 1
    return f


def _parent(k, path: str):
    """(the directory's Attr, the last name) of a path to create or remove."""
    path = normalize(path)
    parent, name = path.rsplit("/", 1)
    a = walk(k, parent or "/")
    if not st.S_ISDIR(a.mode):
        _fail(path, errno.ENOTDIR)
    if a.mount.flags & k.target.const("SB_RDONLY"):
        _fail(path, errno.EROFS)
    return a, name, path


def _dir_op(k, a: Attr, what: str, path: str, *args) -> int:
    iop = rd(k, a.inode, "inode.i_op")
    fn = rd(k, iop, f"inode_operations.{what}") if iop else 0
    if not fn:
        return -errno.EPERM
    return s32(k.call(fn, *args, entry=f"{path} {what}", module=_module_of(k, a.mount.fs_type)))


def create(k, path: str, mode: int, what: str) -> Attr:
    """vfs_create()/vfs_mkdir(): the directory's create or mkdir on a new negative dentry."""
    a, name, path = _parent(k, path)
    rel = a.mount.dentries and next((r for r, d in a.mount.dentries.items() if d == a.dentry), "")
    key = (rel + "/" + name).strip("/")
    if _lookup_one(k, a.mount, a.dentry, rel, name):
        _fail(path, errno.EEXIST)
    d = d_alloc_name(k, name.encode("utf-8", "surrogateescape"), a.dentry, a.mount.sb)
    userns = k.export_addr("init_user_ns")
    if what == "create":
        err = _dir_op(k, a, "create", path, userns, a.inode, d, mode, 1)
    else:
        err = _dir_op(k, a, "mkdir", path, userns, a.inode, d, mode)
    if err:
        _fail(path, err)
    inode = rd(k, d, "dentry.d_inode")
    if not inode:
        _fail(path, errno.ENOENT)
    a.mount.dentries[key] = d
    return Attr(a.mount, d, inode, rd(k, inode, "inode.i_mode", 2))


@kernel_api("mkdir")
def mkdir(k, path: str, mode: int = 0o755) -> None:
    """mkdir(2) on a mounted filesystem."""
    if not mounted(k, path):
        _fail(path, errno.EROFS)
    create(k, path, k.target.const("S_IFDIR") | mode, "mkdir")


@kernel_api("unlink")
def unlink(k, path: str, directory: bool = False) -> None:
    """unlink(2) (rmdir(2) with ``directory``): the directory's unlink/rmdir, then the
    victim's dentry and its inode reference go (d_delete(), dput())."""
    if not mounted(k, path):
        _fail(path, errno.EROFS)
    a, name, path = _parent(k, path)
    victim = walk(k, path, follow=False)
    if victim.dentry == victim.mount.root:
        _fail(path, errno.EBUSY)
    if directory and not st.S_ISDIR(victim.mode):
        _fail(path, errno.ENOTDIR)
    if not directory and st.S_ISDIR(victim.mode):
        _fail(path, errno.EISDIR)
    err = _dir_op(k, a, "rmdir" if directory else "unlink", path, a.inode, victim.dentry)
    if err:
        _fail(path, err)
    m = victim.mount
    for key in [key for key, d in m.dentries.items() if d == victim.dentry or
                key.startswith(next(r for r, d in m.dentries.items() if d == victim.dentry) + "/")]:
        del m.dentries[key]
    wr(k, victim.dentry, "dentry.d_inode", 0)
    drive(k, iput_gen(k, victim.inode), f"{path} iput", _module_of(k, m.fs_type))


def truncate(k, a: Attr, path: str, size: int) -> None:
    """do_truncate(): notify_change() with ATTR_SIZE|ATTR_MTIME|ATTR_CTIME."""
    t = k.target
    iattr = k.heap.alloc(t.sizeof("iattr"), kind="iattr", zero=True)
    try:
        wr(k, iattr, "iattr.ia_valid", t.const("ATTR_SIZE") | t.const("ATTR_MTIME") |
           t.const("ATTR_CTIME"), 4)
        wr(k, iattr, "iattr.ia_size", size)
        sec, nsec = current_time(k, a.inode)
        for name in ("ia_mtime", "ia_ctime"):
            wr(k, iattr + t.offset(f"iattr.{name}"), "timespec64.tv_sec", sec)
            wr(k, iattr + t.offset(f"iattr.{name}"), "timespec64.tv_nsec", nsec)
        err = _dir_op(k, a, "setattr", path, k.export_addr("init_user_ns"), a.dentry, iattr)
        if err:
            _fail(path, err)
    finally:
        k.heap.free(iattr)


@kernel_api("sync")
def sync(k) -> None:
    """sync(1): sync_filesystem() of every mount."""
    for m in k.model(Namespace).mounts:
        drive(k, sync_filesystem_gen(k, m.sb), f"sync {m.point}", _module_of(k, m.fs_type))


def read_mounted(k, path: str) -> bytes:
    """cat PATH: EISDIR for a directory, as read(2) says it."""
    a = walk(k, path)
    if st.S_ISDIR(a.mode):
        _fail(path, errno.EISDIR, "read")
    f = open_mounted(k, path, 0)
    try:
        return f.read_all()
    finally:
        f.close()


class Entries:
    """What the filldir actor collected."""

    def __init__(self, k):
        self.current: list | None = None


@static("bool filldir64(struct dir_context *ctx, const char *name, int namlen, loff_t offset, "
        "u64 ino, unsigned int d_type)")
def filldir64(k, ctx, name, namlen, offset, ino, d_type):
    out = k.model(Entries).current
    if out is None:
        return 0
    raw = k.machine.read(name, namlen) if namlen else b""
    out.append((raw.decode("utf-8", "surrogateescape"), ino, d_type))
    return 1


def iterate_dir(k, a: Attr, path: str) -> list[tuple[str, int, int]]:
    """getdents64() until a pass adds nothing: (name, ino, d_type) in directory order."""
    t = k.target
    fop = rd(k, a.inode, "inode.i_fop")
    fn = (rd(k, fop, "file_operations.iterate_shared") or
          rd(k, fop, "file_operations.iterate")) if fop else 0
    if not fn:
        _fail(path, errno.ENOTDIR)
    mod = _module_of(k, a.mount.fs_type)
    file = open_struct_file(k, a, t.const("O_RDONLY") | t.const("O_DIRECTORY"))
    f = OpenFile(k, path, a.inode, file, fops_table(k, fop), module=mod, inode_owned=False)
    ret = f.do_open()                        # ->open (ext4_dir_open...), ->release after
    if ret:
        f.closed = True
        release_open(k, file)
        k.heap.free(file)
        _fail(path, ret)
    ctx = k.heap.alloc(t.sizeof("dir_context"), kind="dir_context", zero=True)
    entries = k.model(Entries)
    out: list = []
    try:
        wr(k, ctx, "dir_context.actor", static_addr(k, "filldir64"))
        for _ in range(1 << 16):
            before = len(out)
            wr(k, ctx, "dir_context.pos", rd(k, file, "file.f_pos"))
            entries.current = out
            try:
                ret = s64(k.call(fn, file, ctx, entry=f"{path} iterate_shared", module=mod))
            finally:
                entries.current = None
            wr(k, file, "file.f_pos", rd(k, ctx, "dir_context.pos"))
            if ret < 0:
                _fail(path, ret)
            if len(out) == before:
                break
    finally:
        k.heap.free(ctx)
        f.close()
    return out


class Stat:
    """What stat(2) returns (struct kstat)."""

    def __init__(self, **kw):
        self.target = ""                     # a symlink's target
        self.__dict__.update(kw)


@export("void generic_fillattr(struct user_namespace *mnt_userns, struct inode *inode, "
        "struct kstat *stat)")
def generic_fillattr(k, mnt_userns, inode, stat):
    t = k.target
    m = k.machine
    sb = rd(k, inode, "inode.i_sb")
    wr(k, stat, "kstat.dev", rd(k, sb, "super_block.s_dev", 4), 4)
    wr(k, stat, "kstat.ino", rd(k, inode, "inode.i_ino"))
    wr(k, stat, "kstat.mode", rd(k, inode, "inode.i_mode", 2), 2)
    wr(k, stat, "kstat.nlink", rd(k, inode, "inode.__i_nlink", 4), 4)
    wr(k, stat, "kstat.uid", rd(k, inode, "inode.i_uid", 4), 4)
    wr(k, stat, "kstat.gid", rd(k, inode, "inode.i_gid", 4), 4)
    wr(k, stat, "kstat.rdev", rd(k, inode, "inode.i_rdev", 4), 4)
    wr(k, stat, "kstat.size", rd(k, inode, "inode.i_size"))
    for name in ("atime", "mtime", "ctime"):
        m.write(stat + t.offset(f"kstat.{name}"), m.read(inode + t.offset(f"inode.i_{name}"), 16))
    wr(k, stat, "kstat.blksize", 1 << m.read_u8(inode + t.offset("inode.i_blkbits")), 4)
    wr(k, stat, "kstat.blocks", rd(k, inode, "inode.i_blocks"))


def new_encode_dev(dev: int) -> int:
    """cp_new_stat()'s st_dev: the kernel's MKDEV (12:20 bits) as userspace's dev_t."""
    major, minor = dev >> 20, dev & 0xFFFFF
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


def _getattr(k, a: Attr, path: str) -> Stat:
    """vfs_getattr_nosec(): i_op->getattr, else generic_fillattr()."""
    t = k.target
    kst = k.heap.alloc(t.sizeof("kstat"), kind="kstat", zero=True)
    p = k.heap.alloc(t.sizeof("path"), kind="path", zero=True)
    try:
        wr(k, kst, "kstat.result_mask", STATX_BASIC_STATS, 4)
        wr(k, p, "path.mnt", a.mount.mnt)
        wr(k, p, "path.dentry", a.dentry)
        iop = rd(k, a.inode, "inode.i_op")
        fn = rd(k, iop, "inode_operations.getattr") if iop else 0
        if fn:
            ret = s32(k.call(fn, k.export_addr("init_user_ns"), p, kst, STATX_BASIC_STATS, 0,
                             entry=f"{path} getattr", module=_module_of(k, a.mount.fs_type)))
            if ret:
                _fail(path, ret)
        else:
            generic_fillattr(k, k.export_addr("init_user_ns"), a.inode, kst)

        def ts(name):
            return (s64(rd(k, kst + t.offset(f"kstat.{name}"), "timespec64.tv_sec")),
                    rd(k, kst + t.offset(f"kstat.{name}"), "timespec64.tv_nsec"))
        return Stat(dev=new_encode_dev(rd(k, kst, "kstat.dev", 4)), ino=rd(k, kst, "kstat.ino"),
                    mode=rd(k, kst, "kstat.mode", 2), nlink=rd(k, kst, "kstat.nlink", 4),
                    uid=rd(k, kst, "kstat.uid", 4), gid=rd(k, kst, "kstat.gid", 4),
                    rdev=new_encode_dev(rd(k, kst, "kstat.rdev", 4)),
                    size=s64(rd(k, kst, "kstat.size")),
                    blksize=rd(k, kst, "kstat.blksize", 4), blocks=rd(k, kst, "kstat.blocks"),
                    atime=ts("atime"), mtime=ts("mtime"), ctime=ts("ctime"))
    finally:
        k.heap.free(kst)
        k.heap.free(p)


def stat_path(k, path: str, follow: bool = True) -> Stat:
    """stat(2) (lstat(2) with follow=False) of a path on a mounted filesystem."""
    a = walk(k, path, follow)
    s = _getattr(k, a, path)
    s.target = readlink(k, a.mount, a.inode) if st.S_ISLNK(s.mode) else ""
    return s


DT_TO_IFMT = {1: st.S_IFIFO, 2: st.S_IFCHR, 4: st.S_IFDIR, 6: st.S_IFBLK, 8: st.S_IFREG,
              10: st.S_IFLNK, 12: st.S_IFSOCK}          # DT_* << 12 is S_IF*


def list_mounted(k, path: str, all_names: bool = False, with_stat: bool = True):
    """ls: (name, lstat or None, mode) of each entry, sorted as ls sorts in the C locale;
    a file lists itself. Without ``with_stat`` the mode is the entry's d_type from
    getdents, and only a DT_UNKNOWN entry (minix gives no types) is looked up for it,
    as ls does."""
    path = normalize(path)
    a = walk(k, path)
    if not st.S_ISDIR(a.mode):
        s = stat_path(k, path, follow=False)
        return [(path.rsplit("/", 1)[-1], s, s.mode)]
    seen: dict[str, int] = {}
    for name, _ino, d_type in iterate_dir(k, a, path):
        seen.setdefault(name, d_type)
    out = []
    for name in sorted(seen, key=lambda n: n.encode("utf-8", "surrogateescape")):
        if not all_names and name.startswith("."):
            continue
        if not with_stat and seen[name] in DT_TO_IFMT:
            out.append((name, None, DT_TO_IFMT[seen[name]]))
            continue
        full = path.rstrip("/") + "/" + name if name not in (".", "..") else \
            (path if name == "." else path.rsplit("/", 1)[0] or "/")
        if name == ".." and path == k.model(Namespace).mount_of(path)[0].point:
            s = _getattr(k, a, path)                  # the mount root's parent: itself
        else:
            try:
                s = stat_path(k, full, follow=False)
            except FileError:
                continue
        out.append((name, s if with_stat else None, s.mode))
    return out


@kernel_api("stat")
def stat_api(k, path: str, follow: bool = True) -> Stat:
    return stat_path(k, path, follow)


def filesystem_types(k) -> list[str]:
    return [cstr(k, rd(k, fs, "file_system_type.name")) for fs in k.model(FileSystems).chain()]
