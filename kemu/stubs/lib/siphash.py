"""lib/siphash.c: SipHash-2-4 (siphash_*) and, on 64-bit, SipHash-1-3 (hsiphash_*).

A port of the kernel's PREAMBLE/SIPROUND/POSTAMBLE. Every fixed-width entry
point (``siphash_1u64`` ... ``siphash_3u32``, ``hsiphash_1u32`` ...) is, by
construction in lib/siphash.c, the hash of its arguments laid out as
little-endian words (u64 arguments 8 bytes, u32 arguments 4, pairs of u32
combined into one u64), so all go through :func:`siphash_bytes`.

x86_64 has CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS, so Linux 6.1 builds and
exports only the ``__siphash_unaligned``/``__hsiphash_unaligned`` variants
(the aligned ones are not compiled); the inline ``siphash()`` calls them.
On 64-bit, "HalfSipHash" is SipHash-1-3 with an unsigned long[2] key, and
returns the low 32 bits.

Python API: ``siphash_bytes(data, key0, key1, c_rounds=2, d_rounds=4) -> int``.
"""
from __future__ import annotations

import struct

from kemu import export

M64 = (1 << 64) - 1
# "somepseudorandomlygeneratedbytes"
SIPHASH_CONST = (0x736F6D6570736575, 0x646F72616E646F6D, 0x6C7967656E657261, 0x7465646279746573)


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & M64


def _round(v0, v1, v2, v3):
    """SIPHASH_PERMUTATION()."""
    v0 = (v0 + v1) & M64
    v1 = _rotl(v1, 13)
    v1 ^= v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & M64
    v3 = _rotl(v3, 16)
    v3 ^= v2
    v0 = (v0 + v3) & M64
    v3 = _rotl(v3, 21)
    v3 ^= v0
    v2 = (v2 + v1) & M64
    v1 = _rotl(v1, 17)
    v1 ^= v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash_bytes(data: bytes, key0: int, key1: int, c_rounds: int = 2, d_rounds: int = 4) -> int:
    """SipHash-c-d of ``data`` under key (key0, key1), as lib/siphash.c computes it."""
    v0, v1, v2, v3 = SIPHASH_CONST
    v3 ^= key1                                            # PREAMBLE(len)
    v2 ^= key0
    v1 ^= key1
    v0 ^= key0
    n = len(data)
    b = (n << 56) & M64
    end = n - n % 8
    for (m,) in struct.iter_unpack("<Q", data[:end]):
        v3 ^= m
        for _ in range(c_rounds):
            v0, v1, v2, v3 = _round(v0, v1, v2, v3)
        v0 ^= m
    b |= int.from_bytes(data[end:], "little")             # the switch (left) tail
    v3 ^= b                                               # POSTAMBLE
    for _ in range(c_rounds):
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    v0 ^= b
    v2 ^= 0xFF
    for _ in range(d_rounds):
        v0, v1, v2, v3 = _round(v0, v1, v2, v3)
    return (v0 ^ v1) ^ (v2 ^ v3)


def _key(k, key):
    return k.machine.read_u64(key), k.machine.read_u64(key + 8)


def _sip(k, data: bytes, key) -> int:
    return siphash_bytes(data, *_key(k, key))


def _hsip(k, data: bytes, key) -> int:
    return siphash_bytes(data, *_key(k, key), c_rounds=1, d_rounds=3) & 0xFFFFFFFF


def _u64s(*vals) -> bytes:
    return struct.pack(f"<{len(vals)}Q", *(v & M64 for v in vals))


def _u32s(*vals) -> bytes:
    return struct.pack(f"<{len(vals)}I", *(v & 0xFFFFFFFF for v in vals))


# ------------------------------------------------------------ SipHash-2-4
@export("u64 __siphash_unaligned(const void *data, size_t len, const siphash_key_t *key)")
def __siphash_unaligned(k, data, len, key):
    return _sip(k, k.machine.read(data, len) if len else b"", key)


@export("u64 siphash_1u64(const u64 first, const siphash_key_t *key)")
def siphash_1u64(k, first, key):
    return _sip(k, _u64s(first), key)


@export("u64 siphash_2u64(const u64 first, const u64 second, const siphash_key_t *key)")
def siphash_2u64(k, first, second, key):
    return _sip(k, _u64s(first, second), key)


@export("u64 siphash_3u64(const u64 first, const u64 second, const u64 third, "
        "const siphash_key_t *key)")
def siphash_3u64(k, first, second, third, key):
    return _sip(k, _u64s(first, second, third), key)


@export("u64 siphash_4u64(const u64 first, const u64 second, const u64 third, "
        "const u64 forth, const siphash_key_t *key)")
def siphash_4u64(k, first, second, third, forth, key):
    return _sip(k, _u64s(first, second, third, forth), key)


@export("u64 siphash_1u32(const u32 first, const siphash_key_t *key)")
def siphash_1u32(k, first, key):
    return _sip(k, _u32s(first), key)


@export("u64 siphash_3u32(const u32 first, const u32 second, const u32 third, "
        "const siphash_key_t *key)")
def siphash_3u32(k, first, second, third, key):
    return _sip(k, _u32s(first, second, third), key)


# ------------------------------------------------------------ HalfSipHash (SipHash-1-3 on 64-bit)
@export("u32 __hsiphash_unaligned(const void *data, size_t len, const hsiphash_key_t *key)")
def __hsiphash_unaligned(k, data, len, key):
    return _hsip(k, k.machine.read(data, len) if len else b"", key)


@export("u32 hsiphash_1u32(const u32 first, const hsiphash_key_t *key)")
def hsiphash_1u32(k, first, key):
    return _hsip(k, _u32s(first), key)


@export("u32 hsiphash_2u32(const u32 first, const u32 second, const hsiphash_key_t *key)")
def hsiphash_2u32(k, first, second, key):
    return _hsip(k, _u32s(first, second), key)


@export("u32 hsiphash_3u32(const u32 first, const u32 second, const u32 third, "
        "const hsiphash_key_t *key)")
def hsiphash_3u32(k, first, second, third, key):
    return _hsip(k, _u32s(first, second, third), key)


@export("u32 hsiphash_4u32(const u32 first, const u32 second, const u32 third, "
        "const u32 forth, const hsiphash_key_t *key)")
def hsiphash_4u32(k, first, second, third, forth, key):
    return _hsip(k, _u32s(first, second, third, forth), key)
