"""kernel/kmod.c: request_module().

The kernel runs ``modprobe -q -- NAME`` and waits for it. kemu does the same
against the kernel's module tree (``Kernel(modules=DIR)``, ``--modules DIR``,
``$KEMU_MODULES``): the matching modules, their dependencies and soft
dependencies are loaded and initialised in place, inside the calling hook.
The result is modprobe's wait status as call_usermodehelper() returns it:
0, or 256 for ``exit 1``. Without a tree the request fails with -ENOENT
and a note, as on a system without modprobe.
"""
import errno

from kemu import export

from .printk import vformat


def request_module(k, name: str):
    """A generator: ``ret = yield from request_module(k, "crypto-crc32c")``."""
    status = yield from k.kmod.request_module(name)
    if status is None:
        k.note(f"request_module({name}): kemu has no module tree (--modules DIR or "
               "$KEMU_MODULES); load it yourself first")
        return -errno.ENOENT
    return status << 8


@export("int __request_module(bool wait, const char *fmt, ...)")
def __request_module(k, wait, fmt, va):
    """Run "modprobe" on the formatted name; 0 when it succeeded."""
    name = vformat(k, fmt, va).decode("utf-8", "replace")
    return (yield from request_module(k, name))
