"""The algorithms Debian's kernel has built in (CONFIG_CRYPTO_{MD5,SHA1,SHA256,AES}=y):
md5-generic, sha1-generic, sha224-generic, sha256-generic and aes-generic.

They are registered when a kernel's crypto core first comes up, so a module
asking for "sha256" finds it as it would on the real kernel. Their hash state
lives in the shash_desc context with the kernel's layouts (struct md5_state,
sha1_state, sha256_state), so export/import and copies of descriptors work.
crypto_null.py adds cipher_null, digest_null and ecb(cipher_null) (CRYPTO_NULL2=y).
"""
from __future__ import annotations

import struct

from kemu import export
from kemu.abi.exports import members

from ..lib import aes as AES
from .internal import CRYPTO_MSG_BOOT, Alg, const, crypto_notifier, off, tfm_ctx
from kemu.abi.toolkit import init_list_head, list_add, static, static_addr

members("struct shash_alg", "descsize", "digestsize", "statesize", "base", "init", "update",
        "final", "finup", "digest", "export", "import", "setkey", "init_tfm", "exit_tfm")
members("struct crypto_alg", "cra_list", "cra_users", "cra_flags", "cra_blocksize",
        "cra_ctxsize", "cra_priority", "cra_refcnt", "cra_name", "cra_driver_name", "cra_type",
        "cra_u", "cra_alignmask", "cra_init", "cra_exit", "cra_destroy")
members("struct cipher_alg", "cia_min_keysize", "cia_max_keysize", "cia_setkey", "cia_encrypt",
        "cia_decrypt")
members("struct sha256_state", "state", "count", "buf")
members("struct sha1_state", "state", "count", "buffer")
members("struct md5_state", "hash", "block", "byte_count")

M = 0xFFFFFFFF


def _rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & M


def _rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & M


_K256 = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]


def sha256_block(h, block):
    w = list(struct.unpack(">16I", block))
    for i in range(16, 64):
        s0 = _rotr(w[i - 15], 7) ^ _rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
        s1 = _rotr(w[i - 2], 17) ^ _rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
        w.append((w[i - 16] + s0 + w[i - 7] + s1) & M)
    a, b, c, d, e, f, g, hh = h
    for i in range(64):
        t1 = (hh + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ (~e & g)) +
              _K256[i] + w[i]) & M
        t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & M
        a, b, c, d, e, f, g, hh = (t1 + t2) & M, a, b, c, (d + t1) & M, e, f, g
    return [(x + y) & M for x, y in zip(h, (a, b, c, d, e, f, g, hh))]


def sha1_block(h, block):
    w = list(struct.unpack(">16I", block))
    for i in range(16, 80):
        w.append(_rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1))
    a, b, c, d, e = h
    for i in range(80):
        if i < 20:
            f, kk = (b & c) | (~b & d), 0x5A827999
        elif i < 40:
            f, kk = b ^ c ^ d, 0x6ED9EBA1
        elif i < 60:
            f, kk = (b & c) | (b & d) | (c & d), 0x8F1BBCDC
        else:
            f, kk = b ^ c ^ d, 0xCA62C1D6
        a, b, c, d, e = (_rotl(a, 5) + (f & M) + e + kk + w[i]) & M, a, _rotl(b, 30), c, d
    return [(x + y) & M for x, y in zip(h, (a, b, c, d, e))]


_MD5_S = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4
_MD5_K = [int(abs(__import__("math").sin(i + 1)) * 2 ** 32) & M for i in range(64)]


def md5_block(h, block):
    x = struct.unpack("<16I", block)
    a, b, c, d = h
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | (~d & M)), (7 * i) % 16
        f = (f + a + _MD5_K[i] + x[g]) & M
        a, d, c, b = d, c, b, (b + _rotl(f, _MD5_S[i])) & M
    return [(v + w) & M for v, w in zip(h, (a, b, c, d))]


