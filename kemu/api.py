"""The user's side of a kernel: what a program does to it from outside once
modules are loaded (read and write /proc, open /dev nodes, send packets).

These are declared here, explicitly, so that help(), IDEs and type checkers see
them on :class:`~kemu.kernel.Kernel`; the kernel models that serve them
(stubs/fs/proc.py, stubs/drivers/base/core.py, stubs/net/netfilter/packet.py)
register their implementation with :func:`~kemu.exports.kernel_api`, as a
notifier would, so that kemu never imports its models.
"""
from __future__ import annotations

from .errors import KemuError
from .exports import API


def _served(name: str):
    fn = API.get(name)
    if fn is None:
        raise KemuError(f"no kernel model serves k.{name}() (stub packages not imported?)")
    return fn


class UserAPI:
    """Calls on a :class:`~kemu.kernel.Kernel` that act as a user program would."""

    def proc_read(self, path: str) -> bytes:
        """cat /proc/PATH: the whole content, read as cat(1) reads it."""
        return _served("proc_read")(self, path)

    def proc_write(self, path: str, data) -> int:
        """echo DATA > /proc/PATH: bytes written."""
        return _served("proc_write")(self, path, data)

    def open(self, path: str, flags: int | None = None):
        """open(2) of /dev/NAME or /proc/PATH: a file with read/write/ioctl/close.

        Opening a device takes a reference on the module that owns its
        file_operations, as the kernel does; the open fails with -ENODEV once the
        module is going away.
        """
        if path.startswith("/proc/"):
            return _served("proc_open")(self, path, flags or 0)
        return _served("dev_open")(self, path, flags)

    def listed_modules(self) -> set:
        """Names of the modules on the kernel's module list, as lsmod and
        /proc/modules see them (a module that unlinked itself is not there)."""
        return _served("listed_modules")(self)

    def packet(self, proto: str = "udp", src: str = "10.0.0.1", dst: str = "10.0.0.2",
               sport: int = 40000, dport: int = 53, payload: bytes = b"",
               hook: str = "LOCAL_IN"):
        """Pass an IPv4 packet through the netfilter hooks of one hook point
        (``kemu packet``); returns each hook's verdict."""
        return _served("packet")(self, proto=proto, src=src, dst=dst, sport=sport,
                                 dport=dport, payload=payload, hook=hook)
