"""kernel/sysctl.c and fs/proc/proc_sysctl.c: sysctl tables and the proc_do* handlers.

``register_sysctl(path, table)`` registers the files of one directory,
``register_sysctl_table(table)`` a tree (entries with ``child`` are
directories, as in 6.1). Each table is checked as ``sysctl_check_table``
does (a file needs a proc_handler, a string/int handler data and maxlen,
mode only of 0666 bits), a name already registered is refused with the
kernel's "sysctl duplicate entry" error, and the call then returns NULL.
The ``ctl_table_header`` is a kernel object; what a module leaves registered
at exit is reported.

The handlers (``proc_dointvec``, ``_minmax``, ``_jiffies``,
``proc_douintvec``, ``proc_dou8vec_minmax``, ``proc_dobool``,
``proc_doulongvec_minmax``, ``proc_doulongvec_ms_jiffies_minmax``, ``proc_dostring``) and ``sysctl_vals`` are the kernel's, on a kernel buffer as in 6.1
(``sysctl_writes_strict`` = 1).

Python API: ``sysctl_entries(k) -> {"fs/coda/timeout": (table entry, owner)}``,
``sysctl_read(k, path) -> bytes``, ``sysctl_write(k, path, data) -> int``
(both through the entry's proc_handler, as a read/write of /proc/sys would).
"""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.errors import KemuError
from kemu.kernel.log import KERN_ERR
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, kfree, kzalloc, rd, s32, s64, sym, wr

members("struct ctl_table", "procname", "data", "maxlen", "mode", "child", "proc_handler",
        "extra1", "extra2")
members("struct ctl_table_header", "ctl_table", "count", "nreg", "ctl_table_arg", "used",
        "unregistering", "root", "set", "parent", "node")

PAGE_SIZE = 4096
INT_MAX, UINT_MAX = (1 << 31) - 1, (1 << 32) - 1
ULONG_MAX = (1 << 64) - 1
TMPBUFLEN = 22
WSPACE = b" \t\n"
S_IRUGO_IWUGO = 0o666


class SysctlError(KemuError):
    """A /proc/sys path that cannot be read or written."""


class Sysctl:
    """Registered sysctl files: path -> (entry address, header address)."""

    def __init__(self, k):
        self.files: dict[str, tuple[int, int]] = {}
        self.headers: dict[int, list[str]] = {}


