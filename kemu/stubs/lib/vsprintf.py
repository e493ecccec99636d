"""Python port of the Linux 6.1 ``lib/vsprintf.c`` formatting engine.

This module reproduces, byte for byte, what the kernel's ``vsnprintf()``
produces on x86_64 so that ``printk()`` output coming from emulated kernel
modules looks exactly like the output of a real 6.1 kernel.

The structure intentionally mirrors the C file: :func:`format_decode`,
:func:`number`, :func:`string`, :func:`widen_string`, :func:`pointer` and the
``%p`` extension helpers keep their C names (and their quirks).  Where the C
code writes into ``buf`` and advances the pointer, the Python helpers append
to a :class:`bytearray`.  Because the caller wants the *complete* output (as
``vsnprintf`` would produce with an unlimited buffer), the ``end`` pointer
and all truncation logic of the C code are gone.

Public entry point::

    format_string(fmt, args, mem, sym=None, va_format=None) -> bytes

Kernel configuration assumed (x86_64, 64-bit longs and pointers, 4 KiB
pages, little endian, ``CONFIG_KALLSYMS=y``, ``CONFIG_SYMBOLIC_ERRNAME=y``,
``CONFIG_OF=n``, ``CONFIG_RUST=n``, pointer hashing key already
initialised).  A few knobs are exposed as module-level variables below.

Behaviour that cannot be reproduced because it depends on kernel data
structures this module knows nothing about (``%pg`` block devices, ``%pC``
clocks, ``%pG`` page/vma/gfp flag names, ``%pfw`` fwnodes) falls back to
"check the pointer, then print it hashed" -- i.e. ``NULL`` still prints
``(null)`` like the kernel, anything else prints like ``%p``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional, Protocol, Tuple

__all__ = [
    "ArgReader",
    "MemReader",
    "Symbolizer",
    "format_string",
    "siphash_1u64",
    "errname",
    "PTR_KEY",
    "NO_HASH_POINTERS",
    "KPTR_RESTRICT",
    "LEGACY_PF_SYMBOLS",
]


# ---------------------------------------------------------------------------
# Caller-provided interfaces
# ---------------------------------------------------------------------------

class ArgReader(Protocol):
    """Source of the variadic arguments (provided by the caller)."""

    def next_int(self) -> int:
        """Return the next integer-class vararg as a raw unsigned 64-bit value."""
        ...


class MemReader(Protocol):
    """Access to emulated memory (provided by the caller)."""

    def read(self, addr: int, size: int) -> bytes:
        """Return ``size`` bytes at ``addr``; raise on a bad address."""
        ...


class Symbolizer(Protocol):
    """kallsyms replacement (provided by the caller, may be ``None``)."""

    def lookup(self, addr: int):
        """Return ``None`` or ``(name, offset, size, module_or_None)``."""
        ...


# ---------------------------------------------------------------------------
# Configuration knobs
# ---------------------------------------------------------------------------

#: siphash key used to hash ``%p`` pointers (``ptr_key`` in the kernel, a
#: ``siphash_key_t`` i.e. two native u64 words).  Fixed so output is
#: deterministic; override it if you need different hashes.
PTR_KEY: Tuple[int, int] = (0x6F6873616872746B, 0x79656B2D756D656B)

#: ``no_hash_pointers`` boot parameter: print plain ``%p`` unhashed.
NO_HASH_POINTERS = False

#: ``/proc/sys/kernel/kptr_restrict``.  0: ``%pK`` behaves like ``%p``.
#: 1 and 2: ``%pK`` prints zeros (1 assumes the caller lacks CAP_SYSLOG).
KPTR_RESTRICT = 0

#: Linux < 5.5 treated ``%pF``/``%pf`` like ``%pS``/``%ps``.  Linux 6.1 does
#: not: ``%pF`` is an unknown extension (hashed pointer) and ``%pf`` is the
#: fwnode extension (``(%pf?)`` unless followed by ``w``).  Set this to True
#: to get the legacy behaviour.
LEGACY_PF_SYMBOLS = False

#: Safety cap on how many bytes a single ``%s`` may read from memory when no
#: precision bounds it (the kernel would read until it finds a NUL).
STRING_READ_LIMIT = 1 << 20

#: Structure layouts (x86_64, Linux 6.1, no lockdep) used by ``%pd``/``%pD``.
DENTRY_D_PARENT_OFFSET = 24      # struct dentry.d_parent
DENTRY_D_NAME_NAME_OFFSET = 40   # struct dentry.d_name.name
FILE_F_PATH_DENTRY_OFFSET = 24   # struct file.f_path.dentry


# ---------------------------------------------------------------------------
# Constants and small integer helpers
# ---------------------------------------------------------------------------

MASK64 = (1 << 64) - 1
PAGE_SIZE = 4096
MAX_ERRNO = 4095
PTR_SIZE = 8  # sizeof(void *)

# printf_spec.flags
SIGN = 1      # unsigned/signed, must be 1
LEFT = 2      # left justified
PLUS = 4      # show plus
SPACE = 8     # space if plus
ZEROPAD = 16  # pad with zero, must be 16 == '0' - ' '
SMALL = 32    # use lowercase in hex (must be 32 == 0x20)
SPECIAL = 64  # prefix hex with "0x", octal with "0"

# enum format_type
FORMAT_TYPE_NONE = 0
FORMAT_TYPE_WIDTH = 1
FORMAT_TYPE_PRECISION = 2
FORMAT_TYPE_CHAR = 3
FORMAT_TYPE_STR = 4
FORMAT_TYPE_PTR = 5
FORMAT_TYPE_PERCENT_CHAR = 6
FORMAT_TYPE_INVALID = 7
FORMAT_TYPE_LONG_LONG = 8
FORMAT_TYPE_ULONG = 9
FORMAT_TYPE_LONG = 10
FORMAT_TYPE_UBYTE = 11
FORMAT_TYPE_BYTE = 12
FORMAT_TYPE_USHORT = 13
FORMAT_TYPE_SHORT = 14
FORMAT_TYPE_UINT = 15
FORMAT_TYPE_INT = 16
FORMAT_TYPE_SIZE_T = 17
FORMAT_TYPE_PTRDIFF = 18

FIELD_WIDTH_MAX = (1 << 23) - 1
PRECISION_MAX = (1 << 15) - 1


def _sext(value: int, bits: int) -> int:
    """Interpret the low ``bits`` bits of ``value`` as a two's complement number."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def _s8(v: int) -> int:
    return _sext(v, 8)


def _s16(v: int) -> int:
    return _sext(v, 16)


def _s24(v: int) -> int:
    return _sext(v, 24)


def _s32(v: int) -> int:
    return _sext(v, 32)


def _s64(v: int) -> int:
    return _sext(v, 64)


def _is_err_value(ptr: int) -> bool:
    """``IS_ERR_VALUE()``: the top 4095 addresses encode -errno values."""
    return (ptr & MASK64) >= (MASK64 + 1 - MAX_ERRNO)


# ---------------------------------------------------------------------------
# <linux/ctype.h>: the kernel's ctype table (Latin-1 aware!)
# ---------------------------------------------------------------------------

_U, _L, _D, _C, _P, _S, _X, _SP = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80


def _build_ctype() -> bytes:
    t = [0] * 256
    for c in range(32):
        t[c] = _C
    for c in (9, 10, 11, 12, 13):
        t[c] |= _S
    t[32] = _S | _SP
    for c in range(33, 127):
        if 0x30 <= c <= 0x39:
            t[c] = _D
        elif 0x41 <= c <= 0x5A:
            t[c] = _U | (_X if c <= 0x46 else 0)
        elif 0x61 <= c <= 0x7A:
            t[c] = _L | (_X if c <= 0x66 else 0)
        else:
            t[c] = _P
    t[127] = _C
    # 128-159 are 0 in the kernel table.
    t[160] = _S | _SP
    for c in range(161, 192):
        t[c] = _P
    for c in range(192, 256):
        t[c] = _U if c < 223 else _L
    t[215] = _P
    t[247] = _P
    return bytes(t)


_CTYPE = _build_ctype()


def isdigit(c: int) -> bool:
    """Kernel ``isdigit()`` (plain ASCII range check)."""
    return 0x30 <= c <= 0x39


def isalnum(c: int) -> bool:
    """Kernel ``isalnum()`` -- note: true for Latin-1 letters too."""
    return bool(_CTYPE[c & 0xFF] & (_U | _L | _D))


def isalpha(c: int) -> bool:
    """Kernel ``isalpha()``."""
    return bool(_CTYPE[c & 0xFF] & (_U | _L))


def isprint(c: int) -> bool:
    """Kernel ``isprint()``."""
    return bool(_CTYPE[c & 0xFF] & (_P | _U | _L | _D | _SP))


