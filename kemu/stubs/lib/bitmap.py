"""lib/bitmap.c: the out-of-line bitmap operations and allocators."""
import errno

from kemu import export

from ..mm.slab import kfree_addr, kmalloc
from .find_bit import BITS_PER_LONG, _find_next_bit, _find_next_zero_bit, read_bitmap, \
    write_bitmap


def _lim(nbits):
    return (nbits + BITS_PER_LONG - 1) // BITS_PER_LONG


def _last_mask(nbits):
    """Every bit below nbits (BITMAP_LAST_WORD_MASK applied to the last word)."""
    return (1 << nbits) - 1


def _all(nbits):
    return (1 << (BITS_PER_LONG * _lim(nbits))) - 1


@export("bool __bitmap_equal(const unsigned long *bitmap1, const unsigned long *bitmap2, "
        "unsigned int nbits)")
def __bitmap_equal(k, b1, b2, nbits):
    a, b = read_bitmap(k, b1, nbits), read_bitmap(k, b2, nbits)    # fault before any mask
    mask = _last_mask(nbits)
    return (a & mask) == (b & mask)


@export("void __bitmap_complement(unsigned long *dst, const unsigned long *src, "
        "unsigned int nbits)")
def __bitmap_complement(k, dst, src, nbits):
    write_bitmap(k, dst, nbits, ~read_bitmap(k, src, nbits) & _all(nbits))


@export("void __bitmap_shift_right(unsigned long *dst, const unsigned long *src, "
        "unsigned int shift, unsigned int nbits)")
def __bitmap_shift_right(k, dst, src, shift, nbits):
    write_bitmap(k, dst, nbits, (read_bitmap(k, src, nbits) & _last_mask(nbits)) >> shift)


@export("void __bitmap_shift_left(unsigned long *dst, const unsigned long *src, "
        "unsigned int shift, unsigned int nbits)")
def __bitmap_shift_left(k, dst, src, shift, nbits):
    write_bitmap(k, dst, nbits, (read_bitmap(k, src, nbits) << shift) & _all(nbits))


@export("bool __bitmap_and(unsigned long *dst, const unsigned long *bitmap1, "
        "const unsigned long *bitmap2, unsigned int nbits)")
def __bitmap_and(k, dst, b1, b2, nbits):
    value = read_bitmap(k, b1, nbits) & read_bitmap(k, b2, nbits) & _last_mask(nbits)
    write_bitmap(k, dst, nbits, value)
    return value != 0


@export("void __bitmap_or(unsigned long *dst, const unsigned long *bitmap1, "
        "const unsigned long *bitmap2, unsigned int nbits)")
def __bitmap_or(k, dst, b1, b2, nbits):
    write_bitmap(k, dst, nbits, read_bitmap(k, b1, nbits) | read_bitmap(k, b2, nbits))


@export("void __bitmap_xor(unsigned long *dst, const unsigned long *bitmap1, "
        "const unsigned long *bitmap2, unsigned int nbits)")
def __bitmap_xor(k, dst, b1, b2, nbits):
    write_bitmap(k, dst, nbits, read_bitmap(k, b1, nbits) ^ read_bitmap(k, b2, nbits))


@export("bool __bitmap_andnot(unsigned long *dst, const unsigned long *bitmap1, "
        "const unsigned long *bitmap2, unsigned int nbits)")
def __bitmap_andnot(k, dst, b1, b2, nbits):
    value = read_bitmap(k, b1, nbits) & ~read_bitmap(k, b2, nbits) & _last_mask(nbits)
    write_bitmap(k, dst, nbits, value)
    return value != 0


@export("void __bitmap_replace(unsigned long *dst, const unsigned long *old, "
        "const unsigned long *new, const unsigned long *mask, unsigned int nbits)")
def __bitmap_replace(k, dst, old, new, mask, nbits):
    m = read_bitmap(k, mask, nbits)
    write_bitmap(k, dst, nbits, (read_bitmap(k, old, nbits) & ~m) | (read_bitmap(k, new, nbits) & m))


@export("bool __bitmap_intersects(const unsigned long *bitmap1, const unsigned long *bitmap2, "
        "unsigned int nbits)")