# ------------------------------------------------------------ registration
def _entries(k, table, count: int | None = None):
    """The entries of a table: up to the empty sentinel, and at most ``count``
    (6.6's table_size: since 6.11 tables need no sentinel)."""
    size = k.target.sizeof("ctl_table")
    p = table
    while (count is None or (p - table) // size < count) and rd(k, p, "ctl_table.procname"):
        yield p
        p += size


_STRINGY = ("proc_dostring", "proc_dobool", "proc_dointvec", "proc_douintvec",
            "proc_dointvec_minmax", "proc_douintvec_minmax", "proc_dou8vec_minmax",
            "proc_dointvec_jiffies", "proc_dointvec_userhz_jiffies",
            "proc_dointvec_ms_jiffies", "proc_doulongvec_minmax",
            "proc_doulongvec_ms_jiffies_minmax")


def _handler_addrs(k) -> set:
    """Addresses of the modelled handlers of _STRINGY (those need data and maxlen)."""
    from kemu.abi.exports import REGISTRY
    return {k.export_addr(n) for n in _STRINGY if n in REGISTRY}


def _check(k, path, entry) -> bool:
    """sysctl_check_table() for one file entry; False (after pr_err) if it is bad."""
    name = cstr(k, rd(k, entry, "ctl_table.procname"))
    problems = []
    handler = rd(k, entry, "ctl_table.proc_handler")
    if k.target.has_offset("ctl_table.child") and rd(k, entry, "ctl_table.child"):
        problems.append("Not a file")                   # 6.6 removed .child
    if handler and handler in _handler_addrs(k):
        if not rd(k, entry, "ctl_table.data"):
            problems.append("No data")
        if not rd(k, entry, "ctl_table.maxlen", 4):
            problems.append("No maxlen")
    if not handler:
        problems.append("No proc_handler")
    mode = rd(k, entry, "ctl_table.mode", 2)
    if mode & S_IRUGO_IWUGO != mode:
        problems.append(f"bogus .mode 0{mode:o}")
    for what in problems:
        k.log.emit(KERN_ERR, f"sysctl table check failed: {path}/{name} {what}")
    return not problems


def _flatten(k, path, table, out, ok):
    for entry in _entries(k, table):
        name = cstr(k, rd(k, entry, "ctl_table.procname"))
        child = rd(k, entry, "ctl_table.child")
        if child:
            _flatten(k, f"{path}/{name}" if path else name, child, out, ok)
        else:
            ok[0] &= _check(k, path, entry)
            out.append((f"{path}/{name}" if path else name, entry))


def _register(k, path, table, tree, count=None):
    model = k.model(Sysctl)
    files, ok = [], [True]
    if tree:
        _flatten(k, path, table, files, ok)
    else:
        for entry in _entries(k, table, count):
            ok[0] &= _check(k, path, entry)
            files.append((f"{path}/{cstr(k, rd(k, entry, 'ctl_table.procname'))}", entry))
    if not ok[0]:
        return 0
    seen = set()
    for fpath, _entry in files:
        if fpath in model.files or fpath in seen:
            k.log.emit(KERN_ERR, f"sysctl duplicate entry: /{fpath}")
            return 0
        seen.add(fpath)
    header = kzalloc(k, k.target.sizeof("ctl_table_header"), "ctl_table_header")
    if not header:
        return 0
    wr(k, header, "ctl_table_header.ctl_table", table)
    wr(k, header, "ctl_table_header.ctl_table_arg", table)
    wr(k, header, "ctl_table_header.count", 1, 4)
    wr(k, header, "ctl_table_header.nreg", 1, 4)
    for fpath, entry in files:
        model.files[fpath] = (entry, header)
    model.headers[header] = [f for f, _ in files]
    where = path or (files[0][0].rsplit("/", 1)[0] if files else "")
    k.register("sysctl table", header, k.current_module(),
               f"sysctl table /proc/sys/{where} ({len(files)} entries)")
    return header


@export("struct ctl_table_header *register_sysctl(const char *path, struct ctl_table *table)", fails="NULL")
def register_sysctl(k, path, table):
    return _register(k, cstr(k, path).strip("/"), table, False)


@export("struct ctl_table_header *register_sysctl_sz(const char *path, struct ctl_table *table, "
        "size_t table_size)", since="6.6", fails="NULL")
def register_sysctl_sz(k, path, table, table_size):
    """6.6: register_sysctl() is a macro passing ARRAY_SIZE(table)."""
    return _register(k, cstr(k, path).strip("/"), table, False, table_size)


@export("struct ctl_table_header *register_sysctl_table(struct ctl_table *table)", fails="NULL")
def register_sysctl_table(k, table):
    return _register(k, "", table, True)


@export("void unregister_sysctl_table(struct ctl_table_header *header)")
def unregister_sysctl_table(k, header):
    if not header:
        return
    model = k.model(Sysctl)
    for fpath in model.headers.pop(header, []):
        model.files.pop(fpath, None)
    k.unregister("sysctl table", header)
    kfree(k, header)


# ------------------------------------------------------------ handler helpers
def _get_long(buf: bytes, pos: int, left: int):
    """proc_get_long(): (err, value, neg, new pos, new left)."""
    from ..lib.kstrtox import _parse_integer_fixup_radix
    length = min(left, TMPBUFLEN - 1)
    tmp = buf[pos:pos + length].split(b"\0")[0]
    neg = tmp[:1] == b"-"
    body = tmp[1:] if neg else tmp
    if not body[:1].isdigit():
        return -errno.EINVAL, 0, neg, pos, left
    base, rest = _parse_integer_fixup_radix(body, 0)
    value, n = 0, len(body) - len(rest)
    for ch in rest:                    # strtoul_lenient(): simple_strtoull refusing overflow
        digit = int(chr(ch), 16) if chr(ch) in "0123456789abcdefABCDEF" else 99
        if digit >= base:
            break
        value, n = value * base + digit, n + 1
    if value > ULONG_MAX:
        return -errno.EINVAL, 0, neg, pos, left
    used = n + neg
    if used == TMPBUFLEN - 1:          # too long to tell where the number ends
        return -errno.EINVAL, 0, neg, pos, left
    if used < length and (used >= len(tmp) or tmp[used] not in WSPACE):
        return -errno.EINVAL, 0, neg, pos, left
    return 0, value, neg, pos + used, left - used


def _skip_spaces(buf: bytes, pos: int, left: int):
    n = 0
    while n < left and buf[pos + n:pos + n + 1] and buf[pos + n] in b" \t\n\v\f\r":
        n += 1
    return pos + n, left - n


def _args(k, lenp, ppos, write, buffer):
    left = k.machine.read_u64(lenp)
    if write:
        left = min(left, PAGE_SIZE - 1)
        return left, k.machine.read(buffer, left) if left else b""
    return left, b""


def _vector(k, maxlen, data, count, write, buffer, lenp, ppos, read_one, write_one):
    """__do_proc_dointvec() shape: tab-separated values, one conversion per element."""
    lenv = k.machine.read_u64(lenp)
    pos_v = s64(k.machine.read_u64(ppos))
    if not data or not maxlen or not lenv or (pos_v and not write):
        k.machine.write_u64(lenp, 0)
        return 0
    left, buf = _args(k, lenp, ppos, write, buffer)
    err, first, pos, out = 0, True, 0, b""
    for i in range(count):
        if not left:
            break
        if write:
            pos, left = _skip_spaces(buf, pos, left)
            if not left:
                break
            err, value, neg, pos, left = _get_long(buf, pos, left)
            if err:
                break
            res = write_one(i, value, neg)
            if res:
                err = -errno.EINVAL if res is True else res
                break
        else:
            text = read_one(i)
            if text is None:
                err = -errno.EINVAL
                break
            if not first:
                out += b"\t"
            out += text
        first = False
    if not write:
        if not first and not err:
            out += b"\n"
        out = out[:left]
        if out:
            k.machine.write(buffer, out)
        left -= len(out)
    if write and not err and left:
        pos, left = _skip_spaces(buf, pos, left)
    if write and first:
        return err or -errno.EINVAL
    done = lenv - left
    k.machine.write_u64(lenp, done)
    k.machine.write_u64(ppos, (pos_v + done) & ULONG_MAX)
    return err


def _ints(k, table, write, buffer, lenp, ppos, conv_in, conv_out, data=None, maxlen=None):
    data = rd(k, table, "ctl_table.data") if data is None else data
    maxlen = rd(k, table, "ctl_table.maxlen", 4) if maxlen is None else maxlen
    count = maxlen // 4
    m = k.machine

    def read_one(i):
        v = m.read_u32(data + 4 * i)
        out = conv_out(v - (1 << 32) if v >> 31 else v)
        return None if out is None else str(out).encode()

    def write_one(i, value, neg):
        res = conv_in(value, neg)
        if isinstance(res, tuple):
            return res[0]
        m.write_u32(data + 4 * i, res & 0xFFFFFFFF)
        return 0
    return _vector(k, maxlen, data, count, write, buffer, lenp, ppos, read_one, write_one)


def _int_conv(value, neg):
    """do_proc_dointvec_conv() for writes: the int, or (True,) when out of range."""
    if neg:
        return (True,) if value > INT_MAX + 1 else -value
    return (True,) if value > INT_MAX else value


def _minmax(k, table, conv):
    lo, hi = rd(k, table, "ctl_table.extra1"), rd(k, table, "ctl_table.extra2")

    def fn(value, neg):
        v = conv(value, neg)
        if isinstance(v, tuple):
            return v
        if (lo and v < s32(k.machine.read_u32(lo))) or (hi and v > s32(k.machine.read_u32(hi))):
            return (True,)
        return v
    return fn


# ------------------------------------------------------------ handlers
_HANDLER = "(struct ctl_table *table, int write, void *buffer, size_t *lenp, loff_t *ppos)"


@export(f"int proc_dointvec{_HANDLER}")
def proc_dointvec(k, table, write, buffer, lenp, ppos):
    return _ints(k, table, write, buffer, lenp, ppos, _int_conv, lambda v: v)


@export(f"int proc_dointvec_minmax{_HANDLER}")
def proc_dointvec_minmax(k, table, write, buffer, lenp, ppos):
    return _ints(k, table, write, buffer, lenp, ppos, _minmax(k, table, _int_conv), lambda v: v)


@export(f"int proc_douintvec{_HANDLER}")
def proc_douintvec(k, table, write, buffer, lenp, ppos):
    def conv(value, neg):
        return (True,) if neg or value > UINT_MAX else value
    return _ints(k, table, write, buffer, lenp, ppos, conv, lambda v: v & UINT_MAX)


def _uint_minmax(k, lo_addr, hi_addr, lo=None, hi=None):
    """do_proc_douintvec_minmax_conv() for writes (bounds from memory or given)."""
    m = k.machine
    lo = lo if lo is not None else (m.read_u32(lo_addr) if lo_addr else None)
    hi = hi if hi is not None else (m.read_u32(hi_addr) if hi_addr else None)

    def fn(value, neg):
        if neg or value > UINT_MAX:
            return (True,)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return (-errno.ERANGE,)
        return value
    return fn


def _uints(k, table, write, buffer, lenp, ppos, conv, data=None, maxlen=None):
    """__do_proc_douintvec(): one unsigned int (arrays are refused, -EINVAL)."""
    data = rd(k, table, "ctl_table.data") if data is None else data
    maxlen = rd(k, table, "ctl_table.maxlen", 4) if maxlen is None else maxlen
    lenv = k.machine.read_u64(lenp)
    if not data or not maxlen or not lenv or (s64(k.machine.read_u64(ppos)) and not write):
        k.machine.write_u64(lenp, 0)
        return 0
    if maxlen // 4 != 1:                   # "Arrays are not supported, keep this simple"
        k.machine.write_u64(lenp, 0)
        return -errno.EINVAL
    return _ints(k, table, write, buffer, lenp, ppos, conv, lambda v: v & UINT_MAX,
                 data=data, maxlen=4)


@export(f"int proc_douintvec_minmax{_HANDLER}")
def proc_douintvec_minmax(k, table, write, buffer, lenp, ppos):
    conv = _uint_minmax(k, rd(k, table, "ctl_table.extra1"), rd(k, table, "ctl_table.extra2"))
    return _uints(k, table, write, buffer, lenp, ppos, conv)


@export(f"int proc_dou8vec_minmax{_HANDLER}")
def proc_dou8vec_minmax(k, table, write, buffer, lenp, ppos):
    """A single u8 through do_proc_douintvec with bounds clamped to 0..255."""
    m = k.machine
    if rd(k, table, "ctl_table.maxlen", 4) != 1:          # "Do not support arrays yet."
        return -errno.EINVAL
    lo, hi = 0, 255
    extra1, extra2 = rd(k, table, "ctl_table.extra1"), rd(k, table, "ctl_table.extra2")
    if extra1:
        lo = m.read_u32(extra1)
        if lo > 255:
            return -errno.EINVAL
    if extra2:
        hi = m.read_u32(extra2)
        if hi > 255:
            return -errno.EINVAL
    data = rd(k, table, "ctl_table.data")
    tmp = kzalloc(k, 4, "proc_dou8vec_minmax val")
    try:
        m.write_u32(tmp, m.read_u8(data))
        res = _uints(k, table, write, buffer, lenp, ppos, _uint_minmax(k, 0, 0, lo, hi),
                     data=tmp, maxlen=4)
        if res:
            return res
        if write:
            m.write_u8(data, m.read_u32(tmp) & 0xFF)
        return 0
    finally:
        kfree(k, tmp)


@export(f"int proc_dointvec_jiffies{_HANDLER}")
def proc_dointvec_jiffies(k, table, write, buffer, lenp, ppos):
    hz = k.HZ

    def conv(value, neg):
        if value > INT_MAX // hz:
            return (1,)
        return -(value * hz) if neg else value * hz

    def out(v):
        return -(-v // hz) if v < 0 else v // hz
    return _ints(k, table, write, buffer, lenp, ppos, conv, out)


@export(f"int proc_dobool{_HANDLER}")
def proc_dobool(k, table, write, buffer, lenp, ppos):
    if rd(k, table, "ctl_table.maxlen", 4) != 1:
        return -errno.EINVAL
    data = rd(k, table, "ctl_table.data")
    tmp = kzalloc(k, 4, "proc_dobool val")
    try:
        k.machine.write_u32(tmp, k.machine.read_u8(data) if data else 0)
        # tmp = *table; tmp.maxlen = sizeof(val); tmp.data = &val; proc_dointvec(&tmp, ...)
        res = _ints(k, table, write, buffer, lenp, ppos, _int_conv, lambda v: v, data=tmp,
                    maxlen=4)
        if not res and write and data:
            k.machine.write_u8(data, 1 if k.machine.read_u32(tmp) else 0)
        return res
    finally:
        kfree(k, tmp)


@export(f"int proc_doulongvec_minmax{_HANDLER}")
def proc_doulongvec_minmax(k, table, write, buffer, lenp, ppos):
    return _doulongvec(k, table, write, buffer, lenp, ppos, 1, 1)


@export(f"int proc_doulongvec_ms_jiffies_minmax{_HANDLER}")
def proc_doulongvec_ms_jiffies_minmax(k, table, write, buffer, lenp, ppos):
    """Longs held in jiffies, shown and written in milliseconds."""
    return _doulongvec(k, table, write, buffer, lenp, ppos, k.HZ, 1000)


def _doulongvec(k, table, write, buffer, lenp, ppos, convmul, convdiv):
    """__do_proc_doulongvec_minmax(): written values are convmul * v / convdiv,
    read ones convdiv * v / convmul."""
    m = k.machine
    data = rd(k, table, "ctl_table.data")
    lo, hi = rd(k, table, "ctl_table.extra1"), rd(k, table, "ctl_table.extra2")
    maxlen = rd(k, table, "ctl_table.maxlen", 4)
    count = maxlen // 8
    stored = [0]                                  # __do_proc_doulongvec_minmax skips negatives

    def read_one(i):
        return str(convdiv * m.read_u64(data + 8 * i) // convmul & ULONG_MAX).encode()

    def write_one(i, value, neg):
        if neg:
            return 0
        value = convmul * value // convdiv & ULONG_MAX
        j = stored[0]
        if (lo and value < m.read_u64(lo + 8 * j)) or (hi and value > m.read_u64(hi + 8 * j)):
            return True
        m.write_u64(data + 8 * j, value)
        stored[0] += 1
        return 0
    return _vector(k, maxlen, data, count, write, buffer, lenp, ppos, read_one, write_one)


@export(f"int proc_dostring{_HANDLER}")
def proc_dostring(k, table, write, buffer, lenp, ppos):
    m = k.machine
    data = rd(k, table, "ctl_table.data")
    maxlen = rd(k, table, "ctl_table.maxlen", 4)
    lenv = m.read_u64(lenp)
    pos = s64(m.read_u64(ppos))
    if not data or not maxlen or not lenv:
        m.write_u64(lenp, 0)
        return 0
    current = m.read_cstr(data, maxlen) if maxlen else b""
    if write:
        length = min(len(current), maxlen - 1)
        if pos > length:
            return 0
        length = pos
        m.write_u64(ppos, pos + lenv)
        src = m.read(buffer, lenv)
        out = bytearray()
        for c in src:
            if length + len(out) >= maxlen - 1 or c in (0, 10):
                break
            out.append(c)
        m.write(data + length, bytes(out) + b"\0")
        return 0
    length = min(len(current), maxlen)
    if pos > length:
        m.write_u64(lenp, 0)
        return 0
    chunk = current[pos:length][:lenv]
    if len(chunk) < lenv:
        chunk += b"\n"
    if chunk:
        m.write(buffer, chunk)
    m.write_u64(lenp, len(chunk))
    m.write_u64(ppos, pos + len(chunk))
    return 0


# ------------------------------------------------------------ shared bounds
# kernel/sysctl.c: the SYSCTL_ZERO... SYSCTL_NEG_ONE values handlers point extra1/2 at
SYSCTL_VALS = (0, 1, 2, 3, 4, 100, 200, 1000, 3000, INT_MAX, 65535, -1)
SYSCTL_LONG_VALS = (0, 1, (1 << 63) - 1)


@data(f"const int sysctl_vals[{len(SYSCTL_VALS)}]")
def sysctl_vals(k, addr):
    for i, v in enumerate(SYSCTL_VALS):
        k.machine.write_u32(addr + 4 * i, v & UINT_MAX)


@data(f"const long sysctl_long_vals[{len(SYSCTL_LONG_VALS)}]")
def sysctl_long_vals(k, addr):
    for i, v in enumerate(SYSCTL_LONG_VALS):
        k.machine.write_u64(addr + 8 * i, v)


# ------------------------------------------------------------ Python API
def sysctl_entries(k) -> dict:
    """path -> (ctl_table entry address, owner module name or None)."""
    model = k.model(Sysctl)
    out = {}
    for path, (entry, header) in model.files.items():
        reg = k.registrations.get(("sysctl table", header))
        out[path] = (entry, reg.owner.name if reg and reg.owner else None)
    return out


def _io(k, path, write, data=b""):
    model = k.model(Sysctl)
    hit = model.files.get(path.strip("/").removeprefix("proc/sys/"))
    if hit is None:
        raise SysctlError(f"/proc/sys/{path}: No such file or directory", errno.ENOENT)
    entry, header = hit
    handler = rd(k, entry, "ctl_table.proc_handler")
    reg = k.registrations.get(("sysctl table", header))
    size = PAGE_SIZE if not write else len(data) + 1
    buf = k.heap.alloc(size, kind="sysctl buffer", zero=True)
    lenp = k.heap.alloc(16, kind="sysctl len/pos", zero=True)
    try:
        if write:
            k.machine.write(buf, data)
        k.machine.write_u64(lenp, len(data) if write else PAGE_SIZE)
        ret = s32(k.call(handler, entry, int(write), buf, lenp, lenp + 8,
                         entry=f"/proc/sys/{path} {sym(k, handler)}",
                         module=reg.owner if reg else None))
        if ret < 0:
            raise SysctlError(f"/proc/sys/{path}: error {ret}", -ret)
        n = k.machine.read_u64(lenp)
        return n if write else k.machine.read(buf, n)
    finally:
        k.heap.free(buf)
        k.heap.free(lenp)


def sysctl_read(k, path: str) -> bytes:
    """read(2) of /proc/sys/<path> (one read of a page from offset 0)."""
    return _io(k, path, False)


def sysctl_write(k, path: str, data: bytes) -> int:
    """write(2) of ``data`` to /proc/sys/<path> at offset 0; bytes consumed."""
    return _io(k, path, True, data)

