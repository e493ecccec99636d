"""Typed errors. Each carries the kernel's errno where the kernel has one."""
from __future__ import annotations

import errno as _errno
import os

# insmod/rmmod (kmod 30) spell some errnos in their own words (mod_strerror).
_KMOD_WORDS = {
    _errno.ENOEXEC: "Invalid module format",
    _errno.ENOENT: "Unknown symbol in module",
    _errno.ESRCH: "Unknown symbol in module",
    _errno.EINVAL: "Invalid parameters",
}


def errno_name(err: int) -> str:
    """``ENODEV`` for 19 (sign ignored)."""
    return _errno.errorcode.get(abs(err), str(abs(err)))


def strerror(err: int) -> str:
    """The C library's text for an errno, as insmod prints it."""
    return os.strerror(abs(err))


def kmod_strerror(err: int) -> str:
    """What insmod says for a failed init_module(): its own words, else strerror."""
    return _KMOD_WORDS.get(abs(err), strerror(err))


class KemuError(Exception):
    """Base of every error kemu reports to a user. ``str()`` is one line."""
    errno = 0

    def __init__(self, message: str, errno: int | None = None):
        super().__init__(message)
        if errno is not None:
            self.errno = abs(errno)


class LoadError(KemuError):
    """load_module() failed; ``errno`` is what init_module(2) would return."""


class InitError(KemuError):
    """The module's init function returned a negative errno."""


class UsageError(KemuError):
    """Bad command-line input."""
    errno = _errno.EINVAL


class EmulationError(KemuError):
    """Module code faulted, locked up or otherwise could not run to completion."""
    errno = _errno.EFAULT

    def __init__(self, message: str, report: list[str] | None = None, errno: int | None = None):
        super().__init__(message, errno)
        self.report = report or []


class MemoryFault(EmulationError):
    """An access to an address that is not mapped, or not with that permission."""

    def __init__(self, addr: int, access: str, rip: int, message: str | None = None,
                 prot: bool = False):
        self.addr, self.access, self.rip = addr, access, rip
        self.prot = prot                # mapped, but not with that permission
        super().__init__(message or f"unable to handle page fault for address: {addr:#018x}")


class Lockup(EmulationError):
    """An entry ran past its wall-clock limit."""


class KernelBug(EmulationError):
    """The module hit BUG(), a failed stack check or another fatal kernel check."""