class BlockHash:
    """One Merkle-Damgard hash whose state lives in a kernel struct."""

    def __init__(self, name, digestsize, struct_name, words, iv, block_fn, big_endian,
                 state_member, count_member, buf_member):
        self.name, self.digestsize, self.struct_name = name, digestsize, struct_name
        self.words, self.iv, self.block_fn, self.be = words, iv, block_fn, big_endian
        self.members = (state_member, count_member, buf_member)

    def _addr(self, k, ctx, i):
        return ctx + off(k, f"{self.struct_name}.{self.members[i]}")

    def load(self, k, ctx):
        m = k.machine
        h = list(struct.unpack(f"<{self.words}I", m.read(self._addr(k, ctx, 0), 4 * self.words)))
        return h, m.read_u64(self._addr(k, ctx, 1)), bytearray(m.read(self._addr(k, ctx, 2), 64))

    def store(self, k, ctx, h, count, buf):
        m = k.machine
        m.write(self._addr(k, ctx, 0), struct.pack(f"<{self.words}I", *h))
        m.write_u64(self._addr(k, ctx, 1), count)
        m.write(self._addr(k, ctx, 2), bytes(buf))

    def init(self, k, ctx):
        k.machine.write(ctx, bytes(k.target.sizeof(self.struct_name)))
        self.store(k, ctx, list(self.iv), 0, bytes(64))

    def update_bytes(self, h, count, buf, data: bytes):
        partial = count & 63
        count += len(data)
        if partial + len(data) < 64:
            buf[partial:partial + len(data)] = data
            return h, count, buf
        pending = bytes(buf[:partial]) + data
        pos = 0
        while pos + 64 <= len(pending):
            h = self.block_fn(h, pending[pos:pos + 64])
            pos += 64
        rest = pending[pos:]
        buf[:len(rest)] = rest
        return h, count, buf

    def update(self, k, ctx, data: bytes):
        h, count, buf = self.load(k, ctx)
        self.store(k, ctx, *self.update_bytes(h, count, buf, data))

    def final(self, k, ctx) -> bytes:
        h, count, buf = self.load(k, ctx)
        bits = (count << 3) & ((1 << 64) - 1)
        index = count & 63
        pad = b"\x80" + bytes((55 - index) % 64)
        h, count, buf = self.update_bytes(h, count, buf, pad)
        h, count, buf = self.update_bytes(h, count, buf, bits.to_bytes(8, "big" if self.be else
                                                                      "little"))
        k.machine.write(ctx, bytes(k.target.sizeof(self.struct_name)))   # memzero_explicit()
        out = struct.pack((">" if self.be else "<") + f"{self.words}I", *h)
        return out[:self.digestsize]


SHA256_IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
             0x1f83d9ab, 0x5be0cd19]
SHA224_IV = [0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511,
             0x64f98fa7, 0xbefa4fa4]
HASHES = {
    "sha256": BlockHash("sha256", 32, "sha256_state", 8, SHA256_IV, sha256_block, True,
                        "state", "count", "buf"),
    "sha224": BlockHash("sha224", 28, "sha256_state", 8, SHA224_IV, sha256_block, True,
                        "state", "count", "buf"),
    "sha1": BlockHash("sha1", 20, "sha1_state", 5,
                      [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0],
                      sha1_block, True, "state", "count", "buffer"),
    "md5": BlockHash("md5", 16, "md5_state", 4, [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476],
                     md5_block, False, "hash", "byte_count", "block"),
}


def _hash_of_desc(k, desc):
    from .shash import desc_tfm, shash_alg_of
    alg = shash_alg_of(k, desc_tfm(k, desc))
    return k.model(Builtins).hash_by_alg[alg]


def _ctx(k, desc):
    return desc + k.target.sizeof("shash_desc")


@static("int builtin_hash_init(struct shash_desc *desc)")
def builtin_hash_init(k, desc):
    _hash_of_desc(k, desc).init(k, _ctx(k, desc))
    return 0


@static("int builtin_hash_update(struct shash_desc *desc, const u8 *data, unsigned int len)")
def builtin_hash_update(k, desc, data, length):
    _hash_of_desc(k, desc).update(k, _ctx(k, desc), k.machine.read(data, length) if length else b"")
    return 0


@static("int builtin_hash_final(struct shash_desc *desc, u8 *out)")
def builtin_hash_final(k, desc, out):
    k.machine.write(out, _hash_of_desc(k, desc).final(k, _ctx(k, desc)))
    return 0


@static("int builtin_hash_finup(struct shash_desc *desc, const u8 *data, unsigned int len, "
         "u8 *out)")
def builtin_hash_finup(k, desc, data, length, out):
    builtin_hash_update(k, desc, data, length)
    return builtin_hash_final(k, desc, out)


def _update_export(name):
    @export(f"int crypto_{name}_update(struct shash_desc *desc, const u8 *data, unsigned int len)")
    def update(k, desc, data, length):
        HASHES[name].update(k, _ctx(k, desc), k.machine.read(data, length) if length else b"")
        return 0

    @export(f"int crypto_{name}_finup(struct shash_desc *desc, const u8 *data, unsigned int len, "
            "u8 *hash)")
    def finup(k, desc, data, length, hash_):
        h = HASHES[name]
        h.update(k, _ctx(k, desc), k.machine.read(data, length) if length else b"")
        ds = k.machine.read_u32(_shash_alg_of_desc(k, desc) + off(k, "shash_alg.digestsize"))
        k.machine.write(hash_, h.final(k, _ctx(k, desc))[:ds])
        return 0
    return update, finup


def _shash_alg_of_desc(k, desc):
    from .shash import desc_tfm, shash_alg_of
    return shash_alg_of(k, desc_tfm(k, desc))


_update_export("sha1")
_update_export("sha256")


# ------------------------------------------------------------------ aes-generic
@export("int crypto_aes_set_key(struct crypto_tfm *tfm, const u8 *in_key, unsigned int key_len)")
def crypto_aes_set_key(k, tfm, in_key, key_len):
    return AES.aes_expandkey(k, tfm_ctx(k, tfm), in_key, key_len)


