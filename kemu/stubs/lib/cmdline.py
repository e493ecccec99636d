"""lib/cmdline.c: get_option(), get_options(), memparse(), next_arg()."""
from kemu import export
from kemu.module.params import next_arg as _next_arg

from .kstrtox import _simple_strtoull


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def _strtoull(k, addr):
    """simple_strtoull(addr, &end, 0): (value, end address)."""
    value, n = _simple_strtoull(k.machine.read_cstr(addr, 4096), 0)
    return value, addr + n


def _get_option(k, cur, pint):
    """get_option() on a char * held in Python: (result, new cur)."""
    m = k.machine
    if not cur or not m.read_u8(cur):
        return 0, cur
    start = cur
    if m.read_u8(cur) == ord("-"):
        start = cur + 1
        value, end = _strtoull(k, start)
        value = -value
    else:
        value, end = _strtoull(k, cur)
    if pint:
        m.write_u32(pint, value)
    if start == end:
        return 0, end
    ch = m.read_u8(end)
    if ch == ord(","):
        return 2, end + 1
    if ch == ord("-"):
        return 3, end
    return 1, end


@export("int get_option(char **str, int *pint)")
def get_option(k, str_, pint):
    res, cur = _get_option(k, k.machine.read_u64(str_), pint)
    if k.machine.read_u64(str_):
        k.machine.write_u64(str_, cur)
    return res


@export("char *get_options(const char *str, int nints, int *ints)")
def get_options(k, str_, nints, ints):
    m = k.machine
    validate = nints == 0
    i = 1
    while i < nints or validate:
        pint = ints if validate else ints + 4 * i
        res, str_ = _get_option(k, str_, pint)
        if res == 0:
            break
        if res == 3:
            n = 0 if validate else nints - i
            str_ += 1                                    # get_range()
            if m.read_u8(str_) == ord("-"):              # simple_strtol()
                upper = _s32(-_strtoull(k, str_ + 1)[0])
            else:
                upper = _s32(_strtoull(k, str_)[0])
            first = _s32(m.read_u32(pint))
            inc = upper - first
            x, p = first, pint
            while n and x < upper:
                m.write_u32(p, x)
                p += 4
                x += 1
                n -= 1
            if inc < 0:
                break
            i += inc - 1
        i += 1
        if res == 1:
            break
    m.write_u32(ints, i - 1)
    return str_


@export("unsigned long long memparse(const char *ptr, char **retptr)")
def memparse(k, ptr, retptr):
    value, end = _strtoull(k, ptr)
    suffix = chr(k.machine.read_u8(end)).lower()
    order = "kmgtpe"
    if suffix in order:
        value = (value << (10 * (order.index(suffix) + 1))) & ((1 << 64) - 1)
        end += 1
    if retptr:
        k.machine.write_u64(retptr, end)
    return value


@export("char *next_arg(char *args, char **param, char **val)")
def next_arg(k, args, param, val):
    m = k.machine
    text = m.read_cstr(args)
    buf = bytearray(text + b"\0")
    p, v, nxt = _next_arg(buf, 0)
    m.write(args, bytes(buf))
    m.write_u64(param, args + p)
    m.write_u64(val, args + v if v is not None else 0)
    return args + nxt
