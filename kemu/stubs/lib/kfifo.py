"""lib/kfifo.c: the byte/record FIFO behind DECLARE_KFIFO / kfifo_alloc().

``struct __kfifo { unsigned int in, out, mask, esize; void *data; }``: ``in``
and ``out`` run freely and are masked into a power-of-two buffer of
``mask + 1`` elements of ``esize`` bytes, exactly as the kernel keeps them, so
the inline kfifo_len()/kfifo_is_empty() module code uses stay right.
"""
import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import kfree, kzalloc, rd, wr
from .usercopy import copy_in, copy_out

members("struct __kfifo", "in", "out", "mask", "esize", "data")

U32 = 0xFFFFFFFF


def _roundup_pow_of_two(n: int) -> int:
    return 1 << (n - 1).bit_length() if n > 1 else 1


def _rounddown_pow_of_two(n: int) -> int:
    return 1 << (n.bit_length() - 1) if n else 0


class _F:
    def __init__(self, k, fifo):
        self.k, self.fifo = k, fifo
        self.input = rd(k, fifo, "__kfifo.in", 4)
        self.out = rd(k, fifo, "__kfifo.out", 4)
        self.mask = rd(k, fifo, "__kfifo.mask", 4)
        self.esize = rd(k, fifo, "__kfifo.esize", 4)
        self.data = rd(k, fifo, "__kfifo.data")

    def unused(self):
        return (self.mask + 1) - ((self.input - self.out) & U32)

    def length(self):
        return (self.input - self.out) & U32

    def copy_in_(self, data: bytes, off: int):
        """kfifo_copy_in(): ``data`` (whole elements) at element offset ``off``."""
        size, esize = self.mask + 1, self.esize
        if not esize:                  # len *= esize: nothing is copied
            return
        off &= self.mask
        n = len(data) // esize
        first = min(n, size - off)
        self.k.machine.write(self.data + off * esize, data[:first * esize])
        if n > first:
            self.k.machine.write(self.data, data[first * esize:])

    def copy_out_(self, n: int, off: int) -> bytes:
        size, esize = self.mask + 1, self.esize
        off &= self.mask
        first = min(n, size - off)
        out = self.k.machine.read(self.data + off * esize, first * esize) if first else b""
        if n > first:
            out += self.k.machine.read(self.data, (n - first) * esize)
        return out

    def set(self, field, value):
        wr(self.k, self.fifo, f"__kfifo.{field}", value & U32, 4)


@export("int __kfifo_alloc(struct __kfifo *fifo, unsigned int size, size_t esize, gfp_t gfp_mask)", fails="-ENOMEM")
def __kfifo_alloc(k, fifo, size, esize, gfp_mask):
    size = _roundup_pow_of_two(size)
    for field, value in (("in", 0), ("out", 0), ("esize", esize)):
        wr(k, fifo, f"__kfifo.{field}", value, 4)
    if size < 2:
        wr(k, fifo, "__kfifo.data", 0)
        wr(k, fifo, "__kfifo.mask", 0, 4)
        return -errno.EINVAL
    data = kzalloc(k, esize * size, "kfifo")
    wr(k, fifo, "__kfifo.data", data)
    wr(k, fifo, "__kfifo.mask", size - 1, 4)
    return 0


@export("void __kfifo_free(struct __kfifo *fifo)")
def __kfifo_free(k, fifo):
    data = rd(k, fifo, "__kfifo.data")
    if data:
        kfree(k, data)
    for field in ("in", "out", "esize", "mask"):
        wr(k, fifo, f"__kfifo.{field}", 0, 4)
    wr(k, fifo, "__kfifo.data", 0)


@export("int __kfifo_init(struct __kfifo *fifo, void *buffer, unsigned int size, size_t esize)")
def __kfifo_init(k, fifo, buffer, size, esize):
    if not esize:
        from kemu.errors import DivideError
        raise DivideError("divide error in __kfifo_init: size /= esize with esize 0")
    size //= esize
    size = _rounddown_pow_of_two(size)
    for field, value in (("in", 0), ("out", 0), ("esize", esize)):
        wr(k, fifo, f"__kfifo.{field}", value, 4)
    wr(k, fifo, "__kfifo.data", buffer)
    if size < 2:
        wr(k, fifo, "__kfifo.mask", 0, 4)
        return -errno.EINVAL
    wr(k, fifo, "__kfifo.mask", size - 1, 4)
    return 0


@export("unsigned int __kfifo_in(struct __kfifo *fifo, const void *buf, unsigned int len)")
def __kfifo_in(k, fifo, buf, length):
    f = _F(k, fifo)
    length = min(length, f.unused())
    if length:
        f.copy_in_(k.machine.read(buf, length * f.esize), f.input)
    f.set("in", f.input + length)
    return length


def _peek(k, f, buf, length):
    length = min(length, f.length())
    if length:
        k.machine.write(buf, f.copy_out_(length, f.out))
    return length


@export("unsigned int __kfifo_out_peek(struct __kfifo *fifo, void *buf, unsigned int len)")
def __kfifo_out_peek(k, fifo, buf, length):
    return _peek(k, _F(k, fifo), buf, length)


@export("unsigned int __kfifo_out(struct __kfifo *fifo, void *buf, unsigned int len)")
def __kfifo_out(k, fifo, buf, length):
    f = _F(k, fifo)
    length = _peek(k, f, buf, length)
    f.set("out", f.out + length)
    return length


@export("int __kfifo_to_user(struct __kfifo *fifo, void *to, unsigned long len, "
        "unsigned int *copied)")
def __kfifo_to_user(k, fifo, to, length, copied):
    """Copy up to ``len`` bytes of whole elements to user space: 0 or -EFAULT."""
    f = _F(k, fifo)
    n = min(length // f.esize if f.esize else 0, f.length())
    data = f.copy_out_(n, f.out)
    left = copy_out(k, to, data)                 # bytes not copied
    if left:
        k.machine.write_u32(copied, len(data) - left)
        return -errno.EFAULT
    f.set("out", f.out + n)
    k.machine.write_u32(copied, n * f.esize)
    return 0


@export("int __kfifo_from_user(struct __kfifo *fifo, const void *from, unsigned long len, "
        "unsigned int *copied)")
def __kfifo_from_user(k, fifo, from_, length, copied):
    """Copy up to ``len`` bytes of whole elements from user space: 0 or -EFAULT."""
    f = _F(k, fifo)
    n = min(length // f.esize if f.esize else 0, f.unused())
    data = copy_in(k, from_, n * f.esize)
    if len(data) < n * f.esize:
        k.machine.write_u32(copied, 0)
        return -errno.EFAULT
    f.copy_in_(data, f.input)
    f.set("in", f.input + n)
    k.machine.write_u32(copied, n * f.esize)
    return 0