@static("void aes_generic_encrypt(struct crypto_tfm *tfm, u8 *out, const u8 *in)")
def aes_generic_encrypt(k, tfm, out, in_):
    AES.aes_encrypt(k, tfm_ctx(k, tfm), out, in_)


@static("void aes_generic_decrypt(struct crypto_tfm *tfm, u8 *out, const u8 *in)")
def aes_generic_decrypt(k, tfm, out, in_):
    AES.aes_decrypt(k, tfm_ctx(k, tfm), out, in_)


# --------------------------------------------------------------- registration
# Boot order (crypto/md5.c, sha1_generic.c, sha256_generic.c initcalls, in link
# order) and cra_priority: md5.c sets none (0), the others 100.
REGISTRATION_ORDER = ("md5", "sha1", "sha256", "sha224")
PRIORITY = {"md5": 0}

class Builtins:
    """The built-in algorithms, made and linked into crypto_alg_list once per kernel."""

    def __init__(self, k):
        self.hash_by_alg = {}
        self.algs = []

    def setup(self, k, c):
        from .shash import ShashType
        t, m = k.target, k.machine
        for name in REGISTRATION_ORDER:
            h = HASHES[name]
            alg = m.alloc_kdata(t.sizeof("shash_alg"), 64)
            for member, fn in (("init", "builtin_hash_init"), ("update", "builtin_hash_update"),
                               ("final", "builtin_hash_final"),
                               ("finup", "builtin_hash_finup")):
                m.write_u64(alg + off(k, f"shash_alg.{member}"), static_addr(k, fn))
            for member, fn in (("digest", "shash_digest_unaligned"),
                               ("export", "shash_default_export"),
                               ("import", "shash_default_import"),
                               ("setkey", "shash_no_setkey")):
                m.write_u64(alg + off(k, f"shash_alg.{member}"), static_addr(k, fn))
            size = t.sizeof(h.struct_name)
            m.write_u32(alg + off(k, "shash_alg.descsize"), size)
            m.write_u32(alg + off(k, "shash_alg.statesize"), size)
            m.write_u32(alg + off(k, "shash_alg.digestsize"), h.digestsize)
            base = alg + off(k, "shash_alg.base")
            self._base(k, base, name, PRIORITY.get(name, 100), 64, k.model(ShashType).addr,
                       const(k, "CRYPTO_ALG_TYPE_SHASH"))
            self.hash_by_alg[alg] = h
            self._link(k, c, base, alg, "shash", name)
        alg = m.alloc_kdata(t.sizeof("crypto_alg"), 64)
        self._base(k, alg, "aes", 100, 16, 0, const(k, "CRYPTO_ALG_TYPE_CIPHER"))
        m.write_u32(alg + off(k, "crypto_alg.cra_ctxsize"), t.sizeof("crypto_aes_ctx"))
        cia = alg + off(k, "crypto_alg.cra_u")
        m.write_u32(cia + off(k, "cipher_alg.cia_min_keysize"), 16)
        m.write_u32(cia + off(k, "cipher_alg.cia_max_keysize"), 32)
        m.write_u64(cia + off(k, "cipher_alg.cia_setkey"), k.export_addr("crypto_aes_set_key"))
        m.write_u64(cia + off(k, "cipher_alg.cia_encrypt"), static_addr(k, "aes_generic_encrypt"))
        m.write_u64(cia + off(k, "cipher_alg.cia_decrypt"), static_addr(k, "aes_generic_decrypt"))
        self._link(k, c, alg, alg, "cipher", "aes")

    @staticmethod
    def _base(k, base, name, priority, blocksize, cra_type, type_flag):
        m = k.machine
        m.write(base + off(k, "crypto_alg.cra_name"), name.encode() + b"\0")
        m.write(base + off(k, "crypto_alg.cra_driver_name"), f"{name}-generic".encode() + b"\0")
        m.write_u32(base + off(k, "crypto_alg.cra_priority"), priority)
        m.write_u32(base + off(k, "crypto_alg.cra_blocksize"), blocksize)
        m.write_u64(base + off(k, "crypto_alg.cra_type"), cra_type)
        m.write_u32(base + off(k, "crypto_alg.cra_flags"),
                    type_flag | const(k, "CRYPTO_ALG_TESTED"))
        m.write_u32(base + off(k, "crypto_alg.cra_refcnt"), 1)

    def _link(self, k, c, base, outer, kind, name):
        init_list_head(k, base + off(k, "crypto_alg.cra_users"))
        list_add(k, base + off(k, "crypto_alg.cra_list"), c.alg_list)
        rec = Alg(base, outer, kind, name, f"{name}-generic", None)
        c.algs.insert(0, rec)
        self.algs.append(rec)


@crypto_notifier(CRYPTO_MSG_BOOT)
def setup(k, c) -> None:
    """Register the built-in algorithms into the crypto core ``c`` of kernel ``k``."""
    from . import crypto_null
    crypto_null.setup(k, c)                 # crypto_null.o links before md5.o
    k.model(Builtins).setup(k, c)

