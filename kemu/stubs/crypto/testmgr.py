"""crypto/testmgr.c, as kemu runs it: the self-test every registration gets.

CONFIG_CRYPTO_MANAGER_DISABLE_TESTS is off in Debian's kernel, so
crypto_register_alg() waits for cryptomgr to test the new algorithm. kemu
tests what it can check independently: a shash whose cra_name has a Python
reference implementation is driven through its own init/update/final, finup
and digest on four messages and four of testmgr's buffer configurations; the
digests must equal the reference's. Other algorithms pass untested. A
mismatch prints testmgr's messages and leaves the algorithm untested (lookups
then fail with -ELIBBAD), as in the kernel with fips_enabled=0.
"""
from __future__ import annotations

import hashlib
import struct

from kemu.kernel.log import KERN_ERR, KERN_WARNING
from kemu.abi.exports import members

from ..lib.crc32 import crc32_le, crc32c_le
from ..lib.kemu_warn import warn
from ..lib.xxhash import xxh64_bytes as _xxh64
from .internal import (CRYPTO_MSG_ALG_REGISTER, alg_field, const, crypto_notifier, destroy_tfm,
                       temp_buffer)
from kemu.abi.toolkit import is_err, ptr_err, s32

members("struct crypto_shash", "base")
members("struct shash_desc", "tfm")

VECTORS = [b"", b"abc",
           b"abcdbcdecdefdefgefghfghighijhijkijkljklmjklmnklmnolmnopmnopqnopq",
           bytes((i * 7 + 3) & 0xFF for i in range(1000))]
CONFIGS = ["init+update+final aligned buffer", "init+finup aligned buffer",
           "digest aligned buffer", "init+update+update+final two even splits"]


