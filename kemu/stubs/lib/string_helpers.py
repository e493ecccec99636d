"""lib/string_helpers.c: string_unescape() (\\n, octal, hex and special escapes)."""
from kemu import export

UNESCAPE_SPACE, UNESCAPE_OCTAL, UNESCAPE_HEX, UNESCAPE_SPECIAL = 1, 2, 4, 8
SIZE_MASK = (1 << 64) - 1
_SPACE = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("v"): 11, ord("f"): 12}
_SPECIAL = {ord('"'): ord('"'), ord("\\"): ord("\\"), ord("a"): 7, ord("e"): 27}


def _hex(c: int) -> int:
    """hex_to_bin()."""
    if 0x30 <= c <= 0x39:
        return c - 0x30
    c |= 0x20
    return c - 0x61 + 10 if 0x61 <= c <= 0x66 else -1


def _octal(s: bytes, i: int):
    if not 0x30 <= s[i] <= 0x37:
        return None
    num, q = s[i] & 7, i + 1
    while num < 32 and 0x30 <= s[q] <= 0x37 and q - i < 3:
        num = (num << 3) + (s[q] & 7)
        q += 1
    return num & 0xFF, q


def _hexesc(s: bytes, i: int):
    if s[i] != ord("x"):
        return None
    num = _hex(s[i + 1])
    if num < 0:
        return None
    q = i + 2
    digit = _hex(s[q])
    if digit >= 0:
        num, q = (num << 4) | digit, q + 1
    return num & 0xFF, q


def _table(table):
    return lambda s, i: (table[s[i]], i + 1) if s[i] in table else None


_UNESCAPERS = ((UNESCAPE_SPACE, _table(_SPACE)), (UNESCAPE_OCTAL, _octal),
               (UNESCAPE_HEX, _hexesc), (UNESCAPE_SPECIAL, _table(_SPECIAL)))


def unescape(src: bytes, size: int, flags: int) -> bytes:
    """string_unescape() on the bytes of ``src`` (without its NUL): the output bytes."""
    s = src + b"\0\0\0\0"
    out = bytearray()
    i = 0
    while s[i]:
        size = (size - 1) & SIZE_MASK
        if not size:
            break
        if s[i] == ord("\\") and s[i + 1] and size > 1:
            i += 1
            size -= 1
            for flag, fn in _UNESCAPERS:
                got = fn(s, i) if flags & flag else None
                if got is not None:
                    out.append(got[0])
                    i = got[1]
                    break
            else:
                out.append(ord("\\"))
                out.append(s[i])
                i += 1
            continue
        out.append(s[i])
        i += 1
    return bytes(out)


@export("int string_unescape(char *src, char *dst, size_t size, unsigned int flags)")
def string_unescape(k, src, dst, size, flags):
    """Unescape ``src`` into ``dst`` (which may be ``src``); returns the length written."""
    data = k.machine.read_cstr(src, 1 << 20)
    out = unescape(data, size, flags)
    k.machine.write(dst, out + b"\0")
    return len(out)
