"""User memory access: lib/usercopy.c, mm/maccess.c, lib/strn*_user.c and the
x86 assembler helpers (arch/x86/lib/getuser.S, putuser.S, clear_page_64.S,
copy_user_64.S).

User space is the machine's ``user`` region (from 0x400000). An access is
allowed when ``access_ok()`` says so (below TASK_SIZE_MAX with 4-level
paging) and copies as far as the memory is mapped, returning what it could
not copy, exactly like the kernel's exception-table fixups.

Python API (for the VFS models and the lead's CLI):

* ``user_alloc(k, size) -> addr`` / ``user_free(k, addr)``: map user pages;
* ``user_buffer(k, data_or_size)``: a context manager doing both;
* ``copy_out(k, uaddr, data) -> not_copied``, ``copy_in(k, uaddr, n) -> bytes``
  (short on a fault);
* ``iter_copy_to(k, iter, data) -> copied``, ``iter_copy_from(k, iter, n) -> bytes``:
  copy_to_iter()/copy_from_iter() on a ``struct iov_iter`` (ubuf, iovec, kvec).
"""
from __future__ import annotations

import contextlib
import errno

from kemu import export
from kemu.errors import MemoryFault
from kemu.abi.exports import members

members("struct iov_iter", "iter_type", "iov_offset", "count", "iov|__iov", "ubuf", "nr_segs")

PAGE_SIZE = 4096
TASK_SIZE_MAX = (1 << 47) - PAGE_SIZE      # arch/x86/include/asm/page_64_types.h, 4-level


def access_ok(addr: int, size: int) -> bool:
    """__access_ok(): the whole range lies below TASK_SIZE_MAX."""
    return size <= TASK_SIZE_MAX and addr <= TASK_SIZE_MAX - size


# ------------------------------------------------------------ user memory
class UserMemory:
    """Per-kernel user mappings handed out by :func:`user_alloc`."""

    def __init__(self, k):
        self.k = k
        self.maps: dict[int, int] = {}


def user_alloc(k, size: int) -> int:
    """Map ``size`` bytes (page-rounded, zeroed) of user memory; returns the address."""
    region = k.machine.user
    addr = region.map(max(size, 1))
    k.model(UserMemory).maps[addr] = size
    return addr


def user_free(k, addr: int) -> None:
    """Unmap user memory from :func:`user_alloc` (later accesses fault)."""
    size = k.model(UserMemory).maps.pop(addr, None)
    if size is not None:
        k.machine.user.unmap(addr, max(size, 1))


@contextlib.contextmanager
def user_buffer(k, data_or_size):
    """A user buffer holding ``data`` (bytes) or ``size`` zero bytes, unmapped afterwards."""
    if isinstance(data_or_size, int):
        addr = user_alloc(k, data_or_size)
    else:
        addr = user_alloc(k, len(data_or_size))
        if data_or_size:
            k.machine.write(addr, bytes(data_or_size))
    try:
        yield addr
    finally:
        user_free(k, addr)


def _mapped_prefix(k, addr: int, n: int, write: bytes | None = None, zero: bool = False) -> int:
    """How many bytes from ``addr`` can be accessed, writing ``write`` (or zeroes)
    over them; the count is bounded by what is mapped, never by ``n`` alone."""
    m = k.machine
    bad = m.first_unmapped(addr, n)
    done = n if bad is None else bad - addr
    if done and write is not None:
        m.write(addr, write[:done])
    elif done and zero:
        m.fill(addr, 0, done)
    return done


def copy_out(k, uaddr: int, data: bytes) -> int:
    """raw_copy_to_user(): write ``data`` at ``uaddr``; returns bytes NOT copied."""
    if not data:
        return 0
    try:
        k.machine.write(uaddr, data)
        return 0
    except MemoryFault:
        return len(data) - _mapped_prefix(k, uaddr, len(data), data)


def copy_in(k, uaddr: int, n: int) -> bytes:
    """raw_copy_from_user(): read up to ``n`` bytes at ``uaddr`` (short on a fault)."""
    if n <= 0:
        return b""
    try:
        return k.machine.read(uaddr, n)
    except MemoryFault:
        ok = _mapped_prefix(k, uaddr, n)
        return k.machine.read(uaddr, ok) if ok else b""


