"""fs/sysfs (file.c, group.c, symlink.c): a minimal sysfs tree.

Nodes are kept by path ("/kernel/foo/bar"): directories of kobjects, attribute
files, binary files and symlinks, each with the module that created it.
Creating a name twice warns as ``sysfs_warn_dup`` does and fails -EEXIST;
removing a directory removes what is in it. ``sysfs_create_group`` honours
``is_visible`` (called in emulation) and the group's subdirectory.

Python API::

    sysfs_list(k) -> [(path, kind, owner module name or None), ...]
    sysfs_read(k, "/sys/kernel/foo/bar") -> bytes    # ->show through the kobject's sysfs_ops
    sysfs_write(k, path, data) -> int                # ->store
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.errors import KemuError, strerror
from kemu.kernel.log import KERN_WARNING
from kemu.abi.exports import members

from ..lib.kemu_warn import warn
from kemu.abi.toolkit import cstr, rd, s64, static
from kemu.stubs.lib.vsprintf import vformat

members("struct attribute", "name", "mode")
members("struct attribute_group", "name", "is_visible", "is_bin_visible", "attrs", "bin_attrs")
members("struct bin_attribute", "attr")
members("struct kobj_attribute", "attr", "show", "store")
members("struct kobj_type", "sysfs_ops")
members("struct sysfs_ops", "show", "store")

PAGE_SIZE = 4096
SYSFS_PREALLOC = 0o10000


class SysfsError(KemuError):
    """A sysfs path that cannot be read or written."""


class Node:
    __slots__ = ("path", "kind", "owner", "kobj", "attr", "target", "mode")

    def __init__(self, path, kind, owner, kobj=0, attr=0, target="", mode=0):
        self.path, self.kind, self.owner = path, kind, owner
        self.kobj, self.attr, self.target, self.mode = kobj, attr, target, mode


class Sysfs:
    """Per-kernel sysfs tree."""

    ROOT_DIRS = ("block", "bus", "class", "dev", "dev/block", "dev/char", "devices",
                 "devices/system", "devices/virtual", "firmware", "fs", "hypervisor", "kernel",
                 "kernel/mm", "module", "power")

    def __init__(self, k):
        self.k = k
        self.nodes: dict[str, Node] = {"": Node("", "dir", None)}
        self.quiet = 0                  # >0: nodes made for a registration that reports itself
        self.kobjects: dict = {}        # lib/kobject.py's records by address (what kobj->sd tells)
        for d in self.ROOT_DIRS:
            self.nodes["/" + d] = Node("/" + d, "dir", None)

    def add(self, node: Node) -> int:
        """Create a node; -EEXIST (with the kernel's warning) if the name is taken."""
        parent = node.path.rsplit("/", 1)[0]
        if parent not in self.nodes:
            return -errno.ENOENT
        if node.path in self.nodes:
            _warn_dup(self.k, node.path)
            return -errno.EEXIST
        self.nodes[node.path] = node
        if node.owner is not None and not self.quiet:
            self.k.register("sysfs", node.path, node.owner, f"sysfs {node.kind} /sys{node.path}")
        return 0

    def remove(self, path: str) -> bool:
        """Remove a node and, for a directory, everything below it."""
        if path not in self.nodes or path == "":
            return False
        for p in [p for p in self.nodes if p == path or p.startswith(path + "/")]:
            del self.nodes[p]
            self.k.unregister("sysfs", p)
        return True


def _warn_dup(k, path):
    """sysfs_warn_dup(): pr_warn and dump_stack."""
    k.log.emit(KERN_WARNING, f"sysfs: cannot create duplicate filename '{path}'")
    k.dump_stack()


def kobj_path(k, kobj: int) -> str | None:
    """The sysfs path of a kobject that is in sysfs, or None."""
    rec = k.model(Sysfs).kobjects.get(kobj)
    return rec.path if rec is not None and rec.in_sysfs else None


def attr_name(k, attr):
    return cstr(k, rd(k, attr, "attribute.name"), 256)


def attr_mode(k, attr):
    return rd(k, attr, "attribute.mode", 2)


def add_file(k, dirpath: str, attr: int, kobj: int, mode: int, kind: str = "file") -> int:
    """sysfs_add_file_mode_ns()."""
    sysfs = k.model(Sysfs)
    return sysfs.add(Node(f"{dirpath}/{attr_name(k, attr)}", kind, k.current_module(),
                          kobj=kobj, attr=attr, mode=mode))


def _kobj_dir(k, kobj):
    if not kobj:
        return None
    return kobj_path(k, kobj)


@export("int sysfs_create_file_ns(struct kobject *kobj, const struct attribute *attr, "
        "const void *ns)")
def sysfs_create_file_ns(k, kobj, attr, ns):
    path = _kobj_dir(k, kobj)
    if path is None or not attr:
        warn(k, "fs/sysfs/file.c:355", "sysfs_create_file_ns+0x8b/0xa0")
        return -errno.EINVAL
    return add_file(k, path, attr, kobj, attr_mode(k, attr))


@export("int sysfs_create_files(struct kobject *kobj, const struct attribute * const *ptr)")
def sysfs_create_files(k, kobj, ptr):
    done = []
    i = 0
    while True:
        attr = k.machine.read_u64(ptr + 8 * i)
        if not attr:
            return 0
        err = sysfs_create_file_ns(k, kobj, attr, 0)
        if err:
            for a in done:
                sysfs_remove_file_ns(k, kobj, a, 0)
            return err
        done.append(attr)
        i += 1


@export("void sysfs_remove_file_ns(struct kobject *kobj, const struct attribute *attr, "
        "const void *ns)")
def sysfs_remove_file_ns(k, kobj, attr, ns):
    path = _kobj_dir(k, kobj)
    if path is not None:
        k.model(Sysfs).remove(f"{path}/{attr_name(k, attr)}")


@export("void sysfs_remove_files(struct kobject *kobj, const struct attribute * const *ptr)")
def sysfs_remove_files(k, kobj, ptr):
    i = 0
    while True:
        attr = k.machine.read_u64(ptr + 8 * i)
        if not attr:
            return
        sysfs_remove_file_ns(k, kobj, attr, 0)
        i += 1


@export("int sysfs_create_bin_file(struct kobject *kobj, const struct bin_attribute *attr)")
def sysfs_create_bin_file(k, kobj, attr):
    path = _kobj_dir(k, kobj)
    if path is None or not attr:
        warn(k, "fs/sysfs/file.c:570", "sysfs_create_bin_file+0x84/0xa0")
        return -errno.EINVAL
    a = attr + k.target.offset("bin_attribute.attr")
    return add_file(k, path, a, kobj, attr_mode(k, a), "bin")


@export("void sysfs_remove_bin_file(struct kobject *kobj, const struct bin_attribute *attr)")
def sysfs_remove_bin_file(k, kobj, attr):
    path = _kobj_dir(k, kobj)
    if path is not None:
        a = attr + k.target.offset("bin_attribute.attr")
        k.model(Sysfs).remove(f"{path}/{attr_name(k, a)}")


def _attrs(k, array):
    i = 0
    while array:
        a = k.machine.read_u64(array + 8 * i)
        if not a:
            return
        yield i, a
        i += 1


def create_group(k, kobj, grp, update=False):
    """internal_create_group(): a generator (is_visible runs in emulation)."""
    t = k.target
    path = _kobj_dir(k, kobj)
    if not kobj or (not update and path is None):
        warn(k, "fs/sysfs/group.c:115", "internal_create_group+0x27e/0x3a0")
        return -errno.EINVAL
    attrs = rd(k, grp, "attribute_group.attrs")
    bins = rd(k, grp, "attribute_group.bin_attrs")
    if not attrs and not bins:
        return -errno.EINVAL
    sysfs = k.model(Sysfs)
    gname = cstr(k, rd(k, grp, "attribute_group.name"), 256)
    dirpath = path
    if gname:
        dirpath = f"{path}/{gname}"
        if not (update and dirpath in sysfs.nodes):
            err = sysfs.add(Node(dirpath, "group", k.current_module(), kobj=kobj))
            if err:
                return err
    made = []
    error = 0
    is_visible = rd(k, grp, "attribute_group.is_visible")
    for i, attr in _attrs(k, attrs):
        mode = attr_mode(k, attr)
        if update:
            sysfs.remove(f"{dirpath}/{attr_name(k, attr)}")
        if is_visible:
            mode = (yield k.call_request(is_visible, kobj, attr, i)) & 0xFFFF
        if not mode:
            continue
        if mode & ~(SYSFS_PREALLOC | 0o664):
            warn(k, "fs/sysfs/group.c:59", "internal_create_group+0x2f5/0x3a0",
                 f"Attribute {attr_name(k, attr)}: Invalid permissions 0{mode:o}")
        mode &= SYSFS_PREALLOC | 0o664
        error = add_file(k, dirpath, attr, kobj, mode)
        if error:
            break
        made.append(f"{dirpath}/{attr_name(k, attr)}")
    if not error:
        is_bin_visible = rd(k, grp, "attribute_group.is_bin_visible")
        for i, battr in _attrs(k, bins):
            a = battr + t.offset("bin_attribute.attr")
            mode = attr_mode(k, a)
            if is_bin_visible:
                mode = (yield k.call_request(is_bin_visible, kobj, battr, i)) & 0xFFFF
            if not mode:
                continue
            error = add_file(k, dirpath, a, kobj, mode & (SYSFS_PREALLOC | 0o664), "bin")
            if error:
                break
            made.append(f"{dirpath}/{attr_name(k, a)}")
    if error:
        for p in made:
            sysfs.remove(p)
        if gname:
            sysfs.remove(dirpath)
    return error


def remove_group(k, kobj, grp):
    """sysfs_remove_group()."""
    t = k.target
    path = _kobj_dir(k, kobj)
    if path is None:
        return
    sysfs = k.model(Sysfs)
    gname = cstr(k, rd(k, grp, "attribute_group.name"), 256)
    dirpath = path
    if gname:
        dirpath = f"{path}/{gname}"
        if dirpath not in sysfs.nodes:
            kname = cstr(k, rd(k, kobj, "kobject.name"), 256)
            warn(k, "fs/sysfs/group.c:278", "sysfs_remove_group+0x71/0x80",
                 f"sysfs group '{gname}' not found for kobject '{kname}'")
            return
    for _i, attr in _attrs(k, rd(k, grp, "attribute_group.attrs")):
        sysfs.remove(f"{dirpath}/{attr_name(k, attr)}")
    for _i, battr in _attrs(k, rd(k, grp, "attribute_group.bin_attrs")):
        sysfs.remove(f"{dirpath}/{attr_name(k, battr + t.offset('bin_attribute.attr'))}")
    if gname:
        sysfs.remove(dirpath)


@export("int sysfs_create_group(struct kobject *kobj, const struct attribute_group *grp)")
def sysfs_create_group(k, kobj, grp):
    return (yield from create_group(k, kobj, grp))


@export("int sysfs_update_group(struct kobject *kobj, const struct attribute_group *grp)")
def sysfs_update_group(k, kobj, grp):
    return (yield from create_group(k, kobj, grp, update=True))


@export("void sysfs_remove_group(struct kobject *kobj, const struct attribute_group *grp)")
def sysfs_remove_group(k, kobj, grp):
    remove_group(k, kobj, grp)


def create_groups(k, kobj, groups):
    """sysfs_create_groups(): each group, undone on the first error."""
    if not groups:
        return 0
    done = []
    i = 0
    while True:
        grp = k.machine.read_u64(groups + 8 * i)
        if not grp:
            return 0
        err = yield from create_group(k, kobj, grp)
        if err:
            for g in reversed(done):
                remove_group(k, kobj, g)
            return err
        done.append(grp)
        i += 1


def remove_groups(k, kobj, groups):
    """sysfs_remove_groups()."""
    if not groups:
        return
    i = 0
    while True:
        grp = k.machine.read_u64(groups + 8 * i)
        if not grp:
            return
        remove_group(k, kobj, grp)
        i += 1


@export("int sysfs_create_groups(struct kobject *kobj, const struct attribute_group **groups)")
def sysfs_create_groups(k, kobj, groups):
    return (yield from create_groups(k, kobj, groups))


@export("void sysfs_remove_groups(struct kobject *kobj, const struct attribute_group **groups)")
def sysfs_remove_groups(k, kobj, groups):
    remove_groups(k, kobj, groups)


@export("int sysfs_create_link(struct kobject *kobj, struct kobject *target, const char *name)")
def sysfs_create_link(k, kobj, target, name):
    path = _kobj_dir(k, kobj) if kobj else ""
    tpath = kobj_path(k, target)
    if path is None or tpath is None:
        return -errno.ENOENT
    return k.model(Sysfs).add(Node(f"{path}/{cstr(k, name, 256)}", "link", k.current_module(),
                                   target=tpath))


@export("void sysfs_remove_link(struct kobject *kobj, const char *name)")
def sysfs_remove_link(k, kobj, name):
    path = _kobj_dir(k, kobj) if kobj else ""
    if path is not None:
        k.model(Sysfs).remove(f"{path}/{cstr(k, name, 256)}")


@export("void sysfs_notify(struct kobject *kobj, const char *dir, const char *attr)")
def sysfs_notify(k, kobj, dir_, attr):
    pass


@export("int sysfs_chmod_file(struct kobject *kobj, const struct attribute *attr, umode_t mode)")
def sysfs_chmod_file(k, kobj, attr, mode):
    path = _kobj_dir(k, kobj)
    node = k.model(Sysfs).nodes.get(f"{path}/{attr_name(k, attr)}") if path else None
    if node is None:
        return -errno.ENOENT
    node.mode = mode
    return 0


def _emit(k, buf, at, text: bytes) -> int:
    """vscnprintf(buf + at, PAGE_SIZE - at, ...)."""
    size = PAGE_SIZE - at
    if size <= 0:
        return 0
    out = text[:size - 1]
    k.machine.write(buf + at, out + b"\0")
    return len(out)


@export("int sysfs_emit(char *buf, const char *fmt, ...)")
def sysfs_emit(k, buf, fmt, va):
    if not buf or buf & (PAGE_SIZE - 1):
        warn(k, "fs/sysfs/file.c:740", "sysfs_emit+0xa7/0xc0",
             f"invalid sysfs_emit: buf:{k.hash_pointer(buf)}")
        return 0
    return _emit(k, buf, 0, vformat(k, fmt, va))


@export("int sysfs_emit_at(char *buf, int at, const char *fmt, ...)")
def sysfs_emit_at(k, buf, at, fmt, va):
    if not buf or buf & (PAGE_SIZE - 1) or at < 0 or at >= PAGE_SIZE:
        warn(k, "fs/sysfs/file.c:768", "sysfs_emit_at+0x64/0xc0",
             f"invalid sysfs_emit_at: buf:{k.hash_pointer(buf)} at:{at}")
        return 0
    return _emit(k, buf, at, vformat(k, fmt, va))


# ------------------------------------------------------------ Python API
def sysfs_list(k) -> list:
    """(path, kind, owner module name or None) of every node, sorted by path."""
    return [("/sys" + p, n.kind, n.owner.name if n.owner else None)
            for p, n in sorted(k.model(Sysfs).nodes.items()) if p]


def _file(k, path):
    if path.startswith("/sys"):
        path = path[4:]
    node = k.model(Sysfs).nodes.get(path.rstrip("/"))
    if node is None:
        raise SysfsError(f"/sys{path}: No such file or directory", errno.ENOENT)
    if node.kind != "file":
        raise SysfsError(f"/sys{path}: not an attribute file", errno.EISDIR)
    return node


def _sysfs_ops(k, kobj):
    ktype = rd(k, kobj, "kobject.ktype")
    return rd(k, ktype, "kobj_type.sysfs_ops") if ktype else 0


def sysfs_read(k, path: str) -> bytes:
    """Read an attribute: ``ops->show(kobj, attr, page)`` as sysfs_kf_seq_show does."""
    node = _file(k, path)
    ops = _sysfs_ops(k, node.kobj)
    show = rd(k, ops, "sysfs_ops.show") if ops else 0
    if not show:
        raise SysfsError(f"{path}: Input/output error", errno.EIO)
    page = k.heap.alloc(PAGE_SIZE, kind="sysfs page", zero=True)
    try:
        mod = node.owner
        count = s64(k.call(show, node.kobj, node.attr, page, entry=f"{path} show", module=mod))
        if count < 0:
            raise SysfsError(f"{path}: {strerror(count)}", -count)
        if count >= PAGE_SIZE:
            k.log.emit(KERN_WARNING, f"fill_read_buffer: {k.format_addr(show)} returned bad count")
            count = PAGE_SIZE - 1
        return k.machine.read(page, count) if count else b""
    finally:
        k.heap.free(page)


def sysfs_write(k, path: str, data: bytes) -> int:
    """Write an attribute: ``ops->store(kobj, attr, buf, count)``."""
    node = _file(k, path)
    ops = _sysfs_ops(k, node.kobj)
    store = rd(k, ops, "sysfs_ops.store") if ops else 0
    if not store:
        raise SysfsError(f"{path}: Input/output error", errno.EIO)
    data = data[:PAGE_SIZE - 1]
    page = k.heap.alloc(PAGE_SIZE, kind="sysfs page", zero=True)
    try:
        k.machine.write(page, data + b"\0")
        ret = s64(k.call(store, node.kobj, node.attr, page, len(data), entry=f"{path} store",
                         module=node.owner))
        if ret < 0:
            raise SysfsError(f"{path}: {strerror(ret)}", -ret)
        return ret
    finally:
        k.heap.free(page)


# The kernel's sysfs_ops for plain kobjects (kobj_sysfs_ops, lib/kobject.c).
@static("ssize_t kobj_attr_show(struct kobject *kobj, struct attribute *attr, char *buf)")
def kobj_attr_show(k, kobj, attr, buf):
    show = rd(k, attr - k.target.offset("kobj_attribute.attr"), "kobj_attribute.show")
    if not show:
        return -errno.EIO
    return s64((yield k.call_request(show, kobj, attr - k.target.offset("kobj_attribute.attr"),
                                     buf)))


@static("ssize_t kobj_attr_store(struct kobject *kobj, struct attribute *attr, const char *buf, "
        "size_t count)")
def kobj_attr_store(k, kobj, attr, buf, count):
    kattr = attr - k.target.offset("kobj_attribute.attr")
    store = rd(k, kattr, "kobj_attribute.store")
    if not store:
        return -errno.EIO
    return s64((yield k.call_request(store, kobj, kattr, buf, count)))


@export("int sysfs_create_mount_point(struct kobject *parent_kobj, const char *name)")
def sysfs_create_mount_point(k, parent_kobj, name):
    """An empty directory for a filesystem to be mounted on (/sys/fs/<name>)."""
    parent = _kobj_dir(k, parent_kobj)
    if parent is None:
        return -errno.ENOENT
    return k.model(Sysfs).add(Node(f"{parent}/{cstr(k, name)}", "dir", k.current_module()))


@export("void sysfs_remove_mount_point(struct kobject *parent_kobj, const char *name)")
def sysfs_remove_mount_point(k, parent_kobj, name):
    parent = _kobj_dir(k, parent_kobj)
    if parent is not None:
        k.model(Sysfs).remove(f"{parent}/{cstr(k, name)}")


# ------------------------------------------------------------ named groups, merged into
def _group_dir(k, kobj, group):
    path = _kobj_dir(k, kobj)
    if path is None:
        return None
    return f"{path}/{cstr(k, group, 256)}" if group else path


@export("int sysfs_merge_group(struct kobject *kobj, const struct attribute_group *grp)")
def sysfs_merge_group(k, kobj, grp):
    """Add a group's attributes into the existing directory of the same name."""
    dirpath = _group_dir(k, kobj, rd(k, grp, "attribute_group.name"))
    sysfs = k.model(Sysfs)
    if dirpath is None or dirpath not in sysfs.nodes:
        return -errno.ENOENT
    made = []
    for _i, attr in _attrs(k, rd(k, grp, "attribute_group.attrs")):
        err = add_file(k, dirpath, attr, kobj, attr_mode(k, attr))
        if err:
            for p in made:
                sysfs.remove(p)
            return err
        made.append(f"{dirpath}/{attr_name(k, attr)}")
    return 0


@export("void sysfs_unmerge_group(struct kobject *kobj, const struct attribute_group *grp)")
def sysfs_unmerge_group(k, kobj, grp):
    dirpath = _group_dir(k, kobj, rd(k, grp, "attribute_group.name"))
    if dirpath is None:
        return
    for _i, attr in _attrs(k, rd(k, grp, "attribute_group.attrs")):
        k.model(Sysfs).remove(f"{dirpath}/{attr_name(k, attr)}")


@export("int sysfs_add_file_to_group(struct kobject *kobj, const struct attribute *attr, "
        "const char *group)")
def sysfs_add_file_to_group(k, kobj, attr, group):
    dirpath = _group_dir(k, kobj, group)
    if dirpath is None or dirpath not in k.model(Sysfs).nodes:
        return -errno.ENOENT
    return add_file(k, dirpath, attr, kobj, attr_mode(k, attr))


@export("void sysfs_remove_file_from_group(struct kobject *kobj, const struct attribute *attr, "
        "const char *group)")
def sysfs_remove_file_from_group(k, kobj, attr, group):
    dirpath = _group_dir(k, kobj, group)
    if dirpath is not None:
        k.model(Sysfs).remove(f"{dirpath}/{attr_name(k, attr)}")


@export("struct kernfs_node *sysfs_break_active_protection(struct kobject *kobj, "
        "const struct attribute *attr)")
def sysfs_break_active_protection(k, kobj, attr):
    """Lets an attribute's store method remove the attribute itself. kemu's sysfs
    files have no active references to drain, so there is nothing to break; the
    opaque node handle returned is only passed back to unbreak."""
    return kobj


@export("void sysfs_unbreak_active_protection(struct kernfs_node *kn)")
def sysfs_unbreak_active_protection(k, kn):
    pass
