"""lib/find_bit.c: the out-of-line find_*_bit() searches (unsigned long words, LE)."""
from kemu import export

BITS_PER_LONG = 64


def read_bitmap(k, addr, nbits) -> int:
    """The first BITS_TO_LONGS(nbits) words at ``addr`` as one integer."""
    words = (nbits + BITS_PER_LONG - 1) // BITS_PER_LONG
    if not words:
        return 0
    return int.from_bytes(k.machine.read(addr, 8 * words), "little")


def write_bitmap(k, addr, nbits, value) -> None:
    words = (nbits + BITS_PER_LONG - 1) // BITS_PER_LONG
    if words:
        k.machine.write(addr, (value & ((1 << (64 * words)) - 1)).to_bytes(8 * words, "little"))


def _first_set(value: int, start: int, size: int) -> int:
    value >>= start
    if not value:
        return size
    return min(start + ((value & -value).bit_length() - 1), size)


def _next(k, word_of, nbits, start):
    if start >= nbits:
        return nbits
    value = word_of(nbits)        # faults first when nbits runs past mapped memory
    return _first_set(value & ((1 << nbits) - 1), start, nbits)


@export("unsigned long find_next_bit(const unsigned long *addr1, unsigned long nbits, "
        "unsigned long start)", until="6.1")                # 5.10's names, no underscore
@export("unsigned long _find_next_bit(const unsigned long *addr1, unsigned long nbits, "
        "unsigned long start)")
def _find_next_bit(k, addr1, nbits, start):
    return _next(k, lambda n: read_bitmap(k, addr1, n), nbits, start)


@export("unsigned int cpumask_next(int n, const struct cpumask *srcp)", until="6.1")
def cpumask_next(k, n, srcp):
    """5.10 (lib/cpumask.c): the next CPU after ``n`` set in the mask, nr_cpu_ids if none
    (6.1 inlines it over _find_next_bit())."""
    nr = k.machine.read_u32(k.export_addr("nr_cpu_ids"))
    return _find_next_bit(k, srcp, nr, n + 1)


@export("unsigned long _find_next_and_bit(const unsigned long *addr1, const unsigned long *addr2, "
        "unsigned long nbits, unsigned long start)")
def _find_next_and_bit(k, addr1, addr2, nbits, start):
    return _next(k, lambda n: read_bitmap(k, addr1, n) & read_bitmap(k, addr2, n), nbits, start)


@export("unsigned long _find_next_andnot_bit(const unsigned long *addr1, "
        "const unsigned long *addr2, unsigned long nbits, unsigned long start)")
def _find_next_andnot_bit(k, addr1, addr2, nbits, start):
    return _next(k, lambda n: read_bitmap(k, addr1, n) & ~read_bitmap(k, addr2, n), nbits, start)


@export("unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long nbits, "
        "unsigned long start)", until="6.1")
@export("unsigned long _find_next_zero_bit(const unsigned long *addr, unsigned long nbits, "
        "unsigned long start)")
def _find_next_zero_bit(k, addr, nbits, start):
    return _next(k, lambda n: ~read_bitmap(k, addr, n), nbits, start)


@export("unsigned long find_first_bit(const unsigned long *addr, unsigned long size)", until="6.1")
@export("unsigned long _find_first_bit(const unsigned long *addr, unsigned long size)")
def _find_first_bit(k, addr, size):
    return _next(k, lambda n: read_bitmap(k, addr, n), size, 0)


@export("unsigned long _find_first_and_bit(const unsigned long *addr1, "
        "const unsigned long *addr2, unsigned long size)")
def _find_first_and_bit(k, addr1, addr2, size):
    return _next(k, lambda n: read_bitmap(k, addr1, n) & read_bitmap(k, addr2, n), size, 0)


@export("unsigned long find_first_zero_bit(const unsigned long *addr, unsigned long size)",
        until="6.1")
@export("unsigned long _find_first_zero_bit(const unsigned long *addr, unsigned long size)")
def _find_first_zero_bit(k, addr, size):
    return _next(k, lambda n: ~read_bitmap(k, addr, n), size, 0)


@export("unsigned long find_last_bit(const unsigned long *addr, unsigned long size)", until="6.1")
@export("unsigned long _find_last_bit(const unsigned long *addr, unsigned long size)")
def _find_last_bit(k, addr, size):
    if not size:
        return size
    value = read_bitmap(k, addr, size) & ((1 << size) - 1)
    return value.bit_length() - 1 if value else size


@export("unsigned long find_next_clump8(unsigned long *clump, const unsigned long *addr, "
        "unsigned long size, unsigned long offset)")
def find_next_clump8(k, clump, addr, size, offset):
    offset = _find_next_bit(k, addr, size, (offset // 8) * 8)   # round_down(offset, 8)
    if offset < size:
        value = read_bitmap(k, addr, size)
        k.machine.write_u64(clump, (value >> offset) & 0xFF)
    return offset
