"""fs/filesystems.c: the list of filesystem types, and /proc/filesystems.

The list is the kernel's singly linked ``file_systems`` chain through
``file_system_type.next``, kept in kernel memory: it starts with the
filesystems Debian's 6.1 kernel has built in (in their registration order)
and modules append theirs. ``register_filesystem`` refuses a type whose
``next`` is set or whose name is taken with -EBUSY, as the kernel does.

Python API: ``proc_filesystems(k) -> str`` (the /proc/filesystems text),
``filesystems(k) -> [(name, fs_flags, owner module name or None), ...]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, rd, wr

members("struct file_system_type", "name", "fs_flags", "owner", "next")

# Built into Debian's 6.1 amd64 kernel (CONFIG_*=y), in registration order, with
# FS_REQUIRES_DEV where the type needs a block device. (bdev is mounted with
# kern_mount() but never registered: /proc/filesystems does not list it.)
BUILTIN = ("sysfs", "tmpfs", "proc", "cgroup", "cgroup2", "cpuset", "devtmpfs",
           "debugfs", "tracefs", "securityfs", "sockfs", "bpf", "pipefs", "ramfs", "hugetlbfs",
           "devpts", "mqueue", "pstore")


class FileSystems:
    """Per-kernel file_systems list: head pointer in kernel data, entries in order."""

    def __init__(self, k):
        self.k = k
        self.head = k.machine.alloc_kdata(8, 8)           # struct file_system_type *file_systems
        self.owners: dict[int, object] = {}
        t = k.target
        for name in BUILTIN:
            fs = k.machine.alloc_kdata(t.sizeof("file_system_type"), 8)
            name_addr = k.machine.alloc_kdata(len(name) + 1, 1)
            k.machine.write(name_addr, name.encode() + b"\0")
            wr(k, fs, "file_system_type.name", name_addr)
            self._append(fs)

    def chain(self) -> list[int]:
        """The list in order (walking ->next from file_systems)."""
        from kemu.errors import MemoryFault
        out, p = [], self.k.machine.read_u64(self.head)
        while p and len(out) < 4096:
            try:
                nxt = rd(self.k, p, "file_system_type.next")
                self.k.machine.read_u64(p)
            except MemoryFault:
                owner = self.owners.get(p)
                self.k.finding("use-after-free", f"the file_systems list reaches {p:#x}, freed "
                               "memory" + (f" of unloaded module {owner.name}" if owner else "")
                               + ": the kernel would oops walking it", owner)
                break
            out.append(p)
            p = nxt
        return out

    def _append(self, fs: int) -> None:
        chain = self.chain()
        if chain:
            wr(self.k, chain[-1], "file_system_type.next", fs)
        else:
            self.k.machine.write_u64(self.head, fs)

    def find(self, name: str) -> int:
        """find_filesystem(): the type called ``name``, or 0."""
        for fs in self.chain():
            if cstr(self.k, rd(self.k, fs, "file_system_type.name")) == name:
                return fs
        return 0


@export("int register_filesystem(struct file_system_type *fs)", fails="-EBUSY")
def register_filesystem(k, fs):
    model = k.model(FileSystems)
    name = cstr(k, rd(k, fs, "file_system_type.name"))
    if "." in name:
        from ..lib.kemu_warn import bug
        bug(k, "fs/filesystems.c:77")
    if rd(k, fs, "file_system_type.next") or fs in model.chain():
        return -errno.EBUSY
    if model.find(name):
        return -errno.EBUSY
    model._append(fs)
    from kemu.abi.toolkit import owner_of
    owner = owner_of(k, rd(k, fs, "file_system_type.owner"))
    model.owners[fs] = owner
    k.register("filesystem", fs, owner, f"filesystem {name}")
    return 0


@export("int unregister_filesystem(struct file_system_type *fs)")
def unregister_filesystem(k, fs):
    model = k.model(FileSystems)
    chain = model.chain()
    if fs not in chain:
        return -errno.EINVAL
    i = chain.index(fs)
    nxt = rd(k, fs, "file_system_type.next")
    if i == 0:
        k.machine.write_u64(model.head, nxt)
    else:
        wr(k, chain[i - 1], "file_system_type.next", nxt)
    wr(k, fs, "file_system_type.next", 0)
    model.owners.pop(fs, None)
    k.unregister("filesystem", fs)
    return 0


@export("struct file_system_type *get_fs_type(const char *name)")
def get_fs_type(k, name):
    from .open import module_get
    model = k.model(FileSystems)
    text = cstr(k, name)
    fs = model.find(text.split(".", 1)[0] if "." in text else text)
    if fs and not module_get(k, rd(k, fs, "file_system_type.owner")):
        fs = 0
    if fs and "." in text and not rd(k, fs, "file_system_type.fs_flags", 4) & \
            k.target.const("FS_HAS_SUBTYPE"):
        from .open import module_put
        module_put(k, rd(k, fs, "file_system_type.owner"))
        fs = 0
    return fs


def put_filesystem(k, fs):
    from .open import module_put
    module_put(k, rd(k, fs, "file_system_type.owner"))


def filesystems(k) -> list:
    """(name, fs_flags, owner module name or None) of every registered type, in order."""
    model = k.model(FileSystems)
    out = []
    for fs in model.chain():
        owner = model.owners.get(fs)
        out.append((cstr(k, rd(k, fs, "file_system_type.name")),
                    rd(k, fs, "file_system_type.fs_flags", 4), owner.name if owner else None))
    return out


def proc_filesystems(k) -> str:
    """/proc/filesystems: ``"%s\\t%s\\n"`` of "nodev" (no FS_REQUIRES_DEV) or "" and the name."""
    req = k.target.const("FS_REQUIRES_DEV")
    return "".join(f"{'' if flags & req else 'nodev'}\t{name}\n"
                   for name, flags, _owner in filesystems(k))
