"""The user's side of a kernel: what a program does to it from outside once
modules are loaded (read, write and list files under /proc, /sys, debugfs and
/dev, open them, map them, act as a process, send packets).

These are declared here, explicitly, so that help(), IDEs and type checkers see
them on :class:`~kemu.kernel.facade.Kernel`; the kernel models that serve them
(stubs/fs/proc.py, stubs/drivers/base/core.py, stubs/net/netfilter/packet.py)
register their implementation with :func:`~kemu.abi.exports.kernel_api`, as a
notifier would, so that kemu never imports its models.
"""
from __future__ import annotations

from kemu.errors import KemuError
from kemu.abi.exports import API


def _served(name: str):
    fn = API.get(name)
    if fn is None:
        raise KemuError(f"no kernel model serves k.{name}() (stub packages not imported?)")
    return fn


class UserAPI:
    """Calls on a :class:`~kemu.kernel.facade.Kernel` that act as a user program would."""

    def proc_read(self, path: str) -> bytes:
        """cat /proc/PATH: the whole content, read as cat(1) reads it."""
        return _served("proc_read")(self, path)

    def proc_write(self, path: str, data) -> int:
        """echo DATA > /proc/PATH: bytes written."""
        return _served("proc_write")(self, path, data)

    def open(self, path: str, flags: int | None = None):
        """open(2) of a file under /dev, /proc, /sys, /sys/kernel/debug or a mount: a file with
        read/write/ioctl/close, after the opener's permission check.

        Opening a device takes a reference on the module that owns its
        file_operations, as the kernel does; the open fails with -ENODEV once the
        module is going away.
        """
        if flags is None:
            flags = self.target.const("O_RDWR") if path.startswith("/dev/") else 0
        return _served("file_open")(self, path, flags)

    def read_file(self, path: str) -> bytes:
        """cat PATH for /proc, /sys (attributes, bin attributes, module parameters),
        /sys/kernel/debug and /dev: open, read until end of file, close."""
        return _served("read_file")(self, path)

    def write_file(self, path: str, data) -> int:
        """echo DATA > PATH on any of those trees: bytes written."""
        return _served("write_file")(self, path, data)

    def list_dir(self, path: str, all_names: bool = False, with_stat: bool = False) -> list:
        """ls PATH: DirEntry(name, mode) of each name below the directory; on a mounted
        filesystem ``all_names`` adds "." and ".." (ls -a) and ``with_stat`` looks each
        name up and stats it (``.stat``, as ls -l does; else the mode is getdents' type)."""
        return _served("list_dir")(self, path, all_names, with_stat)

    def attach(self, image: str, read_only: bool = False):
        """losetup -f [-r] IMAGE: the loop device (``.devpath`` /dev/loopN) now backed
        by the image file."""
        return _served("attach")(self, image, read_only)

    def detach(self, devpath: str) -> None:
        """losetup -d /dev/loopN (EBUSY while mounted)."""
        return _served("detach")(self, devpath)

    def mount(self, source: str, point: str, fstype: str, options: str = ""):
        """mount -t FSTYPE [-o OPTIONS] SOURCE POINT: SOURCE is /dev/loopN or an image
        file (attached as mount -o loop does); runs the filesystem's get_tree or mount
        and fill_super. Raises MountError (with the errno) when refused."""
        return _served("mount")(self, source, point, fstype, options)

    def umount(self, point: str) -> None:
        """umount POINT: the filesystem's kill_sb (put_super, inode eviction)."""
        return _served("umount")(self, point)

    def mounts(self) -> list:
        """The filesystems mounted with :meth:`mount`: (source, mount point, type,
        options) in mount order, as /proc/mounts lists them."""
        return _served("mounts")(self)

    def stat(self, path: str, follow: bool = True):
        """stat(2) of a path on a mounted filesystem (i_op->getattr or generic_fillattr):
        dev, ino, mode, nlink, uid, gid, size, blksize, blocks, atime/mtime/ctime."""
        return _served("stat")(self, path, follow)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        """mkdir(2) on a mounted filesystem (the directory's i_op->mkdir)."""
        return _served("mkdir")(self, path, mode)

    def unlink(self, path: str, directory: bool = False) -> None:
        """unlink(2), or rmdir(2) with ``directory``, on a mounted filesystem."""
        return _served("unlink")(self, path, directory)

    def sync(self) -> None:
        """sync(1): every mounted filesystem's dirty pages, inodes and buffers written."""
        return _served("sync")(self)

    def as_process(self, comm: str, uid: int = 0):
        """``with k.as_process("cat", uid=1000):`` module code entered inside runs for
        that process (current->comm, pid, credentials, mm)."""
        return _served("as_process")(self, comm, uid)

    def syscall(self, name: str, *args, uid: int = 0, comm: str = "sh"):
        """A system call made by a process ``comm`` of user ``uid``, through the target
        kernel's dispatch (x64_sys_call() or sys_call_table), kprobes on the call's
        function first: ``k.syscall("kill", 4242, 64).ret``; ``.shown`` is strace's line."""
        return _served("syscall")(self, name, *args, uid=uid, comm=comm)

    def syscalls(self, calls: list, uid: int = 0, comm: str = "sh") -> list:
        """Several system calls (``[("openat", "/proc/modules"), ("read", 3, 100)]``)
        made in order by one process; its descriptors are closed when it exits."""
        return _served("syscalls")(self, calls, uid=uid, comm=comm)

    def mmap_read(self, f, length: int, offset: int = 0) -> bytes:
        """mmap(2) of open file ``f`` (MAP_SHARED, PROT_READ), every byte read, munmap."""
        return _served("mmap_read")(self, f, length, offset)

    def listed_modules(self) -> set:
        """Names of the modules on the kernel's module list, as lsmod and
        /proc/modules see them (a module that unlinked itself is not there)."""
        return _served("listed_modules")(self)

    def kunit_results(self, mod=None) -> list:
        """The KUnit suites modules ran when they loaded (``mod``'s only, if given):
        each suite with its cases' results, as KTAP reported them."""
        return _served("kunit_results")(self, mod)

    def packet(self, proto: str = "udp", src: str = "10.0.0.1", dst: str = "10.0.0.2",
               sport: int = 40000, dport: int = 53, payload: bytes = b"",
               hook: str = "LOCAL_IN"):
        """Pass an IPv4 packet through the netfilter hooks of one hook point
        (``kemu packet``); returns each hook's verdict."""
        return _served("packet")(self, proto=proto, src=src, dst=dst, sport=sport,
                                 dport=dport, payload=payload, hook=hook)
