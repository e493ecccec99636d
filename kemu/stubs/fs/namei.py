"""fs/namei.c: the dcache name hash (x86_64, CONFIG_DCACHE_WORD_ACCESS).

``full_name_hash`` mixes the name eight bytes at a time (little-endian
words, the last one masked to the remaining bytes) with ``HASH_MIX`` and
folds with GOLDEN_RATIO_64, exactly as the kernel, so filesystems' d_hash
and d_compare helpers agree with it.
"""
from kemu import export

M64 = (1 << 64) - 1
GOLDEN_RATIO_64 = 0x61C8864680B583EB


def _rol64(v: int, s: int) -> int:
    return ((v << s) | (v >> (64 - s))) & M64


def name_hash(salt: int, name: bytes) -> int:
    """full_name_hash(salt, name, len(name))."""
    x, y = 0, salt & M64
    i, length = 0, len(name)
    while length >= 8:
        a = int.from_bytes(name[i:i + 8], "little")
        x ^= a                                                   # HASH_MIX(x, y, a)
        y ^= x
        x = _rol64(x, 12)
        x = (x + y) & M64
        y = _rol64(y, 45)
        y = (y * 9) & M64
        i, length = i + 8, length - 8
    if length:
        x ^= int.from_bytes(name[i:i + length], "little")       # a & bytemask_from_count(len)
    y ^= (x * GOLDEN_RATIO_64) & M64                             # fold_hash(x, y)
    y = (y * GOLDEN_RATIO_64) & M64
    return y >> 32


@export("unsigned int full_name_hash(const void *salt, const char *name, unsigned int len)")
def full_name_hash(k, salt, name, length):
    return name_hash(salt, k.machine.read(name, length) if length else b"")
