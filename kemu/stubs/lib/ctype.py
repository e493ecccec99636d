"""lib/ctype.c: the _ctype table the <linux/ctype.h> macros index."""
from kemu import data

_U, _L, _D, _C, _P, _S, _X, _SP = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

CTYPE = bytes([
    _C, _C, _C, _C, _C, _C, _C, _C,                                  # 0-7
    _C, _C | _S, _C | _S, _C | _S, _C | _S, _C | _S, _C, _C,          # 8-15
    _C, _C, _C, _C, _C, _C, _C, _C,                                  # 16-23
    _C, _C, _C, _C, _C, _C, _C, _C,                                  # 24-31
    _S | _SP, _P, _P, _P, _P, _P, _P, _P,                            # 32-39
    _P, _P, _P, _P, _P, _P, _P, _P,                                  # 40-47
    _D, _D, _D, _D, _D, _D, _D, _D,                                  # 48-55
    _D, _D, _P, _P, _P, _P, _P, _P,                                  # 56-63
    _P, _U | _X, _U | _X, _U | _X, _U | _X, _U | _X, _U | _X, _U,     # 64-71
    _U, _U, _U, _U, _U, _U, _U, _U,                                  # 72-79
    _U, _U, _U, _U, _U, _U, _U, _U,                                  # 80-87
    _U, _U, _U, _P, _P, _P, _P, _P,                                  # 88-95
    _P, _L | _X, _L | _X, _L | _X, _L | _X, _L | _X, _L | _X, _L,     # 96-103
    _L, _L, _L, _L, _L, _L, _L, _L,                                  # 104-111
    _L, _L, _L, _L, _L, _L, _L, _L,                                  # 112-119
    _L, _L, _L, _P, _P, _P, _P, _C,                                  # 120-127
    *[0] * 16,                                                       # 128-143
    *[0] * 16,                                                       # 144-159
    _S | _SP, *[_P] * 15,                                            # 160-175
    *[_P] * 16,                                                      # 176-191
    *[_U] * 16,                                                      # 192-207
    *[_U] * 7, _P, *[_U] * 7, _L,                                    # 208-223
    *[_L] * 16,                                                      # 224-239
    *[_L] * 7, _P, *[_L] * 8,                                        # 240-255
])


def isspace(c: int) -> bool:
    return bool(CTYPE[c & 0xFF] & _S)


def isdigit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def isxdigit(c: int) -> bool:
    return bool(CTYPE[c & 0xFF] & (_D | _X))


def isupper(c: int) -> bool:
    return bool(CTYPE[c & 0xFF] & _U)


def islower(c: int) -> bool:
    return bool(CTYPE[c & 0xFF] & _L)


def tolower(c: int) -> int:
    return c - ord("A") + ord("a") if isupper(c) else c


def toupper(c: int) -> int:
    return c - ord("a") + ord("A") if islower(c) else c


def _tolower(c: int) -> int:
    return c | 0x20


@data("const unsigned char _ctype[256]")
def _ctype(k, addr):
    k.machine.write(addr, CTYPE)
