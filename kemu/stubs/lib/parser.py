"""lib/parser.c: the mount-option parser (match_token and the match_* converters).

``match_token`` walks the module's ``match_table_t`` (``{token, pattern}``
entries ending with a NULL pattern) in kernel memory and fills the
``substring_t args[]`` with pointers into the parsed string, with the
kernel's pattern language: literal text, ``%s`` (``%<n>s`` at most n
characters, never empty), ``%d``, ``%u``, ``%o``, ``%x`` (what
simple_strto[u]l accepts, at least one character), ``%%``.
``match_int``/``match_octal``/``match_hex`` use simple_strtol with -ERANGE
outside int, ``match_uint``/``match_u64`` kstrtouint/kstrtoull;
``match_strdup`` is ``kmemdup_nul`` (kmalloc'd, the caller kfrees).
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, wr
from .kstrtox import _simple_strtoull, kstrto

members("struct match_token", "token", "pattern")

MAX_OPT_ARGS = 3                     # include/linux/parser.h
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1


def _strtol(s: bytes, base: int) -> tuple[int, int]:
    """simple_strtol(): (value as a C long, characters consumed)."""
    if s[:1] == b"-":
        value, n = _simple_strtoull(s[1:], base)
        value, n = -value, n + 1
    else:
        value, n = _simple_strtoull(s, base)
    value &= (1 << 64) - 1
    return (value - (1 << 64) if value >> 63 else value), n


_NUMERIC = {"d": lambda s: _strtol(s, 0)[1], "u": lambda s: _simple_strtoull(s, 0)[1],
            "o": lambda s: _simple_strtoull(s, 8)[1], "x": lambda s: _simple_strtoull(s, 16)[1]}


def match_one(s: bytes, p: bytes) -> list[tuple[int, int]] | None:
    """match_one(): the (from, to) offsets in ``s`` of each argument, or None."""
    args: list[tuple[int, int]] = []
    si = pi = 0
    while True:
        meta = p.find(b"%", pi)
        if meta < 0:
            return args if p[pi:] == s[si:] else None
        if s[si:si + meta - pi] != p[pi:meta]:
            return None
        si += meta - pi
        pi = meta + 1
        length = -1
        if p[pi:pi + 1].isdigit():
            j = pi
            while p[j:j + 1].isdigit():
                j += 1
            length, pi = int(p[pi:j]), j
        elif p[pi:pi + 1] == b"%":
            if s[si:si + 1] != b"%":
                return None
            si += 1
            pi += 1
            continue
        if len(args) >= MAX_OPT_ARGS:
            return None
        conv = p[pi:pi + 1].decode("latin-1")
        pi += 1
        if conv == "s":
            str_len = len(s) - si
            if str_len == 0:
                return None
            if length == -1 or length > str_len:
                length = str_len
            end = si + length
        elif conv in _NUMERIC:
            end = si + _NUMERIC[conv](s[si:])
            if end == si:
                return None
        else:
            return None
        args.append((si, end))
        si = end


@export("int match_token(char *s, const struct match_token *table, substring_t args[])")
def match_token(k, s, table, args):
    t = k.target
    text = k.machine.read_cstr(s, 1 << 16)
    entry_size = t.sizeof("match_token")
    sub = t.sizeof("substring_t")
    p = table
    while True:
        pattern = rd(k, p, "match_token.pattern")
        if not pattern:                        # the terminating entry matches anything
            return rd(k, p, "match_token.token", 4)
        found = match_one(text, k.machine.read_cstr(pattern, 4096))
        if found is not None:
            for i, (frm, to) in enumerate(found):
                wr(k, args + i * sub, "substring_t.from", s + frm)
                wr(k, args + i * sub, "substring_t.to", s + to)
            return rd(k, p, "match_token.token", 4)
        p += entry_size


def substring(k, sub: int) -> bytes:
    """The bytes a substring_t spans."""
    frm, to = rd(k, sub, "substring_t.from"), rd(k, sub, "substring_t.to")
    return k.machine.read(frm, to - frm) if to > frm else b""


def _number(k, sub, result, base):
    """match_number(): simple_strtol of the substring, -EINVAL/-ERANGE, int result."""
    text = substring(k, sub).split(b"\0")[0]       # match_strdup() then C string functions
    value, n = _strtol(text, base)
    if n == 0:
        return -errno.EINVAL
    if not INT_MIN <= value <= INT_MAX:
        return -errno.ERANGE
    k.machine.write_u32(result, value & 0xFFFFFFFF)
    return 0


@export("int match_int(substring_t *s, int *result)")
def match_int(k, s, result):
    return _number(k, s, result, 0)


@export("int match_octal(substring_t *s, int *result)")
def match_octal(k, s, result):
    return _number(k, s, result, 8)


@export("int match_hex(substring_t *s, int *result)")
def match_hex(k, s, result):
    return _number(k, s, result, 16)


@export("int match_uint(substring_t *s, unsigned int *result)")
def match_uint(k, s, result):
    err, value = kstrto("uint", substring(k, s).split(b"\0")[0], 10)
    if not err:
        k.machine.write_u32(result, value)
    return err


@export("int match_u64(substring_t *s, u64 *result)")
def match_u64(k, s, result):
    err, value = kstrto("ull", substring(k, s).split(b"\0")[0], 0)
    if not err:
        k.machine.write_u64(result, value)
    return err


def wildcard(pattern: bytes, string: bytes) -> bool:
    """match_wildcard(): '*' any run, '?' any one character."""
    s = p = 0
    pat_start, str_start, star = 0, 0, False
    while s < len(string):
        c = pattern[p:p + 1]
        if c == b"?":
            s += 1
            p += 1
        elif c == b"*":
            star, str_start = True, s
            p += 1
            if p >= len(pattern):
                return True
            pat_start = p
        elif c and string[s:s + 1] == c:
            s += 1
            p += 1
        else:
            if not star:
                return False
            str_start += 1
            s, p = str_start, pat_start
    if pattern[p:p + 1] == b"*":
        p += 1
    return p >= len(pattern)


@export("bool match_wildcard(const char *pattern, const char *str)")
def match_wildcard(k, pattern, string):
    return wildcard(k.machine.read_cstr(pattern, 4096), k.machine.read_cstr(string, 1 << 16))


@export("size_t match_strlcpy(char *dest, const substring_t *src, size_t size)")
def match_strlcpy(k, dest, src, size):
    data = substring(k, src)
    if size:
        n = min(len(data), size - 1)
        k.machine.write(dest, data[:n] + b"\0")
    return len(data)


@export("char *match_strdup(const substring_t *s)")
def match_strdup(k, s):
    from ..mm.slab import kmalloc
    data = substring(k, s)
    addr = kmalloc(k, len(data) + 1, 0, kind="kmemdup_nul")
    if addr:
        k.machine.write(addr, data + b"\0")
    return addr