def __bitmap_intersects(k, b1, b2, nbits):
    return bool(read_bitmap(k, b1, nbits) & read_bitmap(k, b2, nbits) & _last_mask(nbits))


@export("bool __bitmap_subset(const unsigned long *bitmap1, const unsigned long *bitmap2, "
        "unsigned int nbits)")
def __bitmap_subset(k, b1, b2, nbits):
    return not (read_bitmap(k, b1, nbits) & ~read_bitmap(k, b2, nbits) & _last_mask(nbits))


@export("unsigned int __bitmap_weight(const unsigned long *bitmap, unsigned int nbits)")
def __bitmap_weight(k, bitmap, nbits):
    return bin(read_bitmap(k, bitmap, nbits) & _last_mask(nbits)).count("1")


@export("unsigned int __bitmap_weight_and(const unsigned long *bitmap1, "
        "const unsigned long *bitmap2, unsigned int nbits)")
def __bitmap_weight_and(k, b1, b2, nbits):
    return bin(read_bitmap(k, b1, nbits) & read_bitmap(k, b2, nbits) & _last_mask(nbits)).count("1")


def _set_range(k, addr, start, length, on):
    if length <= 0:
        return
    end = start + length
    first, last = start // BITS_PER_LONG, (end - 1) // BITS_PER_LONG
    span = last - first + 1
    base = addr + 8 * first
    value = int.from_bytes(k.machine.read(base, 8 * span), "little")
    bits = ((1 << length) - 1) << (start - first * BITS_PER_LONG)
    value = value | bits if on else value & ~bits
    k.machine.write(base, value.to_bytes(8 * span, "little"))


@export("void __bitmap_set(unsigned long *map, unsigned int start, int len)")
def __bitmap_set(k, map_, start, length):
    _set_range(k, map_, start, length, True)


@export("void __bitmap_clear(unsigned long *map, unsigned int start, int len)")
def __bitmap_clear(k, map_, start, length):
    _set_range(k, map_, start, length, False)


@export("unsigned long bitmap_find_next_zero_area_off(unsigned long *map, unsigned long size, "
        "unsigned long start, unsigned int nr, unsigned long align_mask, "
        "unsigned long align_offset)")
def bitmap_find_next_zero_area_off(k, map_, size, start, nr, align_mask, align_offset):
    while True:
        index = _find_next_zero_bit(k, map_, size, start)
        index = ((index + align_offset + align_mask) & ~align_mask) - align_offset
        index &= 0xFFFFFFFFFFFFFFFF
        end = index + nr
        if end > size:
            return end
        i = _find_next_bit(k, map_, end, index)
        if i < end:
            start = i + 1
            continue
        return index


def _region_bits(order):
    """BIT(order) as the kernel's ``1 << order`` computes it on x86 (the shift count
    is taken mod 32), never negative here."""
    return 1 << (order & 31)


def _region_free(k, bitmap, pos, order):
    nbits = _region_bits(order)
    value = read_bitmap(k, bitmap, pos + nbits)
    return not (value >> pos) & ((1 << nbits) - 1)


@export("int bitmap_find_free_region(unsigned long *bitmap, unsigned int bits, int order)")
def bitmap_find_free_region(k, bitmap, bits, order):
    pos = 0
    while pos + (_region_bits(order)) <= bits:
        if _region_free(k, bitmap, pos, order):
            _set_range(k, bitmap, pos, _region_bits(order), True)
            return pos
        pos += _region_bits(order)
    return -errno.ENOMEM


@export("void bitmap_release_region(unsigned long *bitmap, unsigned int pos, int order)")
def bitmap_release_region(k, bitmap, pos, order):
    _set_range(k, bitmap, pos, _region_bits(order), False)


@export("int bitmap_allocate_region(unsigned long *bitmap, unsigned int pos, int order)")
def bitmap_allocate_region(k, bitmap, pos, order):
    if not _region_free(k, bitmap, pos, order):
        return -errno.EBUSY
    _set_range(k, bitmap, pos, _region_bits(order), True)
    return 0