def _kread(k, addr: int, n: int) -> bytes:
    return k.machine.read(addr, n) if n > 0 else b""


# ------------------------------------------------------------ exports
@export("unsigned long _copy_to_user(void __user *to, const void *from, unsigned long n)", fails="n")
def _copy_to_user(k, to, frm, n):
    if not access_ok(to, n):
        return n
    return copy_out(k, to, _kread(k, frm, n))


@export("unsigned long _copy_from_user(void *to, const void __user *from, unsigned long n)", fails="n")
def _copy_from_user(k, to, frm, n):
    res = n
    data = b""
    if access_ok(frm, n):
        data = copy_in(k, frm, n)
        res = n - len(data)
    if data:
        k.machine.write(to, data)
    if res:
        k.machine.fill(to + (n - res), 0, res)           # memset(to + (n - res), 0, res)
    return res


@export("long copy_from_user_nofault(void *dst, const void __user *src, size_t size)")
def copy_from_user_nofault(k, dst, src, size):
    if not access_ok(src, size):
        return -errno.EFAULT
    data = copy_in(k, src, size)
    if data:
        k.machine.write(dst, data)
    return 0 if len(data) == size else -errno.EFAULT


@export("long copy_to_user_nofault(void __user *dst, const void *src, size_t size)")
def copy_to_user_nofault(k, dst, src, size):
    if not access_ok(dst, size):
        return -errno.EFAULT
    return -errno.EFAULT if copy_out(k, dst, _kread(k, src, size)) else 0


def _raw_copy(k, to, frm, length):
    """copy_user_generic(): either side may be user memory; returns bytes not copied."""
    if length <= 0:
        return 0
    data = copy_in(k, frm, length)
    left = copy_out(k, to, data) if data else 0
    return length - len(data) + left


for _name in ("copy_user_generic_unrolled", "copy_user_generic_string",
              "copy_user_enhanced_fast_string"):
    export(f"unsigned long {_name}(void *to, const void *from, unsigned int len)")(
        lambda k, to, frm, length: _raw_copy(k, to, frm, length))


@export("unsigned long __copy_user_nocache(void *dst, const void __user *src, unsigned int size)")
def __copy_user_nocache(k, dst, src, size):
    return _raw_copy(k, dst, src, size)


@export("long strncpy_from_user(char *dst, const char __user *src, long count)")
def strncpy_from_user(k, dst, src, count):
    if count <= 0:
        return 0
    if src >= TASK_SIZE_MAX:
        return -errno.EFAULT
    limit = min(count, TASK_SIZE_MAX - src)
    data = copy_in(k, src, limit)
    nul = data.find(0)
    if nul >= 0:
        k.machine.write(dst, data[:nul + 1])
        return nul
    if data:
        k.machine.write(dst, data)
    if len(data) == count:
        return count              # no NUL in count bytes: dst is not terminated
    return -errno.EFAULT


@export("long strnlen_user(const char __user *str, long count)")
def strnlen_user(k, s, count):
    if count <= 0 or s >= TASK_SIZE_MAX:
        return 0
    limit = min(count, TASK_SIZE_MAX - s)
    data = copy_in(k, s, limit)
    nul = data.find(0)
    if nul >= 0:
        return nul + 1
    if len(data) == count:
        return count + 1
    return 0


def _clear_user_regs(k):
    """clear_user_*(): rdi = address, rcx = count; returns rcx = bytes left (uaccess_64.h)."""
    m = k.machine
    addr, size = m.reg("rdi"), m.reg("rcx")
    done = _mapped_prefix(k, addr, size, zero=True) if size else 0
    m.set_reg("rdi", addr + done)
    m.set_reg("rcx", size - done)


for _name in ("clear_user_erms", "clear_user_rep_good", "clear_user_original"):
    export(f"void {_name}(void)", until="6.12")(lambda k: _clear_user_regs(k))


