"""x86_64 relocations as the kernel applies them (arch/x86/kernel/module.c).

One class per relocation type, named as the psABI names it, found through
:data:`RELOCATION_TYPES`. ``val = S + A``; PC-relative types subtract ``P``.
"""
from __future__ import annotations

U64 = (1 << 64) - 1


class Relocation:
    """Base: ``size`` bytes written at P, after the kernel's overflow check."""
    type = -1
    size = 0

    @staticmethod
    def value(s: int, a: int, p: int) -> int:
        """The value to store, as an unsigned 64-bit number."""
        return (s + a) & U64

    @staticmethod
    def overflows(val: int) -> bool:
        """True where the kernel would report 'overflow in relocation type'."""
        return False


class R_X86_64_NONE(Relocation):
    type, size = 0, 0


class R_X86_64_64(Relocation):
    type, size = 1, 8


class R_X86_64_PC32(Relocation):
    type, size = 2, 4

    @staticmethod
    def value(s, a, p):
        return (s + a - p) & U64


class R_X86_64_PLT32(R_X86_64_PC32):
    type = 4


class R_X86_64_32(Relocation):
    type, size = 10, 4

    @staticmethod
    def overflows(val):
        return val != val & 0xFFFFFFFF


class R_X86_64_32S(Relocation):
    type, size = 11, 4

    @staticmethod
    def overflows(val):
        low = val & 0xFFFFFFFF
        return val != (low - (1 << 32) if low >> 31 else low) & U64


class R_X86_64_PC64(Relocation):
    type, size = 24, 8

    @staticmethod
    def value(s, a, p):
        return (s + a - p) & U64


RELOCATION_TYPES = {cls.type: cls for cls in (
    R_X86_64_NONE, R_X86_64_64, R_X86_64_PC32, R_X86_64_PLT32,
    R_X86_64_32, R_X86_64_32S, R_X86_64_PC64)}
