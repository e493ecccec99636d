"""net/core/utils.c: ``in4_pton`` and ``in6_pton``, ported statement by statement.

Both read at most ``srclen`` bytes (strlen when negative), stop at ``delim``
(or NUL; any non-address character when ``delim`` is -1), store the address
only on success (1) and always set ``*end`` to where parsing stopped.
"""
from __future__ import annotations

from kemu import export

XDIGIT, DIGIT, COLON_MASK, COLON_1, COLON_2, COLON_1_2 = (0x00010000, 0x00020000, 0x00700000,
                                                          0x00100000, 0x00200000, 0x00400000)
DOT, DELIM, NULL, UNKNOWN = 0x00800000, 0x10000000, 0x20000000, 0x40000000


def _xdigit2bin(c: int, delim: int) -> int:
    if c == delim or c == 0:
        return DELIM
    if c == ord(":"):
        return COLON_MASK
    if c == ord("."):
        return DOT
    ch = chr(c).lower()
    if ch in "0123456789abcdef":
        val = int(ch, 16)
        return val | XDIGIT | (DIGIT if val < 10 else 0)
    if delim == -1:
        return DELIM
    return UNKNOWN


class _Src:
    """The source string in kernel memory, read lazily (s[i] past the end reads on)."""

    def __init__(self, k, addr):
        self.k, self.addr = k, addr

    def __getitem__(self, i):
        return self.k.machine.read_u8(self.addr + i)

    def strlen(self):
        n = 0
        while self[n]:
            n += 1
        return n


def pton4(src: _Src, start: int, srclen: int, delim: int):
    """in4_pton(): (ret, 4 bytes or None, end index)."""
    if srclen < 0:
        srclen = src.strlen() - start
    s, d, w = start, [], 0
    while True:
        c = _xdigit2bin(src[s] if srclen > 0 else 0, delim)
        if not c & (DIGIT | DOT | DELIM | COLON_MASK):
            return 0, None, s
        if c & (DOT | DELIM | COLON_MASK):
            if w == 0:
                return 0, None, s
            d.append(w & 0xFF)
            w = 0
            if c & (DELIM | COLON_MASK):
                if len(d) != 4:
                    return 0, None, s
                break
        else:
            w = w * 10 + c
            if (w & 0xFFFF) > 255:
                return 0, None, s
        if len(d) >= 4:
            return 0, None, s
        s += 1
        srclen -= 1
    return 1, bytes(d), s


def pton6(src: _Src, srclen: int, delim: int):
    """in6_pton(): (ret, 16 bytes or None, end index)."""
    s, tok = 0, None
    dbuf = bytearray(16)
    d, dc = 0, None
    state = COLON_1_2 | XDIGIT | NULL
    w = 0
    if srclen < 0:
        srclen = src.strlen()
    while True:
        c = _xdigit2bin(src[s] if srclen > 0 else 0, delim)
        if not c & state:
            return 0, None, s
        if c & (DELIM | COLON_MASK):
            if not state & NULL:
                dbuf[d] = (w >> 8) & 0xFF
                dbuf[d + 1] = w & 0xFF
                d += 2
            w = 0
            if c & DELIM:
                break
            colon = state & COLON_MASK
            if colon == COLON_2:
                dc = d
                state = XDIGIT | DELIM
                if dc >= 16:
                    state |= NULL
            elif colon == COLON_1 | COLON_1_2:
                state = XDIGIT | COLON_2
            elif colon == COLON_1:
                state = XDIGIT
            elif colon == COLON_1_2:
                state = COLON_2
            else:
                state = 0
            tok = s + 1
        elif c & DOT:
            begin = tok if tok is not None else s
            ret, v4, s = pton4(src, begin, srclen + (s - (tok if tok is not None else 0))
                               if tok is not None else srclen, delim)
            if ret > 0 and d + 4 <= 16:
                dbuf[d:d + 4] = v4
                d += 4
                break
            return 0, None, s
        else:
            w = (w << 4) | (0xFF & c)
            state = COLON_1 | DELIM
            if not w & 0xF000:
                state |= XDIGIT
            if dc is None and d + 2 < 16:
                state |= COLON_1_2
                state &= ~DELIM
            if d + 2 >= 16:
                state &= ~(COLON_1 | COLON_1_2)
        if (dc is not None and d + 4 < 16) or d + 4 == 16:
            state |= DOT
        if d >= 16:
            state &= ~(XDIGIT | COLON_MASK)
        s += 1
        srclen -= 1
    out = bytearray(16)
    i, d = 15, d - 1
    if dc is not None:
        while d >= dc:
            out[i] = dbuf[d]
            i, d = i - 1, d - 1
        while i >= dc:
            out[i] = 0
            i -= 1
        while i >= 0:
            out[i] = dbuf[d]
            i, d = i - 1, d - 1
    else:
        out[:] = dbuf
    return 1, bytes(out), s


def _signed(v: int) -> int:
    return v - (1 << 32) if v >> 31 else v


@export("int in4_pton(const char *src, int srclen, u8 *dst, int delim, const char **end)")
def in4_pton(k, src, srclen, dst, delim, end):
    ret, addr, s = pton4(_Src(k, src), 0, _signed(srclen), _signed(delim))
    if ret:
        k.machine.write(dst, addr)
    if end:
        k.machine.write_u64(end, src + s)
    return ret


@export("int in6_pton(const char *src, int srclen, u8 *dst, int delim, const char **end)")
def in6_pton(k, src, srclen, dst, delim, end):
    ret, addr, s = pton6(_Src(k, src), _signed(srclen), _signed(delim))
    if ret:
        k.machine.write(dst, addr)
    if end:
        k.machine.write_u64(end, src + s)
    return ret