# not in 6.1, in 6.12 (the release that brought them is not checked here)
@export("void rep_stos_alternative(void)", since="6.12")
def rep_stos_alternative(k):
    """arch/x86/lib/clear_page_64.S: clear_user()'s out-of-line part, as the
    clear_user_* of 6.1 it replaced: rdi = address, rcx = count; rcx = bytes left."""
    _clear_user_regs(k)


@export("void rep_movs_alternative(void)", since="6.12")
def rep_movs_alternative(k):
    """arch/x86/lib/copy_user_64.S: copy_user_generic()'s out-of-line part:
    rdi = to, rsi = from, rcx = count (either side user memory); rcx = bytes left."""
    m = k.machine
    to, frm, size = m.reg("rdi"), m.reg("rsi"), m.reg("rcx")
    left = _raw_copy(k, to, frm, size)
    m.set_reg("rdi", to + size - left)
    m.set_reg("rsi", frm + size - left)
    m.set_reg("rcx", left)


@export("unsigned long clear_user(void __user *to, unsigned long n)", until="6.1")
def clear_user(k, to: int, n: int) -> int:
    """clear_user() (an export in 5.10, an inline in 6.1): zero user memory; returns
    bytes not cleared."""
    if not access_ok(to, n):
        return n
    return n - _mapped_prefix(k, to, n, zero=True) if n else 0


# getuser.S / putuser.S: the range check is `ptr < TASK_SIZE_MAX - (size - 1)`;
# the nocheck variants skip it. A fault gives -EFAULT (and a zero value for get).
def _make_get(size: int, check: bool):
    name = f"__get_user_{'nocheck_' if not check else ''}{size}"

    def get(k, ptr):
        if check and ptr >= TASK_SIZE_MAX - (size - 1):
            return -errno.EFAULT, 0
        data = copy_in(k, ptr, size)
        if len(data) != size:
            return -errno.EFAULT, 0
        return 0, int.from_bytes(data, "little")
    get.__name__ = name
    export(f"int {name}(const void __user *ptr)", convention="get_user")(get)


def _make_put(size: int, check: bool, ctype: str):
    name = f"__put_user_{'nocheck_' if not check else ''}{size}"

    def put(k, value, ptr):
        if check and ptr >= TASK_SIZE_MAX - (size - 1):
            return -errno.EFAULT
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        return -errno.EFAULT if copy_out(k, ptr, data) else 0
    put.__name__ = name
    export(f"int {name}({ctype} value, void __user *ptr)", convention="put_user")(put)


for _size, _ctype in ((1, "unsigned char"), (2, "unsigned short"), (4, "unsigned int"),
                      (8, "unsigned long")):
    for _check in (True, False):
        _make_get(_size, _check)
        _make_put(_size, _check, _ctype)


# ------------------------------------------------------------ iov_iter (lib/iov_iter.c)
def _segments(k, it: int):
    """(base, len) of the iter's remaining segments, and whether they are user memory."""
    t, m = k.target, k.machine
    itype = m.read_u8(it + t.offset("iov_iter.iter_type"))
    off = m.read_u64(it + t.offset("iov_iter.iov_offset"))
    count = m.read_u64(it + t.offset("iov_iter.count"))
    if itype == t.const("ITER_UBUF"):
        base = m.read_u64(it + t.offset("iov_iter.ubuf"))
        return [(base + off, count)], True
    if itype in (t.const("ITER_IOVEC"), t.const("ITER_KVEC")):
        segs, left = [], count
        vec = m.read_u64(it + t.offset("iov_iter.iov"))
        nr = m.read_u64(it + t.offset("iov_iter.nr_segs"))
        kind = "iovec" if itype == t.const("ITER_IOVEC") else "kvec"
        size = t.sizeof(kind)
        for i in range(nr):
            if left <= 0:
                break
            base = m.read_u64(vec + i * size + t.offset(f"{kind}.iov_base"))
            length = m.read_u64(vec + i * size + t.offset(f"{kind}.iov_len"))
            if i == 0:
                base, length = base + off, length - off
            length = min(length, left)
            segs.append((base, length))
            left -= length
        return segs, itype == t.const("ITER_IOVEC")
    raise NotImplementedError(f"kemu: iov_iter type {itype} is not modelled")


