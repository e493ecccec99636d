"""kernel/panic.c's taint: taint_flags[], add_taint(), print_tainted(), and
kernel/module/main.c's add_taint_module() and module_flags_taint().

The one table of taint letters in kemu: the kernel's ``tainted_mask`` is a set of
letters here; the bit of a letter is its index in :data:`TAINT_FLAGS`. Left out:
panic_on_taint, and the per-CPU ``lockdep_ok`` reasons beyond the ones the
loader and rmmod -f pass.
"""
from __future__ import annotations

from typing import NamedTuple

from kemu.kernel.log import KERN_WARNING


class TaintFlag(NamedTuple):
    """One entry of taint_flags[]: the letter when set, when clear, and whether
    module_flags_taint() shows it for a module."""
    name: str
    c_true: str
    c_false: str
    module: bool


#: taint_flags[] in bit order (include/linux/panic.h TAINT_*), as 6.1 has it
TAINT_FLAGS = (
    TaintFlag("TAINT_PROPRIETARY_MODULE", "P", "G", True),
    TaintFlag("TAINT_FORCED_MODULE", "F", " ", True),
    TaintFlag("TAINT_CPU_OUT_OF_SPEC", "S", " ", False),
    TaintFlag("TAINT_FORCED_RMMOD", "R", " ", False),
    TaintFlag("TAINT_MACHINE_CHECK", "M", " ", False),
    TaintFlag("TAINT_BAD_PAGE", "B", " ", False),
    TaintFlag("TAINT_USER", "U", " ", False),
    TaintFlag("TAINT_DIE", "D", " ", False),
    TaintFlag("TAINT_OVERRIDDEN_ACPI_TABLE", "A", " ", False),
    TaintFlag("TAINT_WARN", "W", " ", False),
    TaintFlag("TAINT_CRAP", "C", " ", True),
    TaintFlag("TAINT_FIRMWARE_WORKAROUND", "I", " ", False),
    TaintFlag("TAINT_OOT_MODULE", "O", " ", True),
    TaintFlag("TAINT_UNSIGNED_MODULE", "E", " ", True),
    TaintFlag("TAINT_SOFTLOCKUP", "L", " ", False),
    TaintFlag("TAINT_LIVEPATCH", "K", " ", True),
    TaintFlag("TAINT_AUX", "X", " ", True),
    TaintFlag("TAINT_RANDSTRUCT", "T", " ", True),
    TaintFlag("TAINT_TEST", "N", " ", True),
)
#: letter -> bit
TAINT_BITS = {flag.c_true: bit for bit, flag in enumerate(TAINT_FLAGS)}
# taints added with LOCKDEP_NOW_UNRELIABLE by the module loader and rmmod -f
LOCKDEP_UNRELIABLE = frozenset("PFRD")


def taint_mask(letters) -> int:
    """The tainted_mask of a set of letters (/proc/sys/kernel/tainted)."""
    return sum(1 << TAINT_BITS[letter] for letter in letters)


def taint_letters(letters) -> str:
    """The letters of a set in bit order ("OE")."""
    return "".join(f.c_true for f in TAINT_FLAGS if f.c_true in letters)


def module_flags_taint(mod) -> str:
    """module_flags_taint(): the module's letters in bit order, e.g. 'OE'."""
    return "".join(f.c_true for f in TAINT_FLAGS if f.module and f.c_true in mod.taints)


class Taint:
    """The kernel's tainted_mask (``k.taints``, a set of letters)."""

    def __init__(self, k):
        self.k = k
        self.flags: set = set()

    def add(self, letter: str, lockdep_unreliable: bool | None = None) -> None:
        """add_taint(); the first taint that makes lockdep unreliable turns lock
        debugging off, with the kernel's message."""
        if lockdep_unreliable is None:
            lockdep_unreliable = letter in LOCKDEP_UNRELIABLE
        if lockdep_unreliable and self.k.debug_locks:
            self.k.debug_locks = False
            self.k.log.emit(KERN_WARNING, "Disabling lock debugging due to kernel taint")
        self.flags.add(letter)

    def add_module(self, mod, letter: str) -> None:
        """add_taint_module(): taint the kernel and the module."""
        self.add(letter)
        mod.taints.add(letter)

    def string(self) -> str:
        """print_tainted(): 'Not tainted' or 'Tainted: ' and the flags."""
        if not self.flags:
            return "Not tainted"
        return "Tainted: " + "".join(f.c_true if f.c_true in self.flags else f.c_false
                                     for f in TAINT_FLAGS)