def isascii(c: int) -> bool:
    """Kernel ``isascii()``."""
    return (c & 0xFF) <= 0x7F


def _tolower(c: int) -> int:
    """Kernel ``_tolower()``: just sets bit 5."""
    return c | 0x20


# ---------------------------------------------------------------------------
# struct printf_spec
# ---------------------------------------------------------------------------

@dataclass
class Spec:
    """``struct printf_spec``: the decoded state of one conversion.

    ``field_width`` is a 24-bit and ``precision`` a 16-bit signed bitfield in
    the kernel; values written by :func:`format_decode` are truncated the
    same way.
    """

    type: int = FORMAT_TYPE_NONE
    field_width: int = 0
    flags: int = 0
    base: int = 0
    precision: int = 0

    def copy(self) -> "Spec":
        """Return a copy (C passes ``struct printf_spec`` by value)."""
        return replace(self)


DEFAULT_STR_SPEC = Spec(field_width=-1, precision=-1)
DEFAULT_FLAG_SPEC = Spec(base=16, precision=-1, flags=SPECIAL | SMALL)
DEFAULT_DEC_SPEC = Spec(base=10, precision=-1)
DEFAULT_DEC02_SPEC = Spec(base=10, field_width=2, precision=-1, flags=ZEROPAD)
DEFAULT_DEC04_SPEC = Spec(base=10, field_width=4, precision=-1, flags=ZEROPAD)


# ---------------------------------------------------------------------------
# Memory / symbol access context
# ---------------------------------------------------------------------------

class _Fault(Exception):
    """Raised internally when a fixed-size read from emulated memory fails."""


class _Ctx:
    """Bundles the caller's memory reader, symbolizer and ``%pV`` hook."""

    def __init__(self, mem: MemReader, sym: Optional[Symbolizer],
                 va_hook: Optional[Callable[[int], bytes]], version=(6, 1)):
        self.mem = mem
        self.sym = sym
        self.va_hook = va_hook
        self.version = version      # the kernel line's (MAJOR, PATCHLEVEL)

    def read(self, addr: int, size: int) -> bytes:
        """Read exactly ``size`` bytes or raise :class:`_Fault`."""
        if size <= 0:
            return b""
        if addr < 0 or addr + size > MASK64 + 1:
            raise _Fault(addr)
        try:
            data = bytes(self.mem.read(addr, size))
        except Exception as exc:  # any reader error is a fault
            raise _Fault(addr) from exc
        if len(data) != size:
            raise _Fault(addr)
        return data

    def read_uint(self, addr: int, size: int, byteorder: str = "little") -> int:
        """Read an unsigned integer of ``size`` bytes."""
        return int.from_bytes(self.read(addr, size), byteorder)

    def read_cstr(self, addr: int, limit: int) -> bytes:
        """Read a NUL-terminated string (without the NUL), at most ``limit`` bytes.

        Reads in chunks that never cross a 256-byte boundary; if a chunk
        faults, it is re-read byte by byte so the string stops exactly at
        the first unreadable byte (the kernel would oops there; we stop).
        """
        out = bytearray()
        while len(out) < limit:
            chunk = min(limit - len(out), 256 - (addr & 0xFF))
            try:
                data = self.read(addr, chunk)
            except _Fault:
                data = bytearray()
                for k in range(chunk):
                    try:
                        data += self.read(addr + k, 1)
                    except _Fault:
                        break
                nul = data.find(0)
                out += data if nul < 0 else data[:nul]
                return bytes(out)
            nul = data.find(0)
            if nul >= 0:
                out += data[:nul]
                return bytes(out)
            out += data
            addr += chunk
        return bytes(out)

    def lookup(self, addr: int):
        """kallsyms lookup through the symbolizer; ``None`` when unknown."""
        if self.sym is None:
            return None
        try:
            return self.sym.lookup(addr)
        except Exception:
            return None


def _to_bytes(s) -> bytes:
    if isinstance(s, (bytes, bytearray)):
        return bytes(s)
    return str(s).encode("utf-8", "surrogateescape")


# ---------------------------------------------------------------------------
# siphash (lib/siphash.c) -- SipHash-2-4 as used by siphash_1u64()
# ---------------------------------------------------------------------------