@export("void bitmap_from_arr32(unsigned long *bitmap, const u32 *buf, unsigned int nbits)")
def bitmap_from_arr32(k, bitmap, buf, nbits):
    n32 = (nbits + 31) // 32
    value = int.from_bytes(k.machine.read(buf, 4 * n32), "little") if n32 else 0
    if nbits % BITS_PER_LONG:
        value &= _last_mask(nbits)
    write_bitmap(k, bitmap, nbits, value)


@export("void bitmap_to_arr32(u32 *buf, const unsigned long *bitmap, unsigned int nbits)")
def bitmap_to_arr32(k, buf, bitmap, nbits):
    n32 = (nbits + 31) // 32
    value = read_bitmap(k, bitmap, nbits)
    if nbits % 32:
        value &= (1 << (32 * (n32 - 1) + nbits % 32)) - 1
    if n32:
        k.machine.write(buf, (value & ((1 << (32 * n32)) - 1)).to_bytes(4 * n32, "little"))


def _alloc(k, nbits, flags):
    return kmalloc(k, 8 * _lim(nbits), flags, kind="bitmap")


@export("unsigned long *bitmap_alloc(unsigned int nbits, gfp_t flags)", fails="NULL")
def bitmap_alloc(k, nbits, flags):
    return _alloc(k, nbits, flags)


@export("unsigned long *bitmap_zalloc(unsigned int nbits, gfp_t flags)", fails="NULL")
def bitmap_zalloc(k, nbits, flags):
    return _alloc(k, nbits, flags | k.target.const("__GFP_ZERO"))


@export("unsigned long *bitmap_alloc_node(unsigned int nbits, gfp_t flags, int node)")
def bitmap_alloc_node(k, nbits, flags, node):
    return _alloc(k, nbits, flags)


@export("unsigned long *bitmap_zalloc_node(unsigned int nbits, gfp_t flags, int node)")
def bitmap_zalloc_node(k, nbits, flags, node):
    return _alloc(k, nbits, flags | k.target.const("__GFP_ZERO"))


@export("void bitmap_free(const unsigned long *bitmap)")
def bitmap_free(k, bitmap):
    kfree_addr(k, bitmap)


class _Args:
    def __init__(self, values):
        self.values = list(values)

    def next_int(self):
        return self.values.pop(0)


@export("int bitmap_print_to_pagebuf(bool list, char *buf, const unsigned long *maskp, "
        "int nmaskbits)")
def bitmap_print_to_pagebuf(k, list_, buf, maskp, nmaskbits):
    from ..kernel.printk import _Mem, _Sym
    from .vsprintf import format_string
    fmt = b"%*pbl\n" if list_ else b"%*pb\n"
    text = format_string(fmt, _Args([nmaskbits & 0xFFFFFFFF, maskp]), _Mem(k.machine), _Sym(k))
    room = 4096 - (buf & 4095)
    text = text[:room - 1]
    k.machine.write(buf, text + b"\0")
    return len(text)


@export("void bitmap_cut(unsigned long *dst, const unsigned long *src, unsigned int first, "
        "unsigned int cut, unsigned int nbits)")
def bitmap_cut(k, dst, src, first, cut, nbits):
    """Remove bits [first, first + cut): the bits above move down, zeroes come in on top
    (of the BITS_TO_LONGS(nbits) words, as the kernel's word loop does)."""
    words = (nbits + BITS_PER_LONG - 1) // BITS_PER_LONG
    if first % BITS_PER_LONG:                       # keep = src[first / BITS_PER_LONG] & ...
        k.machine.read_u64(src + 8 * (first // BITS_PER_LONG))
    value = read_bitmap(k, src, nbits)
    first_, cut_ = min(first, 64 * words), min(cut, 64 * words)   # past the words: no bits
    keep = value & ((1 << first_) - 1)
    write_bitmap(k, dst, nbits, keep | ((value >> (first_ + cut_)) << first_))
    at = dst + 8 * (first // BITS_PER_LONG)        # dst[first / BITS_PER_LONG] &= ...; |= keep
    k.machine.write_u64(at, k.machine.read_u64(at))
