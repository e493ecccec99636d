"""lib/kstrtox.c: kstrto*() with the kernel's radix, overflow and newline rules."""
import errno

from kemu import export

_LIMITS = {  # name -> (bits, signed)
    "ull": (64, False), "ll": (64, True), "ul": (64, False), "l": (64, True),
    "uint": (32, False), "int": (32, True), "u16": (16, False), "s16": (16, True),
    "u8": (8, False), "s8": (8, True),
}


def _parse_integer_fixup_radix(s: bytes, base: int):
    if base == 0:
        if s[:1] == b"0":
            if s[1:2].lower() == b"x" and s[2:3] and s[2:3] in b"0123456789abcdefABCDEF":
                return 16, s[2:]
            return 8, s
        return 10, s
    if base == 16 and s[:1] == b"0" and s[1:2].lower() == b"x":
        return 16, s[2:]
    return base, s


def _kstrtoull(s: bytes, base: int):
    """Returns (-errno, None) or (0, value)."""
    base, s = _parse_integer_fixup_radix(s, base)
    value, n, overflow = 0, 0, False
    for ch in s:
        c = chr(ch).lower()
        if "0" <= c <= "9":
            digit = ord(c) - 48
        elif "a" <= c <= "f":
            digit = ord(c) - 87
        else:
            break
        if digit >= base:
            break
        value = value * base + digit
        if value >> 64:
            overflow = True
        n += 1
    if overflow:
        return -errno.ERANGE, None
    if n == 0:
        return -errno.EINVAL, None
    rest = s[n:]
    if rest[:1] == b"\n":
        rest = rest[1:]
    if rest:
        return -errno.EINVAL, None
    return 0, value & (2**64 - 1)


def kstrtoull(s: bytes, base: int = 0):
    """kstrtoull(): (0, value) or (-errno, None)."""
    if s[:1] == b"+":
        s = s[1:]
    return _kstrtoull(s, base)


def kstrtoll(s: bytes, base: int = 0):
    """kstrtoll(): (0, value) or (-errno, None)."""
    if s[:1] == b"-":
        err, tmp = _kstrtoull(s[1:], base)
        if err:
            return err, None
        if tmp > 2**63:
            return -errno.ERANGE, None
        return 0, -tmp
    err, tmp = kstrtoull(s, base)
    if err:
        return err, None
    if tmp >= 2**63:
        return -errno.ERANGE, None
    return 0, tmp


def kstrto(kind: str, s: bytes, base: int = 0):
    """kstrto<kind>() for kind in ull, ll, ul, l, uint, int, u16, s16, u8, s8."""
    bits, signed = _LIMITS[kind]
    err, value = (kstrtoll if signed else kstrtoull)(s, base)
    if err:
        return err, None
    if signed and not -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
        return -errno.ERANGE, None
    if not signed and value >> bits:
        return -errno.ERANGE, None
    return 0, value


def kstrtobool(s: bytes):
    """kstrtobool(): (0, bool) or (-EINVAL, None)."""
    c0 = s[:1]
    if c0 and c0 in b"yYtT1":
        return 0, True
    if c0 and c0 in b"nNfF0":
        return 0, False
    if c0 and c0 in b"oO":
        c1 = s[1:2]
        if c1 and c1 in b"nN":
            return 0, True
        if c1 and c1 in b"fF":
            return 0, False
    return -errno.EINVAL, None


