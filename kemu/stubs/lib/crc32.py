"""lib/crc32.c and lib/crc-ccitt.c: the CRCs vmlinux exports (CRC32=y, CRC_CCITT=y)."""
import zlib

from kemu import data, export

CRC32_POLY_LE = 0xEDB88320
CRC32_POLY_BE = 0x04C11DB7
CRC32C_POLY_LE = 0x82F63B78


def _table_le(poly, bits=32):
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (poly if c & 1 else 0)
        out.append(c)
    return out


def _table_be(poly):
    out = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ (poly if c & 0x80000000 else 0)) & 0xFFFFFFFF
        out.append(c)
    return out


CRC32C_TABLE = _table_le(CRC32C_POLY_LE)
CRC32_BE_TABLE = _table_be(CRC32_POLY_BE)
CRC_CCITT_TABLE = _table_le(0x8408)              # x^16 + x^12 + x^5 + 1, reflected


def _ccitt_false_table():
    out = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ (0x1021 if c & 0x8000 else 0)) & 0xFFFF
        out.append(c)
    return out


CRC_CCITT_FALSE_TABLE = _ccitt_false_table()


def crc32_le(crc: int, data_: bytes) -> int:
    """crc32_le(): no pre- or post-inversion (zlib's crc32 inverts both ends)."""
    return ~zlib.crc32(data_, ~crc & 0xFFFFFFFF) & 0xFFFFFFFF


def crc32c_le(crc: int, data_: bytes) -> int:
    """__crc32c_le(): Castagnoli, reflected, no inversion."""
    t = CRC32C_TABLE
    for b in data_:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def crc32_be(crc: int, data_: bytes) -> int:
    t = CRC32_BE_TABLE
    for b in data_:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ t[((crc >> 24) ^ b) & 0xFF]
    return crc


def gf2_multiply(x: int, y: int, modulus: int) -> int:
    product = y if x & 1 else 0
    for _ in range(31):
        product = (product >> 1) ^ (modulus if product & 1 else 0)
        x >>= 1
        product ^= y if x & 1 else 0
    return product


def crc32_generic_shift(crc: int, length: int, polynomial: int) -> int:
    power = polynomial
    for _ in range(8 * (length & 3)):
        crc = (crc >> 1) ^ (polynomial if crc & 1 else 0)
    length >>= 2
    if not length:
        return crc
    while True:
        if length & 1:
            crc = gf2_multiply(crc, power, polynomial)
        length >>= 1
        if not length:
            break
        power = gf2_multiply(power, power, polynomial)
    return crc


def _bytes(k, p, length):
    return k.machine.read(p, length) if length else b""


@export("u32 crc32_le(u32 crc, unsigned char const *p, size_t len)")
def crc32_le_export(k, crc, p, length):
    return crc32_le(crc, _bytes(k, p, length))


@export("u32 __crc32c_le(u32 crc, unsigned char const *p, size_t len)")
def __crc32c_le(k, crc, p, length):
    return crc32c_le(crc, _bytes(k, p, length))


@export("u32 crc32_be(u32 crc, unsigned char const *p, size_t len)")
def crc32_be_export(k, crc, p, length):
    return crc32_be(crc, _bytes(k, p, length))


@export("u32 crc32_le_shift(u32 crc, size_t len)")
def crc32_le_shift(k, crc, length):
    return crc32_generic_shift(crc, length, CRC32_POLY_LE)


@export("u32 __crc32c_le_shift(u32 crc, size_t len)")
def __crc32c_le_shift(k, crc, length):
    return crc32_generic_shift(crc, length, CRC32C_POLY_LE)


def crc_ccitt(crc: int, data_: bytes) -> int:
    for b in data_:
        crc = (crc >> 8) ^ CRC_CCITT_TABLE[(crc ^ b) & 0xFF]
    return crc


def crc_ccitt_false(crc: int, data_: bytes) -> int:
    for b in data_:
        crc = ((crc << 8) & 0xFFFF) ^ CRC_CCITT_FALSE_TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


@export("u16 crc_ccitt(u16 crc, const u8 *buffer, size_t len)")
def crc_ccitt_export(k, crc, buffer, length):
    return crc_ccitt(crc, _bytes(k, buffer, length))


@export("u16 crc_ccitt_false(u16 crc, const u8 *buffer, size_t len)")
def crc_ccitt_false_export(k, crc, buffer, length):
    return crc_ccitt_false(crc, _bytes(k, buffer, length))


@data("u16 const crc_ccitt_table[256]")
def crc_ccitt_table(k, addr):
    k.machine.write(addr, b"".join(v.to_bytes(2, "little") for v in CRC_CCITT_TABLE))


@data("u16 const crc_ccitt_false_table[256]")
def crc_ccitt_false_table(k, addr):
    k.machine.write(addr, b"".join(v.to_bytes(2, "little") for v in CRC_CCITT_FALSE_TABLE))