def _advance(k, it: int, n: int) -> None:
    """iov_iter_advance() for ubuf/iovec/kvec iters."""
    t, m = k.target, k.machine
    itype = m.read_u8(it + t.offset("iov_iter.iter_type"))
    count = m.read_u64(it + t.offset("iov_iter.count"))
    n = min(n, count)
    m.write_u64(it + t.offset("iov_iter.count"), count - n)
    off = m.read_u64(it + t.offset("iov_iter.iov_offset")) + n
    if itype == t.const("ITER_UBUF"):
        m.write_u64(it + t.offset("iov_iter.iov_offset"), off)
        return
    kind = "iovec" if itype == t.const("ITER_IOVEC") else "kvec"
    size = t.sizeof(kind)
    vec = m.read_u64(it + t.offset("iov_iter.iov"))
    nr = m.read_u64(it + t.offset("iov_iter.nr_segs"))
    while nr:
        length = m.read_u64(vec + t.offset(f"{kind}.iov_len"))
        if off < length:
            break
        off -= length
        vec += size
        nr -= 1
    m.write_u64(it + t.offset("iov_iter.iov"), vec)
    m.write_u64(it + t.offset("iov_iter.nr_segs"), nr)
    m.write_u64(it + t.offset("iov_iter.iov_offset"), off)


def iter_count(k, it: int) -> int:
    """iov_iter_count()."""
    return k.machine.read_u64(it + k.target.offset("iov_iter.count"))


def iter_copy_to(k, it: int, data: bytes) -> int:
    """copy_to_iter(): copy ``data`` into the iter, advance it; returns bytes copied."""
    segs, user = _segments(k, it)
    done = 0
    for base, length in segs:
        if done >= len(data):
            break
        piece = data[done:done + length]
        if user:
            if not access_ok(base, len(piece)):
                break
            left = copy_out(k, base, piece)
        else:
            k.machine.write(base, piece)
            left = 0
        done += len(piece) - left
        if left:
            break
    _advance(k, it, done)
    return done


def iter_copy_from(k, it: int, n: int) -> bytes:
    """copy_from_iter(): up to ``n`` bytes out of the iter, advancing it."""
    segs, user = _segments(k, it)
    out = bytearray()
    for base, length in segs:
        if len(out) >= n:
            break
        want = min(length, n - len(out))
        if user:
            if not access_ok(base, want):
                break
            piece = copy_in(k, base, want)
        else:
            piece = k.machine.read(base, want)
        out += piece
        if len(piece) < want:
            break
    _advance(k, it, len(out))
    return bytes(out)


@export("int check_zeroed_user(const void __user *from, size_t size)")
def check_zeroed_user(k, frm, size):
    """1 if the ``size`` user bytes at ``from`` are all zero, 0 if not, -EFAULT on a fault
    (read a word at a time from the aligned start, as lib/usercopy.c does)."""
    if size == 0:
        return 1
    align = frm % 8
    frm, size = frm - align, size + align
    if not access_ok(frm, size):
        return -errno.EFAULT

    def word(addr):
        raw = copy_in(k, addr, 8)
        return int.from_bytes(raw, "little") if len(raw) == 8 else None
    val = word(frm)
    if val is None:
        return -errno.EFAULT
    if align:
        val &= ~((1 << (8 * align)) - 1) & ((1 << 64) - 1)
    while size > 8:
        if val:
            return 0
        frm, size = frm + 8, size - 8
        val = word(frm)
        if val is None:
            return -errno.EFAULT
    if size < 8:
        val &= (1 << (8 * size)) - 1
    return int(val == 0)


@export("void __copy_overflow(int size, unsigned long count)")
def __copy_overflow(k, size, count):
    """mm/maccess.c: copy_{to,from}_user() of more than the object holds."""
    from .kemu_warn import warn
    warn(k, "mm/maccess.c:228", "__copy_overflow+0x16/0x30",
         f"Buffer overflow detected ({size} < {count})!")