def _kstrto_export(kind: str, ctype: str, size: int):
    @export(f"int kstrto{kind}(const char *s, unsigned int base, {ctype} *res)")
    def fn(k, s, base, res):
        err, value = kstrto(kind if kind not in ("ul", "l") else kind, k.machine.read_cstr(s), base)
        if err:
            return err
        k.machine.write(res, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
        return 0
    fn.__name__ = f"kstrto{kind}"
    return fn


for _kind, _ctype, _size in (("ull", "unsigned long long", 8), ("ll", "long long", 8),
                             ("uint", "unsigned int", 4), ("int", "int", 4),
                             ("u16", "u16", 2), ("s16", "s16", 2), ("u8", "u8", 1),
                             ("s8", "s8", 1)):
    _kstrto_export(_kind, _ctype, _size)


@export("int _kstrtoul(const char *s, unsigned int base, unsigned long *res)")
def _kstrtoul(k, s, base, res):
    err, value = kstrto("ul", k.machine.read_cstr(s), base)
    if not err:
        k.machine.write_u64(res, value)
    return err


@export("int _kstrtol(const char *s, unsigned int base, long *res)")
def _kstrtol(k, s, base, res):
    err, value = kstrto("l", k.machine.read_cstr(s), base)
    if not err:
        k.machine.write_u64(res, value)
    return err


@export("int kstrtobool(const char *s, bool *res)")
def _kstrtobool(k, s, res):
    err, value = kstrtobool(k.machine.read(s, 2) if s else b"")
    if not err:
        k.machine.write_u8(res, int(value))
    return err


def _simple_strtoull(s: bytes, base: int):
    base, rest = _parse_integer_fixup_radix(s, base)
    value, n = 0, len(s) - len(rest)
    for ch in rest:
        c = chr(ch).lower()
        digit = ord(c) - 48 if "0" <= c <= "9" else ord(c) - 87 if "a" <= c <= "f" else 99
        if digit >= base:
            break
        value = (value * base + digit) & (2**64 - 1)
        n += 1
    return value, n


@export("unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base)")
def simple_strtoull(k, cp, endp, base):
    value, n = _simple_strtoull(k.machine.read_cstr(cp, 4096), base)
    if endp:
        k.machine.write_u64(endp, cp + n)
    return value


@export("unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base)")
def simple_strtoul(k, cp, endp, base):
    return simple_strtoull(k, cp, endp, base)


@export("long simple_strtol(const char *cp, char **endp, unsigned int base)")
def simple_strtol(k, cp, endp, base):
    s = k.machine.read_cstr(cp, 4096)
    if s[:1] == b"-":
        value, n = _simple_strtoull(s[1:], base)
        if endp:
            k.machine.write_u64(endp, cp + 1 + n)
        return -value
    value, n = _simple_strtoull(s, base)
    if endp:
        k.machine.write_u64(endp, cp + n)
    return value


def _copy_from_user(k, s, count):
    """copy_from_user() into a small stack buffer: bytes, or None for -EFAULT."""
    try:
        return k.machine.read(s, count) if count else b""
    except Exception:
        return None


def _from_user_export(name: str, kind: str, ctype: str, size: int, bits: int):
    # char buf[1 + sizeof(type) * 8 + 1 + 1]: sign, base 2 digits, newline, NUL
    room = 1 + bits + 1 + 1

    @export(f"int {name}(const char *s, size_t count, unsigned int base, {ctype} *res)")
    def fn(k, s, count, base, res):
        text = _copy_from_user(k, s, min(count, room - 1))
        if text is None:
            return -errno.EFAULT
        err, value = kstrto(kind, text.split(b"\0", 1)[0], base)
        if err:
            return err
        k.machine.write(res, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
        return 0
    fn.__name__ = name
    return fn


for _name, _kind, _ctype, _size in (
        ("kstrtoull_from_user", "ull", "unsigned long long", 8),
        ("kstrtoll_from_user", "ll", "long long", 8),
        ("kstrtoul_from_user", "ul", "unsigned long", 8),
        ("kstrtol_from_user", "l", "long", 8),
        ("kstrtouint_from_user", "uint", "unsigned int", 4),
        ("kstrtoint_from_user", "int", "int", 4),
        ("kstrtou16_from_user", "u16", "u16", 2),
        ("kstrtos16_from_user", "s16", "s16", 2),
        ("kstrtou8_from_user", "u8", "u8", 1),
        ("kstrtos8_from_user", "s8", "s8", 1)):
    _from_user_export(_name, _kind, _ctype, _size, 8 * _size)


@export("int kstrtobool_from_user(const char *s, size_t count, bool *res)")
def kstrtobool_from_user(k, s, count, res):
    text = _copy_from_user(k, s, min(count, 3))
    if text is None:
        return -errno.EFAULT
    err, value = kstrtobool(text.split(b"\0", 1)[0])
    if not err:
        k.machine.write_u8(res, int(value))
    return err
