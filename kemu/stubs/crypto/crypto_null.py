"""crypto/crypto_null.c (built in: CONFIG_CRYPTO_NULL2=y): cipher_null, digest_null,
ecb(cipher_null) and the default null skcipher that gcm, geniv and authenc share.

The algorithms are made when the crypto core comes up (builtin.setup()), as
crypto_null_mod_init() registers them at boot; their functions are kernel
functions modules reach through the algorithm structures.
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members

from .internal import Alg, const, destroy_tfm, off, temp_buffer
from kemu.abi.toolkit import init_list_head, is_err, list_add, static, static_addr

members("struct shash_alg", "digestsize", "base")
members("struct crypto_alg", "cra_list", "cra_users", "cra_flags", "cra_blocksize",
        "cra_priority", "cra_refcnt", "cra_name", "cra_driver_name", "cra_u")
members("struct skcipher_alg", "base", "encrypt", "decrypt")
members("struct crypto_skcipher", "reqsize", "base")
members("struct skcipher_walk", "src", "src.virt.addr", "dst", "dst.virt.addr",
        "src.virt.page", "src.phys.page", "src.phys.offset", "dst.virt.page", "dst.phys.page",
        "dst.phys.offset", "in", "nbytes", "out", "total", "buffers", "page", "buffer", "oiv",
        "iv", "ivsize", "flags", "blocksize", "stride", "alignmask")

NULL_BLOCK_SIZE, NULL_KEY_SIZE, NULL_IV_SIZE, NULL_DIGEST_SIZE = 1, 0, 0, 0


# ------------------------------------------------------------ the algorithms
@static("int null_hash_setkey(struct crypto_shash *tfm, const u8 *key, unsigned int keylen)")
def null_hash_setkey(k, tfm, key, keylen):
    return 0


@static("int null_init(struct shash_desc *desc)")
def null_init(k, desc):
    return 0


@static("int null_update(struct shash_desc *desc, const u8 *data, unsigned int len)")
def null_update(k, desc, data, length):
    return 0


@static("int null_final(struct shash_desc *desc, u8 *out)")
def null_final(k, desc, out):
    return 0


@static("int null_digest(struct shash_desc *desc, const u8 *data, unsigned int len, u8 *out)")
def null_digest(k, desc, data, length, out):
    return 0


@static("int null_setkey(struct crypto_tfm *tfm, const u8 *key, unsigned int keylen)")
def null_setkey(k, tfm, key, keylen):
    return 0


@static("void null_crypt(struct crypto_tfm *tfm, u8 *dst, const u8 *src)")
def null_crypt(k, tfm, dst, src):
    k.machine.write(dst, k.machine.read(src, NULL_BLOCK_SIZE))


@static("int null_skcipher_setkey(struct crypto_skcipher *tfm, const u8 *key, "
         "unsigned int keylen)")
def null_skcipher_setkey(k, tfm, key, keylen):
    return 0


@static("int null_skcipher_crypt(struct skcipher_request *req)")
def null_skcipher_crypt(k, req):
    """skcipher_walk_virt() over the request, copying each step when src != dst."""
    from .skcipher_walk import Walk, skcipher_walk_virt, walk_done
    m = k.machine
    walk = temp_buffer(k, k.target.sizeof("skcipher_walk"), "struct skcipher_walk")
    try:
        err = skcipher_walk_virt(k, walk, req, False)
        w = Walk(k, walk)
        while w.get("nbytes"):
            src = m.read_u64(walk + off(k, "skcipher_walk.src.virt.addr"))
            dst = m.read_u64(walk + off(k, "skcipher_walk.dst.virt.addr"))
            if src != dst:
                m.write(dst, m.read(src, w.get("nbytes")))
            err = walk_done(k, w, 0)
        return err
    finally:
        k.heap.free(walk)


def _base(k, base, name, driver, priority, flags):
    m = k.machine
    m.write(base + off(k, "crypto_alg.cra_name"), name.encode() + b"\0")
    m.write(base + off(k, "crypto_alg.cra_driver_name"), driver.encode() + b"\0")
    m.write_u32(base + off(k, "crypto_alg.cra_priority"), priority)
    m.write_u32(base + off(k, "crypto_alg.cra_blocksize"), NULL_BLOCK_SIZE)
    m.write_u32(base + off(k, "crypto_alg.cra_flags"), flags)


def _link(k, c, base, outer, kind):
    """What crypto_register_alg() leaves for a built-in algorithm that passed its test."""
    m = k.machine
    flags = m.read_u32(base + off(k, "crypto_alg.cra_flags"))
    m.write_u32(base + off(k, "crypto_alg.cra_flags"), flags | const(k, "CRYPTO_ALG_TESTED"))
    m.write_u32(base + off(k, "crypto_alg.cra_refcnt"), 1)
    init_list_head(k, base + off(k, "crypto_alg.cra_users"))
    list_add(k, base + off(k, "crypto_alg.cra_list"), c.alg_list)
    name = m.read_cstr(base + off(k, "crypto_alg.cra_name"), 128).decode()
    driver = m.read_cstr(base + off(k, "crypto_alg.cra_driver_name"), 128).decode()
    c.algs.insert(0, Alg(base, outer, kind, name, driver, None))


def setup(k, c) -> None:
    """crypto_null_mod_init(): cipher_null, digest_null and ecb(cipher_null)."""
    from .shash import prepare_alg as shash_prepare
    from .skcipher import prepare_alg as skcipher_prepare
    t, m = k.target, k.machine
    # cipher_null
    alg = m.alloc_kdata(t.sizeof("crypto_alg"), 64)
    _base(k, alg, "cipher_null", "cipher_null-generic", 0, const(k, "CRYPTO_ALG_TYPE_CIPHER"))
    cia = alg + off(k, "crypto_alg.cra_u")
    for member, fn in (("cia_setkey", "null_setkey"), ("cia_encrypt", "null_crypt"),
                       ("cia_decrypt", "null_crypt")):
        m.write_u64(cia + off(k, f"cipher_alg.{member}"), static_addr(k, fn))
    _link(k, c, alg, alg, "cipher")
    # digest_null
    alg = m.alloc_kdata(t.sizeof("shash_alg"), 64)
    m.write_u32(alg + off(k, "shash_alg.digestsize"), NULL_DIGEST_SIZE)
    for member, fn in (("setkey", "null_hash_setkey"), ("init", "null_init"),
                       ("update", "null_update"), ("finup", "null_digest"),
                       ("digest", "null_digest"), ("final", "null_final")):
        m.write_u64(alg + off(k, f"shash_alg.{member}"), static_addr(k, fn))
    _base(k, alg + off(k, "shash_alg.base"), "digest_null", "digest_null-generic", 0, 0)
    shash_prepare(k, alg)
    _link(k, c, alg + off(k, "shash_alg.base"), alg, "shash")
    # ecb(cipher_null)
    alg = m.alloc_kdata(t.sizeof("skcipher_alg"), 64)
    for member, value in (("min_keysize", NULL_KEY_SIZE), ("max_keysize", NULL_KEY_SIZE),
                          ("ivsize", NULL_IV_SIZE)):
        m.write_u32(alg + off(k, f"skcipher_alg.{member}"), value)
    for member, fn in (("setkey", "null_skcipher_setkey"), ("encrypt", "null_skcipher_crypt"),
                       ("decrypt", "null_skcipher_crypt")):
        m.write_u64(alg + off(k, f"skcipher_alg.{member}"), static_addr(k, fn))
    _base(k, alg + off(k, "skcipher_alg.base"), "ecb(cipher_null)", "ecb-cipher_null", 100, 0)
    skcipher_prepare(k, alg)
    _link(k, c, alg + off(k, "skcipher_alg.base"), alg, "skcipher")


# ------------------------------------------------------ the default null skcipher
class DefaultNull:
    """crypto_default_null_skcipher and its reference count."""

    def __init__(self, k):
        self.tfm, self.refcnt = 0, 0
        self.name = k.machine.alloc_kdata(32, 1)
        k.machine.write(self.name, b"ecb(cipher_null)\0")


@export("struct crypto_sync_skcipher *crypto_alloc_sync_skcipher(const char *alg_name, u32 type, "
        "u32 mask)")
def crypto_alloc_sync_skcipher(k, alg_name, type_, mask):
    """crypto_alloc_skcipher() of a synchronous algorithm (mask |= CRYPTO_ALG_ASYNC)."""
    from ..lib.kemu_warn import warn
    from .internal import alloc_tfm
    from kemu.abi.toolkit import err_ptr
    from .skcipher import FRONTEND
    tfm = yield from alloc_tfm(k, alg_name, FRONTEND, type_, mask | const(k, "CRYPTO_ALG_ASYNC"))
    if not is_err(tfm) and k.machine.read_u32(tfm + off(k, "crypto_skcipher.reqsize")) > \
            const(k, "MAX_SYNC_SKCIPHER_REQSIZE"):
        warn(k, "crypto/skcipher.c:774", "crypto_alloc_sync_skcipher+0x33/0x50")
        yield from destroy_tfm(k, tfm, tfm + off(k, "crypto_skcipher.base"))
        return err_ptr(-22)
    return tfm


@export("struct crypto_sync_skcipher *crypto_get_default_null_skcipher(void)")
def crypto_get_default_null_skcipher(k):
    state = k.model(DefaultNull)
    if not state.tfm:
        tfm = yield from crypto_alloc_sync_skcipher(k, state.name, 0, 0)
        if is_err(tfm):
            return tfm
        state.tfm = tfm
    state.refcnt += 1
    return state.tfm


@export("void crypto_put_default_null_skcipher(void)")
def crypto_put_default_null_skcipher(k):
    state = k.model(DefaultNull)
    state.refcnt -= 1
    if not state.refcnt:
        tfm, state.tfm = state.tfm, 0
        yield from destroy_tfm(k, tfm, tfm + off(k, "crypto_skcipher.base"))