def _rol64(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & MASK64


def _sipround(v0: int, v1: int, v2: int, v3: int):
    v0 = (v0 + v1) & MASK64
    v1 = _rol64(v1, 13) ^ v0
    v0 = _rol64(v0, 32)
    v2 = (v2 + v3) & MASK64
    v3 = _rol64(v3, 16) ^ v2
    v0 = (v0 + v3) & MASK64
    v3 = _rol64(v3, 21) ^ v0
    v2 = (v2 + v1) & MASK64
    v1 = _rol64(v1, 17) ^ v2
    v2 = _rol64(v2, 32)
    return v0, v1, v2, v3


def siphash_1u64(first: int, key: Tuple[int, int]) -> int:
    """Kernel ``siphash_1u64()``: SipHash-2-4 of one little-endian u64 word."""
    k0, k1 = key[0] & MASK64, key[1] & MASK64
    first &= MASK64
    v0 = 0x736F6D6570736575 ^ k0
    v1 = 0x646F72616E646F6D ^ k1
    v2 = 0x6C7967656E657261 ^ k0
    v3 = 0x7465646279746573 ^ k1
    b = 8 << 56
    v3 ^= first
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= first
    # POSTAMBLE
    v3 ^= b
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
    return (v0 ^ v1) ^ (v2 ^ v3)


# ---------------------------------------------------------------------------
# lib/errname.c (x86_64 errno values)
# ---------------------------------------------------------------------------

_ERRNO_NAMES = {
    1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO",
    7: "E2BIG", 8: "ENOEXEC", 9: "EBADF", 10: "ECHILD", 11: "EAGAIN",
    12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 15: "ENOTBLK", 16: "EBUSY",
    17: "EEXIST", 18: "EXDEV", 19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR",
    22: "EINVAL", 23: "ENFILE", 24: "EMFILE", 25: "ENOTTY", 26: "ETXTBSY",
    27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK",
    32: "EPIPE", 33: "EDOM", 34: "ERANGE", 35: "EDEADLK",
    36: "ENAMETOOLONG", 37: "ENOLCK", 38: "ENOSYS", 39: "ENOTEMPTY",
    40: "ELOOP", 42: "ENOMSG", 43: "EIDRM", 44: "ECHRNG", 45: "EL2NSYNC",
    46: "EL3HLT", 47: "EL3RST", 48: "ELNRNG", 49: "EUNATCH", 50: "ENOCSI",
    51: "EL2HLT", 52: "EBADE", 53: "EBADR", 54: "EXFULL", 55: "ENOANO",
    56: "EBADRQC", 57: "EBADSLT", 59: "EBFONT", 60: "ENOSTR", 61: "ENODATA",
    62: "ETIME", 63: "ENOSR", 64: "ENONET", 65: "ENOPKG", 66: "EREMOTE",
    67: "ENOLINK", 68: "EADV", 69: "ESRMNT", 70: "ECOMM", 71: "EPROTO",
    72: "EMULTIHOP", 73: "EDOTDOT", 74: "EBADMSG", 75: "EOVERFLOW",
    76: "ENOTUNIQ", 77: "EBADFD", 78: "EREMCHG", 79: "ELIBACC",
    80: "ELIBBAD", 81: "ELIBSCN", 82: "ELIBMAX", 83: "ELIBEXEC",
    84: "EILSEQ", 85: "ERESTART", 86: "ESTRPIPE", 87: "EUSERS",
    88: "ENOTSOCK", 89: "EDESTADDRREQ", 90: "EMSGSIZE", 91: "EPROTOTYPE",
    92: "ENOPROTOOPT", 93: "EPROTONOSUPPORT", 94: "ESOCKTNOSUPPORT",
    95: "EOPNOTSUPP", 96: "EPFNOSUPPORT", 97: "EAFNOSUPPORT",
    98: "EADDRINUSE", 99: "EADDRNOTAVAIL", 100: "ENETDOWN",
    101: "ENETUNREACH", 102: "ENETRESET", 103: "ECONNABORTED",
    104: "ECONNRESET", 105: "ENOBUFS", 106: "EISCONN", 107: "ENOTCONN",
    108: "ESHUTDOWN", 109: "ETOOMANYREFS", 110: "ETIMEDOUT",
    111: "ECONNREFUSED", 112: "EHOSTDOWN", 113: "EHOSTUNREACH",
    114: "EALREADY", 115: "EINPROGRESS", 116: "ESTALE", 117: "EUCLEAN",
    118: "ENOTNAM", 119: "ENAVAIL", 120: "EISNAM", 121: "EREMOTEIO",
    122: "EDQUOT", 123: "ENOMEDIUM", 124: "EMEDIUMTYPE", 125: "ECANCELED",
    126: "ENOKEY", 127: "EKEYEXPIRED", 128: "EKEYREVOKED",
    129: "EKEYREJECTED", 130: "EOWNERDEAD", 131: "ENOTRECOVERABLE",
    132: "ERFKILL", 133: "EHWPOISON",
    # kernel-internal errnos (include/linux/errno.h), names_512[]
    512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND",
    515: "ENOIOCTLCMD", 516: "ERESTART_RESTARTBLOCK", 517: "EPROBE_DEFER",
    518: "EOPENSTALE", 519: "ENOPARAM", 521: "EBADHANDLE", 522: "ENOTSYNC",
    523: "EBADCOOKIE", 524: "ENOTSUPP", 525: "ETOOSMALL",
    526: "ESERVERFAULT", 527: "EBADTYPE", 528: "EJUKEBOX",
    529: "EIOCBQUEUED", 530: "ERECALLCONFLICT",
}


def errname(err: int) -> Optional[str]:
    """``errname()``: ``-ENOMEM`` for -12, ``ENOMEM`` for 12, ``None`` if unknown."""
    name = _ERRNO_NAMES.get(abs(err))
    if name is None:
        return None
    return name if err > 0 else "-" + name


# ---------------------------------------------------------------------------
# Core helpers: number(), string(), widen_string() ...
# ---------------------------------------------------------------------------

def _digits(num: int, base: int, locase: int) -> bytes:
    """Digits of ``num`` in ``base`` (most significant first), like tmp[] in number()."""
    if base == 16:
        s = format(num, "X")
        return s.lower().encode() if locase else s.encode()
    if base == 8:
        return format(num, "o").encode()
    return str(num).encode()


def number(buf: bytearray, num: int, spec: Spec) -> None:
    """Port of ``number()``: format an integer with sign, prefix and padding.

    Linux specifics preserved: ``%#x`` of 0 prints ``0x0``; ``%#o`` of 0
    prints ``0``; a zero value always prints at least one digit even with
    precision 0; the ``0`` flag is honoured even when a precision is given.
    """
    num &= MASK64
    flags = spec.flags
    base = spec.base
    need_pfx = bool(flags & SPECIAL) and base != 10
    is_zero = num == 0
    field_width = spec.field_width
    precision = spec.precision

    locase = flags & SMALL
    if flags & LEFT:
        flags &= ~ZEROPAD
    sign = b""
    if flags & SIGN:
        if num >> 63:
            sign = b"-"
            num = (-num) & MASK64
            field_width -= 1
        elif flags & PLUS:
            sign = b"+"
            field_width -= 1
        elif flags & SPACE:
            sign = b" "
            field_width -= 1
    if need_pfx:
        if base == 16:
            field_width -= 2
        elif not is_zero:
            field_width -= 1

    tmp = _digits(num, base, locase)
    i = len(tmp)

    # printing 100 using %2d gives "100", not "00"
    if i > precision:
        precision = i
    # leading space padding
    field_width -= precision
    if not flags & (ZEROPAD | LEFT):
        buf += b" " * max(field_width, 0)
        field_width = -1
    # sign
    buf += sign
    # "0x" / "0" prefix
    if need_pfx:
        if base == 16 or not is_zero:
            buf += b"0"
        if base == 16:
            buf.append(ord("X") | locase)
    # zero or space padding
    if not flags & LEFT:
        buf += (b"0" if flags & ZEROPAD else b" ") * max(field_width, 0)
        field_width = -1
    # hmm even more zero padding?
    buf += b"0" * (precision - i)
    # actual digits of result
    buf += tmp
    # trailing space padding
    buf += b" " * max(field_width, 0)


def special_hex_number(buf: bytearray, num: int, size: int) -> None:
    """Port of ``special_hex_number()``: ``0x`` + ``2*size`` zero-padded hex digits."""
    spec = Spec(type=FORMAT_TYPE_PTR, field_width=2 + 2 * size,
                flags=SPECIAL | SMALL | ZEROPAD, base=16, precision=-1)
    number(buf, num, spec)


def widen_string(buf: bytearray, n: int, spec: Spec) -> None:
    """Port of ``widen_string()``: pad the last ``n`` bytes of ``buf`` to the field width."""
    if n >= spec.field_width:
        return
    spaces = spec.field_width - n
    if not spec.flags & LEFT:
        pos = len(buf) - n  # move_right()
        buf[pos:pos] = b" " * spaces
        return
    buf += b" " * spaces


def string_nocheck(buf: bytearray, s: bytes, spec: Spec) -> None:
    """Port of ``string_nocheck()``: copy up to ``precision`` chars, stop at NUL, widen."""
    nul = s.find(0)
    if nul >= 0:
        s = s[:nul]
    if spec.precision >= 0:
        s = s[:spec.precision]
    buf += s
    widen_string(buf, len(s), spec)


def error_string(buf: bytearray, s: bytes, spec: Spec) -> None:
    """Port of ``error_string()``: like string_nocheck, precision defaults to 16."""
    if spec.precision == -1:
        spec = spec.copy()
        spec.precision = 2 * PTR_SIZE
    string_nocheck(buf, s, spec)


def check_pointer_msg(ptr: int) -> Optional[bytes]:
    """Port of ``check_pointer_msg()``."""
    if not ptr:
        return b"(null)"
    if ptr < PAGE_SIZE or _is_err_value(ptr):
        return b"(efault)"
    return None


def check_pointer(buf: bytearray, ptr: int, spec: Spec) -> bool:
    """Port of ``check_pointer()``: print ``(null)``/``(efault)`` and return True if bad."""
    msg = check_pointer_msg(ptr)
    if msg is not None:
        error_string(buf, msg, spec)
        return True
    return False


def string(ctx: _Ctx, buf: bytearray, ptr: int, spec: Spec) -> None:
    """Port of ``string()`` for a string living in emulated memory.

    The read is bounded by the precision; a fault in the middle of the
    string ends it there.
    """
    if check_pointer(buf, ptr, spec):
        return
    limit = spec.precision if spec.precision >= 0 else STRING_READ_LIMIT
    string_nocheck(buf, ctx.read_cstr(ptr, limit), spec)


def pointer_string(buf: bytearray, ptr: int, spec: Spec) -> None:
    """Port of ``pointer_string()``: the raw pointer in hex, 16 digits by default."""
    spec = spec.copy()
    spec.base = 16
    spec.flags |= SMALL
    if spec.field_width == -1:
        spec.field_width = 2 * PTR_SIZE
        spec.flags |= ZEROPAD
    number(buf, ptr, spec)


def ptr_to_id(buf: bytearray, ptr: int, spec: Spec) -> None:
    """Port of ``ptr_to_id()``: print the low 32 bits of siphash(ptr).

    NULL and ERR_PTR values are not secret and are printed as they are.
    """
    if not ptr or _is_err_value(ptr):
        pointer_string(buf, ptr, spec)
        return
    hashval = siphash_1u64(ptr, PTR_KEY) & 0xFFFFFFFF
    pointer_string(buf, hashval, spec)


def default_pointer(buf: bytearray, ptr: int, spec: Spec) -> None:
    """Port of ``default_pointer()``: hashed unless ``no_hash_pointers``."""
    if NO_HASH_POINTERS:
        pointer_string(buf, ptr, spec)
    else:
        ptr_to_id(buf, ptr, spec)


def _hex_byte(b: int) -> bytes:
    return b"%02x" % b


# ---------------------------------------------------------------------------
# %p extensions.  Every handler has the signature
#     handler(ctx, buf, fmt, ptr, spec)
# where ``fmt`` starts at the extension character (``fmt[0]`` is the char
# after 'p'; the bytes are NUL padded so peeking ahead is always safe).
# ---------------------------------------------------------------------------

def _unsupported(ctx, buf, fmt, ptr, spec):
    """Extensions needing kernel objects we cannot decode: check, then hash."""
    if check_pointer(buf, ptr, spec):
        return
    _default_pointer_ext(ctx, buf, fmt, ptr, spec)


# 5.10's ptr_to_id() before its siphash key is filled (Line.ptr_key_waits_for_crng)
PTRVAL = b"(____ptrval____)"
PTR_KEY_AT_BOOT = (6, 1)


def _default_pointer_ext(ctx, buf, fmt, ptr, spec):
    if ctx.version < PTR_KEY_AT_BOOT and not NO_HASH_POINTERS and ptr and \
            not _is_err_value(ptr):
        spec.field_width = 2 * PTR_SIZE
        error_string(buf, PTRVAL, spec)
        return
    default_pointer(buf, ptr, spec)


def _pointer_string_ext(ctx, buf, fmt, ptr, spec):
    pointer_string(buf, ptr, spec)


def _sprint_symbol(ctx: _Ctx, address: int, symbol_offset: int, add_offset: bool) -> bytes:
    """Port of ``__sprint_symbol()`` (kernel/kallsyms.c); no build ids."""
    address = (address + symbol_offset) & MASK64
    hit = ctx.lookup(address)
    if not hit:
        return b"0x%x" % ((address - symbol_offset) & MASK64)
    name, offset, size, module = hit
    text = bytearray(_to_bytes(name))
    offset = (offset - symbol_offset) & MASK64
    if add_offset:
        text += b"+%#x/%#x" % (offset, size & MASK64)
    if module is not None:
        text += b" [" + _to_bytes(module) + b"]"
    return bytes(text)


def symbol_string(ctx, buf, fmt, ptr, spec):
    """``%pS %ps %pB %pSR %pSb ...``: symbolic pointers via the Symbolizer."""
    c0 = fmt[0]
    if c0 == ord("B"):                      # sprint_backtrace[_build_id]
        text = _sprint_symbol(ctx, ptr, -1, True)
    elif c0 == ord("s") or (LEGACY_PF_SYMBOLS and c0 == ord("f")):
        text = _sprint_symbol(ctx, ptr, 0, False)  # sprint_symbol_no_offset
    else:                                   # sprint_symbol[_build_id]
        text = _sprint_symbol(ctx, ptr, 0, True)
    string_nocheck(buf, text, spec)


_IORESOURCE_IO = 0x00000100
_IORESOURCE_MEM = 0x00000200
_IORESOURCE_IRQ = 0x00000400
_IORESOURCE_DMA = 0x00000800
_IORESOURCE_BUS = 0x00001000
_IORESOURCE_PREFETCH = 0x00002000
_IORESOURCE_MEM_64 = 0x00100000
_IORESOURCE_WINDOW = 0x00200000
_IORESOURCE_DISABLED = 0x10000000
_IORESOURCE_UNSET = 0x20000000

_IO_SPEC = Spec(base=16, field_width=6, precision=-1, flags=SPECIAL | SMALL | ZEROPAD)
_MEM_SPEC = Spec(base=16, field_width=10, precision=-1, flags=SPECIAL | SMALL | ZEROPAD)
_BUS_SPEC = Spec(base=16, field_width=2, precision=-1, flags=SMALL | ZEROPAD)
_RES_STR_SPEC = Spec(field_width=-1, precision=10, flags=LEFT)


def resource_string(ctx, buf, fmt, ptr, spec):
    """``%pR`` (decoded) / ``%pr`` (raw) ``struct resource``."""
    decode = fmt[0] == ord("R")
    if check_pointer(buf, ptr, spec):
        return
    start = ctx.read_uint(ptr, 8)
    end = ctx.read_uint(ptr + 8, 8)
    flags = ctx.read_uint(ptr + 24, 8)

    sym = bytearray(b"[")
    if flags & _IORESOURCE_IO:
        string_nocheck(sym, b"io  ", _RES_STR_SPEC)
        specp = _IO_SPEC
    elif flags & _IORESOURCE_MEM:
        string_nocheck(sym, b"mem ", _RES_STR_SPEC)
        specp = _MEM_SPEC
    elif flags & _IORESOURCE_IRQ:
        string_nocheck(sym, b"irq ", _RES_STR_SPEC)
        specp = DEFAULT_DEC_SPEC
    elif flags & _IORESOURCE_DMA:
        string_nocheck(sym, b"dma ", _RES_STR_SPEC)
        specp = DEFAULT_DEC_SPEC
    elif flags & _IORESOURCE_BUS:
        string_nocheck(sym, b"bus ", _RES_STR_SPEC)
        specp = _BUS_SPEC
    else:
        string_nocheck(sym, b"??? ", _RES_STR_SPEC)
        specp = _MEM_SPEC
        decode = False
    if decode and flags & _IORESOURCE_UNSET:
        string_nocheck(sym, b"size ", _RES_STR_SPEC)
        number(sym, (end - start + 1) & MASK64, specp)
    else:
        number(sym, start, specp)
        if start != end:
            sym += b"-"
            number(sym, end, specp)
    if decode:
        if flags & _IORESOURCE_MEM_64:
            string_nocheck(sym, b" 64bit", _RES_STR_SPEC)
        if flags & _IORESOURCE_PREFETCH:
            string_nocheck(sym, b" pref", _RES_STR_SPEC)
        if flags & _IORESOURCE_WINDOW:
            string_nocheck(sym, b" window", _RES_STR_SPEC)
        if flags & _IORESOURCE_DISABLED:
            string_nocheck(sym, b" disabled", _RES_STR_SPEC)
    else:
        string_nocheck(sym, b" flags ", _RES_STR_SPEC)
        number(sym, flags, DEFAULT_FLAG_SPEC)
    sym += b"]"
    string_nocheck(buf, bytes(sym), spec)


def hex_string(ctx, buf, fmt, ptr, spec):
    """``%*ph[CDN]``: up to 64 bytes as hex; the field width is the byte count."""
    if spec.field_width == 0:
        return  # nothing to print
    if check_pointer(buf, ptr, spec):
        return
    separator = {ord("C"): b":", ord("D"): b"-", ord("N"): b""}.get(fmt[1], b" ")
    length = min(spec.field_width, 64) if spec.field_width > 0 else 1
    data = ctx.read(ptr, length)
    buf += separator.join(_hex_byte(b) for b in data)


def _bitmap_word(ctx: _Ctx, ptr: int, word: int) -> int:
    return ctx.read_uint(ptr + 8 * word, 8)


def bitmap_string(ctx, buf, fmt, ptr, spec):
    """``%*pb``: bitmap as comma-separated 32-bit hex chunks (width = nr bits)."""
    chunk_bits = 32
    nr_bits = max(spec.field_width, 0)
    if check_pointer(buf, ptr, spec):
        return
    nspec = Spec(flags=SMALL | ZEROPAD, base=16)  # precision 0, like the C code
    chunksz = nr_bits & (chunk_bits - 1)
    if chunksz == 0:
        chunksz = chunk_bits
    i = ((nr_bits + chunk_bits - 1) // chunk_bits) * chunk_bits - chunk_bits
    first = True
    while i >= 0:
        chunkmask = (1 << chunksz) - 1
        val = (_bitmap_word(ctx, ptr, i // 64) >> (i % 64)) & chunkmask
        if not first:
            buf += b","
        first = False
        nspec.field_width = (chunksz + 3) // 4
        number(buf, val, nspec)
        chunksz = chunk_bits
        i -= chunk_bits


def bitmap_list_string(ctx, buf, fmt, ptr, spec):
    """``%*pbl``: bitmap as a range list such as ``0-3,8``."""
    nr_bits = max(spec.field_width, 0)
    if check_pointer(buf, ptr, spec):
        return
    words = {}

    def test_bit(n: int) -> bool:
        w = n // 64
        if w not in words:
            words[w] = _bitmap_word(ctx, ptr, w)
        return bool((words[w] >> (n % 64)) & 1)

    first = True
    bit = 0
    while bit < nr_bits:
        if not test_bit(bit):
            bit += 1
            continue
        rbot = bit
        while bit < nr_bits and test_bit(bit):
            bit += 1
        rtop = bit  # exclusive, like for_each_set_bitrange()
        if not first:
            buf += b","
        first = False
        number(buf, rbot, DEFAULT_DEC_SPEC)
        if rtop != rbot + 1:
            buf += b"-"
            number(buf, rtop - 1, DEFAULT_DEC_SPEC)


def mac_address_string(ctx, buf, fmt, ptr, spec):
    """``%pM %pMR %pMF %pm %pmR``: 6-byte MAC addresses."""
    if check_pointer(buf, ptr, spec):
        return
    reversed_ = fmt[1] == ord("R")
    separator = b"-" if fmt[1] == ord("F") else b":"
    addr = ctx.read(ptr, 6)
    if reversed_:
        addr = addr[::-1]
    if fmt[0] != ord("M"):
        separator = b""
    string_nocheck(buf, separator.join(_hex_byte(b) for b in addr), spec)


def ip4_string(addr: bytes, fmt: bytes) -> bytes:
    """Port of ``ip4_string()``; ``fmt`` is e.g. ``b"I4"``, ``b"i4h"``."""
    fmt = fmt + b"\0\0\0"
    leading_zeros = fmt[0] == ord("i")
    order = fmt[2]
    if order in (ord("h"), ord("l")):  # host order is little endian on x86
        index, step = 3, -1
    else:                              # 'n', 'b' and default
        index, step = 0, 1
    parts = []
    for _ in range(4):
        digits = str(addr[index])
        if leading_zeros:
            digits = digits.rjust(3, "0")
        parts.append(digits)
        index += step
    return ".".join(parts).encode()


def _ipv6_addr_v4mapped(a: bytes) -> bool:
    return a[:10] == b"\0" * 10 and a[10:12] == b"\xff\xff"


def _ipv6_addr_is_isatap(a: bytes) -> bool:
    return (int.from_bytes(a[8:12], "big") | 0x02000000) == 0x02005EFE


def ip6_compressed_string(addr: bytes) -> bytes:
    """Port of ``ip6_compressed_string()`` (RFC 5952 style ``%pI6c``)."""
    use_ipv4 = _ipv6_addr_v4mapped(addr) or _ipv6_addr_is_isatap(addr)
    rng = 6 if use_ipv4 else 8
    words = [int.from_bytes(addr[2 * k:2 * k + 2], "big") for k in range(8)]

    # find position of longest 0 run
    zerolength = [0] * 8
    for i in range(rng):
        for j in range(i, rng):
            if words[j] != 0:
                break
            zerolength[i] += 1
    longest, colonpos = 1, -1
    for i in range(rng):
        if zerolength[i] > longest:
            longest = zerolength[i]
            colonpos = i
    if longest == 1:  # don't compress a single 0
        colonpos = -1

    out = bytearray()
    needcolon = False
    i = 0
    while i < rng:
        if i == colonpos:
            if needcolon or i == 0:
                out += b":"
            out += b":"
            needcolon = False
            i += longest
            continue
        if needcolon:
            out += b":"
        out += b"%x" % words[i]  # hex u16 without leading 0s
        needcolon = True
        i += 1
    if use_ipv4:
        if needcolon:
            out += b":"
        out += ip4_string(addr[12:16], b"I4")
    return bytes(out)


def ip6_string(addr: bytes, fmt: bytes) -> bytes:
    """Port of ``ip6_string()``: full form, with colons only for ``I``."""
    sep = b":" if fmt[0] == ord("I") else b""
    return sep.join(addr[2 * k:2 * k + 2].hex().encode() for k in range(8))


def _ip6_addr_string(ctx, buf, fmt, ptr, spec):
    addr = ctx.read(ptr, 16)
    if fmt[0] == ord("I") and fmt[2] == ord("c"):
        text = ip6_compressed_string(addr)
    else:
        text = ip6_string(addr, fmt)
    string_nocheck(buf, text, spec)


def _ip4_addr_string(ctx, buf, fmt, ptr, spec):
    string_nocheck(buf, ip4_string(ctx.read(ptr, 4), fmt[:3]), spec)


def _ip6_addr_string_sa(ctx, buf, fmt, ptr, spec):
    """``%pIS`` for ``struct sockaddr_in6`` with optional ``[pfsc]`` flags."""
    have_p = have_s = have_f = have_c = False
    j = 2
    while isalpha(fmt[j]):
        c = chr(fmt[j])
        have_p |= c == "p"
        have_f |= c == "f"
        have_s |= c == "s"
        have_c |= c == "c"
        j += 1
    port = ctx.read_uint(ptr + 2, 2, "big")
    flowinfo = ctx.read_uint(ptr + 4, 4, "big") & 0x0FFFFFFF
    addr = ctx.read(ptr + 8, 16)
    scope_id = ctx.read_uint(ptr + 24, 4)

    out = bytearray()
    bracket = have_p or have_s or have_f
    if bracket:
        out += b"["
    if fmt[0] == ord("I") and have_c:
        out += ip6_compressed_string(addr)
    else:
        out += ip6_string(addr, bytes([fmt[0], ord("6")]))
    if bracket:
        out += b"]"
    if have_p:
        out += b":"
        number(out, port, spec)
    if have_f:
        out += b"/"
        number(out, flowinfo, spec)
    if have_s:
        out += b"%"
        number(out, scope_id, spec)
    string_nocheck(buf, bytes(out), spec)


def _ip4_addr_string_sa(ctx, buf, fmt, ptr, spec):
    """``%pIS`` for ``struct sockaddr_in`` with optional ``p`` and ``[hnbl]``."""
    have_p = False
    fmt4 = bytearray([fmt[0], ord("4"), 0])
    j = 2
    while isalpha(fmt[j]):
        c = fmt[j]
        if c == ord("p"):
            have_p = True
        elif c in b"hlnb":
            fmt4[2] = c
        j += 1
    port = ctx.read_uint(ptr + 2, 2, "big")
    out = bytearray(ip4_string(ctx.read(ptr + 4, 4), bytes(fmt4)))
    if have_p:
        out += b":"
        number(out, port, spec)
    string_nocheck(buf, bytes(out), spec)


_AF_INET = 2
_AF_INET6 = 10


def ip_addr_string(ctx, buf, fmt, ptr, spec):
    """``%pI4 %pi4 %pI6 %pi6 %pI6c %pIS...``: IP addresses."""
    if check_pointer(buf, ptr, spec):
        return
    kind = fmt[1]
    if kind == ord("6"):
        _ip6_addr_string(ctx, buf, fmt, ptr, spec)
    elif kind == ord("4"):
        _ip4_addr_string(ctx, buf, fmt, ptr, spec)
    elif kind == ord("S"):
        family = ctx.read_uint(ptr, 2)
        if family == _AF_INET:
            _ip4_addr_string_sa(ctx, buf, fmt, ptr, spec)
        elif family == _AF_INET6:
            _ip6_addr_string_sa(ctx, buf, fmt, ptr, spec)
        else:
            error_string(buf, b"(einval)", spec)
    else:
        error_string(buf, b"(%pi?)" if fmt[0] == ord("i") else b"(%pI?)", spec)


# include/linux/string_helpers.h
ESCAPE_SPACE = 0x01
ESCAPE_SPECIAL = 0x02
ESCAPE_NULL = 0x04
ESCAPE_OCTAL = 0x08
ESCAPE_ANY = ESCAPE_SPACE | ESCAPE_OCTAL | ESCAPE_SPECIAL | ESCAPE_NULL
ESCAPE_NP = 0x10
ESCAPE_ANY_NP = ESCAPE_ANY | ESCAPE_NP
ESCAPE_HEX = 0x20
ESCAPE_NA = 0x40
ESCAPE_NAP = 0x80
ESCAPE_APPEND = 0x100

_ESCAPE_SPACE_MAP = {0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x0B: b"\\v", 0x0C: b"\\f"}
_ESCAPE_SPECIAL_MAP = {0x5C: b"\\\\", 0x07: b"\\a", 0x1B: b"\\e", 0x22: b'\\"'}


def string_escape_mem(src: bytes, flags: int, only: bytes | None = None) -> bytes:
    """Port of ``string_escape_mem()`` (lib/string_helpers.c), the whole output.

    ``only`` limits escaping to those bytes (ESCAPE_APPEND: escape them as well).
    """
    out = bytearray()
    is_dict = bool(only)
    is_append = bool(flags & ESCAPE_APPEND)
    for c in src:
        in_dict = is_dict and c in only
        if not (is_append or in_dict) and is_dict:
            out.append(c)
        elif not (is_append and in_dict) and isascii(c) and isprint(c) and flags & ESCAPE_NAP:
            out.append(c)
        elif not (is_append and in_dict) and isprint(c) and flags & ESCAPE_NP:
            out.append(c)
        elif not (is_append and in_dict) and isascii(c) and flags & ESCAPE_NA:
            out.append(c)
        elif flags & ESCAPE_SPACE and c in _ESCAPE_SPACE_MAP:
            out += _ESCAPE_SPACE_MAP[c]
        elif flags & ESCAPE_SPECIAL and c in _ESCAPE_SPECIAL_MAP:
            out += _ESCAPE_SPECIAL_MAP[c]
        elif flags & ESCAPE_NULL and c == 0:
            out += b"\\0"
        elif flags & ESCAPE_OCTAL:
            out += b"\\%03o" % c
        elif flags & ESCAPE_HEX:
            out += b"\\x%02x" % c
        else:
            out.append(c)
    return bytes(out)


_ESCAPE_FLAG_CHARS = {
    ord("a"): ESCAPE_ANY, ord("c"): ESCAPE_SPECIAL, ord("h"): ESCAPE_HEX,
    ord("n"): ESCAPE_NULL, ord("o"): ESCAPE_OCTAL, ord("p"): ESCAPE_NP,
    ord("s"): ESCAPE_SPACE,
}


def escaped_string(ctx, buf, fmt, ptr, spec):
    """``%*pE[achnops]``: escaped buffer of field-width bytes (1 by default)."""
    if spec.field_width == 0:
        return  # nothing to print
    if check_pointer(buf, ptr, spec):
        return
    flags = 0
    count = 1
    while fmt[count] in _ESCAPE_FLAG_CHARS:
        flags |= _ESCAPE_FLAG_CHARS[fmt[count]]
        count += 1
    if not flags:
        flags = ESCAPE_ANY_NP
    length = 1 if spec.field_width < 0 else spec.field_width
    buf += string_escape_mem(ctx.read(ptr, length), flags)


def va_format_ext(ctx, buf, fmt, ptr, spec):
    """``%pV`` (C: ``va_format()``): recursive vsnprintf of a ``struct va_format``.

    The va_list cannot be decoded here, so the caller-supplied hook does
    the work.  Without a hook the (unformatted) format string is printed.
    """
    if check_pointer(buf, ptr, spec):
        return
    if ctx.va_hook is not None:
        buf += _to_bytes(ctx.va_hook(ptr))
        return
    string(ctx, buf, ctx.read_uint(ptr, 8), DEFAULT_STR_SPEC)


_UUID_INDEX = list(range(16))
_GUID_INDEX = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]


def uuid_string(ctx, buf, fmt, ptr, spec):
    """``%pU[bBlL]``: 16-byte UUID/GUID."""
    if check_pointer(buf, ptr, spec):
        return
    index, uc = _UUID_INDEX, False
    variant = fmt[1]
    if variant == ord("L"):
        uc, index = True, _GUID_INDEX
    elif variant == ord("l"):
        index = _GUID_INDEX
    elif variant == ord("B"):
        uc = True
    addr = ctx.read(ptr, 16)
    hexs = "".join("%02x" % addr[index[i]] for i in range(16))
    if uc:
        hexs = hexs.upper()
    text = "-".join((hexs[0:8], hexs[8:12], hexs[12:16], hexs[16:20], hexs[20:32]))
    string_nocheck(buf, text.encode(), spec)


def restricted_pointer(ctx, buf, fmt, ptr, spec):
    """``%pK``: depends on ``KPTR_RESTRICT``."""
    if KPTR_RESTRICT == 0:
        default_pointer(buf, ptr, spec)
        return
    # 1: we assume the current task lacks CAP_SYSLOG; 2+: always zeros.
    pointer_string(buf, 0, spec)


def netdev_bits(ctx, buf, fmt, ptr, spec):
    """``%pNF``: ``netdev_features_t`` passed by reference."""
    if check_pointer(buf, ptr, spec):
        return
    if fmt[1] != ord("F"):
        error_string(buf, b"(%pN?)", spec)
        return
    special_hex_number(buf, ctx.read_uint(ptr, 8), 8)


def fourcc_string(ctx, buf, fmt, ptr, spec):
    """``%p4cc``: V4L2/DRM four character codes."""
    if fmt[1] != ord("c") or fmt[2] != ord("c"):
        error_string(buf, b"(%p4?)", spec)
        return
    if check_pointer(buf, ptr, spec):
        return
    orig = ctx.read_uint(ptr, 4)
    val = orig & ~(1 << 31)
    out = bytearray()
    for i in range(4):
        c = (val >> (i * 8)) & 0xFF
        out.append(c if isascii(c) and isprint(c) else ord("."))
    out += b" big-endian (" if orig & (1 << 31) else b" little-endian ("
    special_hex_number(out, orig, 4)
    out += b")"
    string_nocheck(buf, bytes(out), spec)


def address_val(ctx, buf, fmt, ptr, spec):
    """``%pa[p]`` / ``%pad``: phys_addr_t / dma_addr_t passed by reference."""
    if check_pointer(buf, ptr, spec):
        return
    # both phys_addr_t and dma_addr_t are 64-bit on x86_64
    special_hex_number(buf, ctx.read_uint(ptr, 8), 8)


def dentry_name(ctx, buf, fmt, ptr, spec):
    """``%pd[234]``: last 1-4 components of a dentry's path."""
    depth = fmt[1] - ord("0") if fmt[1] in b"234" else 1
    array = []
    d = ptr
    for _ in range(depth):
        if check_pointer(buf, d, spec):
            return
        p = ctx.read_uint(d + DENTRY_D_PARENT_OFFSET, 8)
        name_ptr = ctx.read_uint(d + DENTRY_D_NAME_NAME_OFFSET, 8)
        if p == d:
            array.append(ctx.read_cstr(name_ptr, STRING_READ_LIMIT) if not array else b"")
            break
        array.append(ctx.read_cstr(name_ptr, STRING_READ_LIMIT))
        d = p
    text = b"/".join(reversed(array))
    if spec.precision >= 0:
        text = text[:spec.precision]
    buf += text
    widen_string(buf, len(text), spec)


def file_dentry_name(ctx, buf, fmt, ptr, spec):
    """``%pD[234]``: like ``%pd`` for a ``struct file``."""
    if check_pointer(buf, ptr, spec):
        return
    dentry_name(ctx, buf, fmt, ctx.read_uint(ptr + FILE_F_PATH_DENTRY_OFFSET, 8), spec)


def _date_str(buf: bytearray, tm, raw: bool) -> None:
    year = _s32(tm[5] + (0 if raw else 1900))
    mon = _s32(tm[4] + (0 if raw else 1))
    number(buf, year, DEFAULT_DEC04_SPEC)
    buf += b"-"
    number(buf, mon, DEFAULT_DEC02_SPEC)
    buf += b"-"
    number(buf, tm[3], DEFAULT_DEC02_SPEC)


def _time_str(buf: bytearray, tm) -> None:
    number(buf, tm[2], DEFAULT_DEC02_SPEC)
    buf += b":"
    number(buf, tm[1], DEFAULT_DEC02_SPEC)
    buf += b":"
    number(buf, tm[0], DEFAULT_DEC02_SPEC)


def _rtc_str(buf: bytearray, tm, fmt: bytes) -> None:
    """Port of ``rtc_str()``; ``tm`` is (sec, min, hour, mday, mon, year)."""
    have_t = have_d = True
    raw = False
    iso8601_separator = True
    count = 2
    if fmt[count] == ord("d"):
        have_t = False
        count += 1
    elif fmt[count] == ord("t"):
        have_d = False
        count += 1
    while fmt[count] in b"rs":
        if fmt[count] == ord("r"):
            raw = True
        else:
            iso8601_separator = False
        count += 1
    if have_d:
        _date_str(buf, tm, raw)
    if have_d and have_t:
        buf += b"T" if iso8601_separator else b" "
    if have_t:
        _time_str(buf, tm)


def time64_to_tm(t: int):
    """``time64_to_tm(t, 0)`` -> (sec, min, hour, mday, mon(0-11), year-1900)."""
    days, rem = divmod(t, 86400)
    hour, rem = divmod(rem, 3600)
    minute, sec = divmod(rem, 60)
    # civil_from_days (proleptic Gregorian), days since 1970-01-01
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    year = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    mday = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    if month <= 2:
        year += 1
    return (sec, minute, hour, mday, month - 1, _s32(year - 1900))


def time_and_date(ctx, buf, fmt, ptr, spec):
    """``%ptR[dt][rs]`` (struct rtc_time) and ``%ptT[dt][rs]`` (time64_t)."""
    if fmt[1] == ord("R"):
        if check_pointer(buf, ptr, spec):
            return
        raw = ctx.read(ptr, 24)
        tm = tuple(_s32(int.from_bytes(raw[4 * k:4 * k + 4], "little")) for k in range(6))
        _rtc_str(buf, tm, fmt)
    elif fmt[1] == ord("T"):
        _rtc_str(buf, time64_to_tm(_s64(ctx.read_uint(ptr, 8))), fmt)
    else:
        error_string(buf, b"(%pt?)", spec)


def flags_string(ctx, buf, fmt, ptr, spec):
    """``%pG[pvg]``: flag names need kernel tables -> hashed pointer fallback."""
    if check_pointer(buf, ptr, spec):
        return
    if fmt[1] not in b"pvg" or not fmt[1]:
        error_string(buf, b"(%pG?)", spec)
        return
    default_pointer(buf, ptr, spec)


def device_node_string(ctx, buf, fmt, ptr, spec):
    """``%pOF...``: CONFIG_OF is off on our x86_64 kernel."""
    if fmt[1] != ord("F"):
        error_string(buf, b"(%pO?)", spec)
        return
    error_string(buf, b"(%pOF?)", spec)


def fwnode_string(ctx, buf, fmt, ptr, spec):
    """``%pfw[fP]``: fwnode names (not decodable here -> hashed fallback)."""
    if LEGACY_PF_SYMBOLS:
        symbol_string(ctx, buf, fmt, ptr, spec)
        return
    if fmt[1] != ord("w"):
        error_string(buf, b"(%pf?)", spec)
        return
    _unsupported(ctx, buf, fmt, ptr, spec)


def _legacy_F(ctx, buf, fmt, ptr, spec):
    """``%pF``: unknown in 6.1 (hashed); ``%pS`` with ``LEGACY_PF_SYMBOLS``."""
    if LEGACY_PF_SYMBOLS:
        symbol_string(ctx, buf, fmt, ptr, spec)
    else:
        default_pointer(buf, ptr, spec)


def rust_fmt_argument(ctx, buf, fmt, ptr, spec):
    """``%pA``: CONFIG_RUST is off."""
    error_string(buf, b"(%pA?)", spec)


def err_ptr(ctx, buf, fmt, ptr, spec):
    """``%pe``: symbolic error name for ERR_PTR values, else like ``%p``."""
    if not _is_err_value(ptr):
        default_pointer(buf, ptr, spec)
        return
    err = _s32(ptr)
    name = errname(err)
    if name is not None:
        string_nocheck(buf, name.encode(), spec)
        return
    spec = spec.copy()
    spec.flags |= SIGN
    spec.base = 10
    number(buf, err, spec)


def user_kernel_string(ctx, buf, fmt, ptr, spec):
    """``%pks`` / ``%pus``: strings in kernel / user space."""
    if fmt[1] == ord("s"):
        string(ctx, buf, ptr, spec)
    else:
        error_string(buf, b"(einval)", spec)


def _bitmap(ctx, buf, fmt, ptr, spec):
    if fmt[1] == ord("l"):
        bitmap_list_string(ctx, buf, fmt, ptr, spec)
    else:
        bitmap_string(ctx, buf, fmt, ptr, spec)


_PointerHandler = Callable[[_Ctx, bytearray, bytes, int, Spec], None]

#: Dispatch table of ``pointer()``: extension character -> handler.
POINTER_EXTENSIONS: "dict[int, _PointerHandler]" = {
    ord("S"): symbol_string,
    ord("s"): symbol_string,
    ord("B"): symbol_string,
    ord("F"): _legacy_F,
    ord("R"): resource_string,
    ord("r"): resource_string,
    ord("h"): hex_string,
    ord("b"): _bitmap,
    ord("M"): mac_address_string,
    ord("m"): mac_address_string,
    ord("I"): ip_addr_string,
    ord("i"): ip_addr_string,
    ord("E"): escaped_string,
    ord("U"): uuid_string,
    ord("V"): va_format_ext,
    ord("K"): restricted_pointer,
    ord("N"): netdev_bits,
    ord("4"): fourcc_string,
    ord("a"): address_val,
    ord("d"): dentry_name,
    ord("t"): time_and_date,
    ord("C"): _unsupported,        # clock(): needs struct clk
    ord("D"): file_dentry_name,
    ord("g"): _unsupported,        # bdev_name(): needs struct block_device
    ord("G"): flags_string,
    ord("O"): device_node_string,
    ord("f"): fwnode_string,
    ord("A"): rust_fmt_argument,
    ord("x"): _pointer_string_ext,
    ord("e"): err_ptr,
    ord("u"): user_kernel_string,
    ord("k"): user_kernel_string,
}


# Extensions younger than the oldest kernel line kemu knows: before these
# versions the kernel prints such a pointer as a plain (hashed) %p.
POINTER_EXTENSION_SINCE = {
    ord("4"): (5, 14),      # %p4cc
    ord("A"): (6, 1),       # %pA, Rust's fmt::Arguments
}


def pointer(ctx: _Ctx, buf: bytearray, fmt: bytes, ptr: int, spec: Spec) -> None:
    """Port of ``pointer()``: dispatch a ``%p`` conversion on its extension.

    Unknown extensions print the hashed pointer, like the kernel.  If
    memory that the extension must dereference cannot be read, the
    partial output is discarded and ``(efault)`` printed instead (the
    real kernel would oops).
    """
    handler = POINTER_EXTENSIONS.get(fmt[0], _default_pointer_ext)
    if ctx.version < POINTER_EXTENSION_SINCE.get(fmt[0], (0, 0)):
        handler = _default_pointer_ext          # not yet on this kernel line
    mark = len(buf)
    try:
        handler(ctx, buf, fmt, ptr & MASK64, spec.copy())
    except _Fault:
        del buf[mark:]
        error_string(buf, b"(efault)", spec)


# ---------------------------------------------------------------------------
# format_decode() and vsnprintf()
# ---------------------------------------------------------------------------

def skip_atoi(fmt: bytes, pos: int) -> Tuple[int, int]:
    """Port of ``skip_atoi()``: parse decimal digits (int arithmetic wraps)."""
    i = 0
    while True:
        i = _s32(i * 10 + fmt[pos] - 0x30)
        pos += 1
        if not isdigit(fmt[pos]):
            return i, pos


_FLAG_CHARS = {ord("-"): LEFT, ord("+"): PLUS, ord(" "): SPACE,
               ord("#"): SPECIAL, ord("0"): ZEROPAD}


def format_decode(fmt: bytes, pos: int, spec: Spec) -> int:
    """Port of ``format_decode()``: decode one token starting at ``fmt[pos]``.

    ``fmt`` must be NUL terminated.  Updates ``spec`` in place (it carries
    state between calls for ``*`` width/precision) and returns the number
    of format bytes consumed.
    """
    start = pos

    # we finished early by reading the field width
    if spec.type == FORMAT_TYPE_WIDTH:
        if spec.field_width < 0:
            spec.field_width = _s24(-spec.field_width)
            spec.flags |= LEFT
        spec.type = FORMAT_TYPE_NONE
        return _decode_precision(fmt, pos, start, spec)

    # we finished early by reading the precision
    if spec.type == FORMAT_TYPE_PRECISION:
        if spec.precision < 0:
            spec.precision = 0
        spec.type = FORMAT_TYPE_NONE
        return _decode_qualifier(fmt, pos, start, spec)

    # By default
    spec.type = FORMAT_TYPE_NONE

    while fmt[pos] and fmt[pos] != ord("%"):
        pos += 1

    # Return the current non-format string
    if pos != start or not fmt[pos]:
        return pos - start

    # Process flags
    spec.flags = 0
    while True:  # this also skips first '%'
        pos += 1
        flag = _FLAG_CHARS.get(fmt[pos])
        if flag is None:
            break
        spec.flags |= flag

    # get field width
    spec.field_width = -1
    if isdigit(fmt[pos]):
        width, pos = skip_atoi(fmt, pos)
        spec.field_width = _s24(width)
    elif fmt[pos] == ord("*"):
        # it's the next argument
        spec.type = FORMAT_TYPE_WIDTH
        return pos + 1 - start

    return _decode_precision(fmt, pos, start, spec)


def _decode_precision(fmt: bytes, pos: int, start: int, spec: Spec) -> int:
    """The ``precision:`` label of format_decode()."""
    spec.precision = -1
    if fmt[pos] == ord("."):
        pos += 1
        if isdigit(fmt[pos]):
            prec, pos = skip_atoi(fmt, pos)
            spec.precision = _s16(prec)
            if spec.precision < 0:
                spec.precision = 0
        elif fmt[pos] == ord("*"):
            # it's the next argument
            spec.type = FORMAT_TYPE_PRECISION
            return pos + 1 - start
    return _decode_qualifier(fmt, pos, start, spec)


_SIMPLE_CONVERSIONS = {ord("c"): FORMAT_TYPE_CHAR, ord("s"): FORMAT_TYPE_STR,
                       ord("p"): FORMAT_TYPE_PTR, ord("%"): FORMAT_TYPE_PERCENT_CHAR}

_INTEGER_TYPES = {
    # qualifier -> (unsigned type, signed type)
    ord("L"): (FORMAT_TYPE_LONG_LONG, FORMAT_TYPE_LONG_LONG),
    ord("l"): (FORMAT_TYPE_ULONG, FORMAT_TYPE_LONG),
    ord("z"): (FORMAT_TYPE_SIZE_T, FORMAT_TYPE_SIZE_T),
    ord("t"): (FORMAT_TYPE_PTRDIFF, FORMAT_TYPE_PTRDIFF),
    ord("H"): (FORMAT_TYPE_UBYTE, FORMAT_TYPE_BYTE),
    ord("h"): (FORMAT_TYPE_USHORT, FORMAT_TYPE_SHORT),
    0: (FORMAT_TYPE_UINT, FORMAT_TYPE_INT),
}


def _decode_qualifier(fmt: bytes, pos: int, start: int, spec: Spec) -> int:
    """The ``qualifier:`` label of format_decode() and the conversion switch."""
    qualifier = 0
    c = fmt[pos]
    if c == ord("h") or _tolower(c) == ord("l") or c == ord("z") or c == ord("t"):
        qualifier = c
        pos += 1
        if qualifier == fmt[pos]:
            if qualifier == ord("l"):
                qualifier = ord("L")
                pos += 1
            elif qualifier == ord("h"):
                qualifier = ord("H")
                pos += 1

    # default base
    spec.base = 10
    conv = fmt[pos]
    if conv in _SIMPLE_CONVERSIONS:
        spec.type = _SIMPLE_CONVERSIONS[conv]
        return pos + 1 - start

    # integer number formats - set up the flags and "break"
    if conv == ord("o"):
        spec.base = 8
    elif conv == ord("x"):
        spec.flags |= SMALL
        spec.base = 16
    elif conv == ord("X"):
        spec.base = 16
    elif conv in (ord("d"), ord("i")):
        spec.flags |= SIGN
    elif conv == ord("u"):
        pass
    else:
        # %n and anything unknown: the kernel refuses to go on.
        spec.type = FORMAT_TYPE_INVALID
        return pos - start

    unsigned_type, signed_type = _INTEGER_TYPES[qualifier]
    spec.type = signed_type if spec.flags & SIGN else unsigned_type
    return pos + 1 - start


def set_field_width(spec: Spec, width: int) -> None:
    """Port of ``set_field_width()``: clamp values that do not fit 24 bits."""
    spec.field_width = _s24(width)
    if spec.field_width != width:
        spec.field_width = max(-FIELD_WIDTH_MAX, min(width, FIELD_WIDTH_MAX))


def set_precision(spec: Spec, prec: int) -> None:
    """Port of ``set_precision()``: clamp values that do not fit 16 bits."""
    spec.precision = _s16(prec)
    if spec.precision != prec:
        spec.precision = max(0, min(prec, PRECISION_MAX))


def _fetch_integer(args: ArgReader, spec: Spec) -> int:
    """Fetch and convert an integer vararg exactly like vsnprintf()'s switch."""
    raw = args.next_int() & MASK64
    t = spec.type
    if t in (FORMAT_TYPE_LONG_LONG, FORMAT_TYPE_ULONG, FORMAT_TYPE_LONG,
             FORMAT_TYPE_SIZE_T, FORMAT_TYPE_PTRDIFF):
        return raw
    if t == FORMAT_TYPE_UBYTE:
        return raw & 0xFF
    if t == FORMAT_TYPE_BYTE:
        return _s8(raw) & MASK64
    if t == FORMAT_TYPE_USHORT:
        return raw & 0xFFFF
    if t == FORMAT_TYPE_SHORT:
        return _s16(raw) & MASK64
    if t == FORMAT_TYPE_INT:
        return _s32(raw) & MASK64
    return raw & 0xFFFFFFFF  # FORMAT_TYPE_UINT


def format_string(fmt: bytes, args: ArgReader, mem: MemReader, sym=None,
                  va_format: Optional[Callable[[int], bytes]] = None,
                  version: tuple = (6, 1)) -> bytes:
    """Format like the kernel's ``vsnprintf(buf, INT_MAX, fmt, args)``.

    :param fmt: the format string (bytes; anything after a NUL is ignored).
    :param args: yields the varargs as raw u64 values, in order.
    :param mem: reads emulated memory (for ``%s`` and dereferencing ``%p``).
    :param sym: optional Symbolizer for ``%pS``/``%ps``/``%pB``.
    :param va_format: optional hook ``va_format(ptr) -> bytes`` that renders
        the ``struct va_format`` at ``ptr`` (used by ``%pV``).
    :param version: the kernel line (MAJOR, PATCHLEVEL) whose vsprintf this is.
    :returns: the complete output, without the trailing NUL.  Output stops
        at the first invalid conversion (e.g. ``%n``), like the kernel.
    """
    fmt = bytes(fmt)
    nul = fmt.find(0)
    if nul >= 0:
        fmt = fmt[:nul]
    fmt += b"\0" * 8  # NUL termination + safe look-ahead for pointer()
    ctx = _Ctx(mem, sym, va_format, version)
    buf = bytearray()
    spec = Spec()
    pos = 0

    while fmt[pos]:
        old = pos
        read = format_decode(fmt, pos, spec)
        pos += read
        t = spec.type

        if t == FORMAT_TYPE_NONE:
            buf += fmt[old:old + read]
        elif t == FORMAT_TYPE_WIDTH:
            set_field_width(spec, _s32(args.next_int()))
        elif t == FORMAT_TYPE_PRECISION:
            set_precision(spec, _s32(args.next_int()))
        elif t == FORMAT_TYPE_CHAR:
            pad = max(spec.field_width - 1, 0)
            if not spec.flags & LEFT:
                buf += b" " * pad
                pad = 0
            buf.append(args.next_int() & 0xFF)
            buf += b" " * pad
        elif t == FORMAT_TYPE_STR:
            string(ctx, buf, args.next_int() & MASK64, spec)
        elif t == FORMAT_TYPE_PTR:
            pointer(ctx, buf, fmt[pos:], args.next_int() & MASK64, spec)
            while isalnum(fmt[pos]):
                pos += 1
        elif t == FORMAT_TYPE_PERCENT_CHAR:
            buf += b"%"
        elif t == FORMAT_TYPE_INVALID:
            # No safe way to continue: the remaining specifiers and
            # arguments would be out of sync.
            break
        else:
            number(buf, _fetch_integer(args, spec), spec)

    return bytes(buf)


# ---------------------------------------------------------------------------
# Exports: the sprintf family over format_string (lib/vsprintf.c)
# ---------------------------------------------------------------------------
from kemu import export  # noqa: E402
from kemu.abi.exports import VaList, members

members("struct va_format", "fmt", "va")

INT_MAX = 2**31 - 1


class _Mem:
    """vsprintf's view of emulated memory."""
    __slots__ = ("machine",)

    def __init__(self, machine):
        self.machine = machine

    def read(self, addr, size):
        return self.machine.read(addr, size)


class _Sym:
    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def lookup(self, addr):
        return self.k.symbolize(addr)


def vformat(k, fmt_addr: int, args) -> bytes:
    """Format a kernel format string at ``fmt_addr`` with ``args`` (VarArgs or VaList)."""
    fmt = k.machine.read_cstr(fmt_addr)
    return format_string(fmt, args, _Mem(k.machine), _Sym(k),
                         va_format=lambda ptr: _va_format(k, ptr),
                         version=k.target.line.version)


def _va_format(k, ptr: int) -> bytes:
    """%pV: struct va_format { const char *fmt; va_list *va; }."""
    t = k.target
    fmt_addr = k.machine.read_u64(ptr + t.offset("va_format.fmt"))
    va_addr = k.machine.read_u64(ptr + t.offset("va_format.va"))
    return vformat(k, fmt_addr, VaList(k.machine, va_addr))



def _store(k, buf, size, text: bytes) -> None:
    """Write what vsnprintf writes: at most size-1 bytes and a NUL (nothing for size 0)."""
    if size:
        out = text[:size - 1]
        k.machine.write(buf, out + b"\0")


@export("int sprintf(char *buf, const char *fmt, ...)")
def sprintf(k, buf, fmt, va):
    text = vformat(k, fmt, va)
    _store(k, buf, INT_MAX, text)
    return len(text)


@export("int vsprintf(char *buf, const char *fmt, va_list args)")
def vsprintf(k, buf, fmt, args):
    text = vformat(k, fmt, VaList(k.machine, args))
    _store(k, buf, INT_MAX, text)
    return len(text)


@export("int snprintf(char *buf, size_t size, const char *fmt, ...)")
def snprintf(k, buf, size, fmt, va):
    text = vformat(k, fmt, va)
    _store(k, buf, size, text)
    return len(text)


@export("int vsnprintf(char *buf, size_t size, const char *fmt, va_list args)")
def vsnprintf(k, buf, size, fmt, args):
    text = vformat(k, fmt, VaList(k.machine, args))
    _store(k, buf, size, text)
    return len(text)


@export("int scnprintf(char *buf, size_t size, const char *fmt, ...)")
def scnprintf(k, buf, size, fmt, va):
    text = vformat(k, fmt, va)
    _store(k, buf, size, text)
    return min(len(text), size - 1) if size else 0


@export("int vscnprintf(char *buf, size_t size, const char *fmt, va_list args)")
def vscnprintf(k, buf, size, fmt, args):
    text = vformat(k, fmt, VaList(k.machine, args))
    _store(k, buf, size, text)
    return min(len(text), size - 1) if size else 0


def _kasprintf(k, gfp, text: bytes) -> int:
    from ..mm.slab import kmalloc
    addr = kmalloc(k, len(text) + 1, gfp)
    if addr:
        k.machine.write(addr, text + b"\0")
    return addr


@export("char *kasprintf(gfp_t gfp, const char *fmt, ...)")
def kasprintf(k, gfp, fmt, va):
    return _kasprintf(k, gfp, vformat(k, fmt, va))


@export("char *kvasprintf(gfp_t gfp, const char *fmt, va_list args)")
def kvasprintf(k, gfp, fmt, args):
    return _kasprintf(k, gfp, vformat(k, fmt, VaList(k.machine, args)))


@export("const char *kvasprintf_const(gfp_t gfp, const char *fmt, va_list args)")
def kvasprintf_const(k, gfp, fmt, args):
    return kvasprintf(k, gfp, fmt, args)
