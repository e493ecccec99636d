"""lib/vsprintf.c: vsscanf() and sscanf(), ported line by line from Linux 6.1."""
from kemu import export
from kemu.abi.exports import VaList

from .ctype import _tolower, isdigit, isspace, isxdigit

SHRT_MAX = 0x7FFF
INT_MAX = 0x7FFFFFFF
U64 = (1 << 64) - 1


def _parse_integer_fixup_radix(s: bytes, i: int, base: int):
    if base == 0:
        if s[i] == ord("0"):
            base = 16 if _tolower(s[i + 1]) == ord("x") and isxdigit(s[i + 2]) else 8
        else:
            base = 10
    if base == 16 and s[i] == ord("0") and _tolower(s[i + 1]) == ord("x"):
        i += 2
    return i, base


def _parse_integer_limit(s: bytes, i: int, base: int, max_chars: int):
    res, n = 0, 0
    while max_chars > 0:
        max_chars -= 1
        c = s[i]
        lc = c | 0x20
        if 0x30 <= c <= 0x39:
            val = c - 0x30
        elif ord("a") <= lc <= ord("f"):
            val = lc - ord("a") + 10
        else:
            break
        if val >= base:
            break
        res = (res * base + val) & U64
        n += 1
        i += 1
    return res, i


def simple_strntoull(s: bytes, i: int, max_chars: int, base: int):
    """(value, index after the digits)."""
    cp, base = _parse_integer_fixup_radix(s, i, base)
    prefix = cp - i
    if prefix < max_chars:
        return _parse_integer_limit(s, cp, base, max_chars - prefix)
    return 0, i + max_chars


def simple_strntoll(s: bytes, i: int, max_chars: int, base: int):
    if s[i] == ord("-") and max_chars > 0:
        value, end = simple_strntoull(s, i + 1, max_chars - 1, base)
        return (-value) & U64, end
    return simple_strntoull(s, i, max_chars, base)


def _skip_spaces(s: bytes, i: int) -> int:
    while isspace(s[i]):
        i += 1
    return i


def _s16(v):
    v &= 0xFFFF
    return v - 0x10000 if v >> 15 else v


_SIZES = {"H": 1, "h": 2, "l": 8, "L": 8, "z": 8}


def vsscanf(k, buf_addr: int, fmt_addr: int, args) -> int:
    """vsscanf() over emulated memory; ``args`` yields the pointer arguments."""
    m = k.machine
    buf = m.read_cstr(buf_addr) + b"\0\0\0"
    fmt = m.read_cstr(fmt_addr) + b"\0\0\0"
    s, f, num = 0, 0, 0
    while fmt[f]:
        if isspace(fmt[f]):
            f = _skip_spaces(fmt, f + 1)
            s = _skip_spaces(buf, s)
        if fmt[f] != ord("%") and fmt[f]:
            a, b = fmt[f], buf[s]
            f += 1
            s += 1
            if a != b:
                break
            continue
        if not fmt[f]:
            break
        f += 1
        if fmt[f] == ord("*"):
            if not buf[s]:
                break
            while not isspace(fmt[f]) and fmt[f] != ord("%") and fmt[f]:
                if fmt[f] == ord("["):
                    return num
                f += 1
            while not isspace(buf[s]) and buf[s]:
                s += 1
            continue
        field_width = -1
        if isdigit(fmt[f]):
            width = 0
            while isdigit(fmt[f]):
                width = (width * 10 + fmt[f] - 0x30) & 0xFFFFFFFF
                f += 1
            field_width = _s16(width)
            if field_width <= 0:
                break
        qualifier = None
        if fmt[f] == ord("h") or _tolower(fmt[f]) == ord("l") or fmt[f] == ord("z"):
            qualifier = chr(fmt[f])
            f += 1
            if qualifier == chr(fmt[f]):
                if qualifier == "h":
                    qualifier = "H"
                    f += 1
                elif qualifier == "l":
                    qualifier = "L"
                    f += 1
        if not fmt[f]:
            break
        if fmt[f] == ord("n"):
            m.write_u32(args.next_int(), s)
            f += 1
            continue
        if not buf[s]:
            break
        base, is_sign = 10, False
        conv = chr(fmt[f])
        f += 1
        if conv == "c":
            dst = args.next_int()
            if field_width == -1:
                field_width = 1
            out = bytearray()
            while True:
                out.append(buf[s])
                s += 1
                field_width -= 1
                if not (field_width > 0 and buf[s]):
                    break
            m.write(dst, bytes(out))
            num += 1
            continue
        if conv == "s":
            dst = args.next_int()
            if field_width == -1:
                field_width = SHRT_MAX
            s = _skip_spaces(buf, s)
            out = bytearray()
            while buf[s] and not isspace(buf[s]) and field_width:
                field_width -= 1
                out.append(buf[s])
                s += 1
            m.write(dst, bytes(out) + b"\0")
            num += 1
            continue
        if conv == "[":
            dst = args.next_int()
            if field_width == -1:
                return num
            negate = fmt[f] == ord("^")
            if negate:
                f += 1
            chars, length = set(), 0
            while fmt[f] and fmt[f] != ord("]"):
                chars.add(fmt[f])
                f += 1
                length += 1
            if not fmt[f] or not length:
                return num
            f += 1
            if negate:
                chars = set(range(1, 256)) - chars
            if buf[s] not in chars:
                return num
            out = bytearray()
            while buf[s] in chars and field_width:
                field_width -= 1
                out.append(buf[s])
                s += 1
            m.write(dst, bytes(out) + b"\0")
            num += 1
            continue
        if conv == "o":
            base = 8
        elif conv in "xX":
            base = 16
        elif conv == "i":
            base, is_sign = 0, True
        elif conv == "d":
            is_sign = True
        elif conv == "u":
            pass
        elif conv == "%":
            c = buf[s]
            s += 1
            if c != ord("%"):
                return num
            continue
        else:
            return num
        s = _skip_spaces(buf, s)
        digit = buf[s]
        if is_sign and digit == ord("-"):
            if field_width == 1:
                break
            digit = buf[s + 1]
        if (not digit or (base == 16 and not isxdigit(digit))
                or (base == 10 and not isdigit(digit))
                or (base == 8 and (not isdigit(digit) or digit > ord("7")))
                or (base == 0 and not isdigit(digit))):
            break
        limit = field_width if field_width >= 0 else INT_MAX
        if is_sign:
            value, s = simple_strntoll(buf, s, limit, base)
        else:
            value, s = simple_strntoull(buf, s, limit, base)
        size = _SIZES.get(qualifier, 4)
        m.write(args.next_int(), (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
        num += 1
    return num


@export("int vsscanf(const char *buf, const char *fmt, va_list args)")
def vsscanf_export(k, buf, fmt, args):
    return vsscanf(k, buf, fmt, VaList(k.machine, args))


@export("int sscanf(const char *buf, const char *fmt, ...)")
def sscanf(k, buf, fmt, va):
    return vsscanf(k, buf, fmt, va)