def _crc_t10dif(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8BB7) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _md4(data: bytes) -> bytes:
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rol(v, s): return ((v << s) | (v >> (32 - s))) & 0xFFFFFFFF
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", 8 * len(data))
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for i in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[i:i + 64])
        aa, bb, cc, dd = a, b, c, d
        for j in range(16):
            r = (3, 7, 11, 19)[j % 4]
            v = (a + f(b, c, d) + x[j]) & 0xFFFFFFFF
            a, b, c, d = d, rol(v, r), b, c
        for j in (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15):
            r = (3, 5, 9, 13)[[0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15].index(j) % 4]
            v = (a + g(b, c, d) + x[j] + 0x5A827999) & 0xFFFFFFFF
            a, b, c, d = d, rol(v, r), b, c
        for n, j in enumerate((0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)):
            r = (3, 9, 11, 15)[n % 4]
            v = (a + h(b, c, d) + x[j] + 0x6ED9EBA1) & 0xFFFFFFFF
            a, b, c, d = d, rol(v, r), b, c
        a, b, c, d = ((a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF,
                      (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF)
    return struct.pack("<4I", a, b, c, d)


def _hashlib(name, **kw):
    def ref(data):
        h = hashlib.new(name, **kw) if not kw else getattr(hashlib, name)(**kw)
        h.update(data)
        return h.digest()
    return ref


def _available(name):
    try:
        hashlib.new(name)
        return True
    except ValueError:
        return False


# cra_name -> reference digest function
REFERENCES = {
    "md4": _md4,
    "crc32c": lambda d: struct.pack("<I", ~crc32c_le(0xFFFFFFFF, d) & 0xFFFFFFFF),
    "crc32": lambda d: struct.pack("<I", crc32_le(0, d)),
    "crct10dif": lambda d: struct.pack("<H", _crc_t10dif(d)),
    **{n: _hashlib(n) for n in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")},
    **{f"sha3-{b}": _hashlib(f"sha3_{b}") for b in (224, 256, 384, 512)},
    **{f"blake2b-{b}": _hashlib("blake2b", digest_size=b // 8) for b in (160, 256, 384, 512)},
    **({"rmd160": _hashlib("ripemd160")} if _available("ripemd160") else {}),
    **({"sm3": _hashlib("sm3")} if _available("sm3") else {}),
    "xxhash64": lambda d: struct.pack("<Q", _xxh64(d, 0)),
}


def _fail(k, rec, text):
    k.log.emit(KERN_ERR, text)


def test_shash(k, rec) -> int:
    """Drive the shash through testmgr's configurations; 0 or the first error."""
    from . import shash as S
    m = k.machine
    ref = REFERENCES[rec.name]
    flags = alg_field(k, rec.addr, "cra_flags")
    tfm = yield from S.alloc_shash_by_name(k, rec.driver, flags, const(k, "CRYPTO_ALG_TESTED"))
    if is_err(tfm):
        _fail(k, rec, f"alg: hash: failed to allocate transform for {rec.driver}: {ptr_err(tfm)}")
        return ptr_err(tfm)
    digestsize = S.digestsize(k, tfm)
    desc = temp_buffer(k, k.target.sizeof("shash_desc") + S.descsize(k, tfm), "shash_desc")
    m.write_u64(desc + k.target.offset("shash_desc.tfm"), tfm)
    out = temp_buffer(k, max(digestsize, 64))
    rc = 0
    try:
        for vi, vec in enumerate(VECTORS):
            want = ref(vec)[:digestsize]
            buf = temp_buffer(k, len(vec) + 1, "testmgr vector")
            m.write(buf, vec)
            for cfg in CONFIGS:
                m.write(out, b"\xcc" * digestsize)
                half = len(vec) // 2
                if cfg.startswith("digest"):
                    steps = [("digest", S.digest(k, desc, buf, len(vec), out))]
                elif cfg.startswith("init+finup"):
                    steps = [("init", S.init(k, desc)), ("finup", S.finup(k, desc, buf, len(vec), out))]
                elif "two even splits" in cfg:
                    steps = [("init", S.init(k, desc)), ("update", S.update(k, desc, buf, half)),
                             ("update", S.update(k, desc, buf + half, len(vec) - half)),
                             ("final", S.final(k, desc, out))]
                else:
                    steps = [("init", S.init(k, desc)), ("update", S.update(k, desc, buf, len(vec))),
                             ("final", S.final(k, desc, out))]
                for op, gen in steps:
                    err = s32((yield from gen))
                    if err:
                        _fail(k, rec, f'alg: shash: {rec.driver} {op}() failed with err {err} '
                                      f'on test vector {vi}, cfg="{cfg}"')
                        rc = err
                        break
                if rc:
                    break
                if m.read(out, digestsize) != want:
                    _fail(k, rec, f'alg: shash: {rec.driver} test failed (wrong result) on '
                                  f'test vector {vi}, cfg="{cfg}"')
                    rc = -22
                    break
            k.heap.free(buf)
            if rc:
                break
    finally:
        k.heap.free(desc)
        k.heap.free(out)
    yield from destroy_tfm(k, tfm, tfm + k.target.offset("crypto_shash.base"))
    return rc


def needs_key(k, rec) -> bool:
    from . import shash as S
    return S.alg_has_setkey(k, rec.outer) and \
        not alg_field(k, rec.addr, "cra_flags") & const(k, "CRYPTO_ALG_OPTIONAL_KEY")


@crypto_notifier(CRYPTO_MSG_ALG_REGISTER)
def alg_test(k, rec) -> bool:
    """alg_test(): True when the algorithm passed (or kemu cannot test it)."""
    if rec.kind != "shash" or rec.name not in REFERENCES or needs_key(k, rec):
        return True
    rc = yield from test_shash(k, rec)
    if rc:
        k.log.emit(KERN_WARNING, f"alg: self-tests for {rec.name} using {rec.driver} failed (rc={rc})")
        warn(k, "crypto/testmgr.c:5907", "alg_test.cold+0x7c/0xf5",
             f"alg: self-tests for {rec.name} using {rec.driver} failed (rc={rc})")
        return False
    return True
