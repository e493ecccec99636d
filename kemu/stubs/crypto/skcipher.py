"""crypto/skcipher.c: symmetric key ciphers: registration, transforms, requests."""
import errno

from kemu import export
from kemu.abi.exports import members

from .internal import (alg_field, alg_of_tfm, alloc_tfm, const, find_alg, member, mod_put, off,
                       prepare_base, register_alg, register_many, set_tfm_flags, simple_frontend,
                       temp_buffer, tfm_alg, tfm_flags, unregister_alg, unregister_many)
from kemu.abi.toolkit import cstr, s32

members("struct crypto_async_request", "tfm")
members("struct skcipher_alg", "setkey", "min_keysize", "max_keysize", "ivsize", "chunksize",
        "walksize", "base")
members("struct crypto_skcipher", "base")
members("struct skcipher_request", "base")

PAGE_SIZE = 4096
ENOKEY = 126


def _u32(k, addr, name):
    return member(k, addr, name, 4)


def prepare_alg(k, alg) -> int:
    """skcipher_prepare_alg()."""
    base = alg + off(k, "skcipher_alg.base")
    if max(_u32(k, alg, "skcipher_alg.ivsize"), _u32(k, alg, "skcipher_alg.chunksize"),
           _u32(k, alg, "skcipher_alg.walksize")) > PAGE_SIZE // 8:
        return -errno.EINVAL
    if not _u32(k, alg, "skcipher_alg.chunksize"):
        member(k, alg, "skcipher_alg.chunksize", 4, alg_field(k, base, "cra_blocksize"))
    if not _u32(k, alg, "skcipher_alg.walksize"):
        member(k, alg, "skcipher_alg.walksize", 4, _u32(k, alg, "skcipher_alg.chunksize"))
    prepare_base(k, base, "skcipher", "CRYPTO_ALG_TYPE_SKCIPHER", "CRYPTO_ALG_TYPE_MASK",
                 "crypto_skcipher")
    return 0


def register_skcipher(k, alg):
    err = prepare_alg(k, alg)
    if err:
        return err
    return (yield from register_alg(k, alg + off(k, "skcipher_alg.base"), "skcipher", alg))


def unregister_skcipher(k, alg):
    yield from unregister_alg(k, alg + off(k, "skcipher_alg.base"))


@export("int crypto_register_skcipher(struct skcipher_alg *alg)", fails="-EEXIST")
def crypto_register_skcipher(k, alg):
    return (yield from register_skcipher(k, alg))


@export("void crypto_unregister_skcipher(struct skcipher_alg *alg)")
def crypto_unregister_skcipher(k, alg):
    yield from unregister_skcipher(k, alg)


@export("int crypto_register_skciphers(struct skcipher_alg *algs, int count)", fails="-EEXIST")
def crypto_register_skciphers(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("skcipher_alg"),
                                     register_skcipher, unregister_skcipher))


@export("void crypto_unregister_skciphers(struct skcipher_alg *algs, int count)")
def crypto_unregister_skciphers(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("skcipher_alg"),
                               unregister_skcipher)


def _needkey(k, rec):
    return member(k, rec.outer, "skcipher_alg.max_keysize", 4) != 0


FRONTEND = simple_frontend("skcipher", "skcipher_alg", "crypto_skcipher",
                           "CRYPTO_ALG_TYPE_SKCIPHER", needkey=_needkey)


def _alg(k, tfm):
    return alg_of_tfm(k, tfm, "crypto_skcipher", "skcipher_alg")


def _base(k, tfm):
    return tfm + off(k, "crypto_skcipher.base")


@export("int crypto_has_skcipher(const char *alg_name, u32 type, u32 mask)")
def crypto_has_skcipher(k, alg_name, type_, mask):
    """crypto_type_has_alg(): 1 when an skcipher of that name is (or can be made) there."""
    rec = yield from find_alg(k, FRONTEND, cstr(k, alg_name), type_, mask)
    if isinstance(rec, int):
        return 0
    yield from mod_put(k, rec.addr)
    return 1


@export("struct crypto_skcipher *crypto_alloc_skcipher(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_skcipher(k, alg_name, type_, mask):
    return (yield from alloc_tfm(k, alg_name, FRONTEND, type_, mask))


@export("int crypto_skcipher_setkey(struct crypto_skcipher *tfm, const u8 *key, "
        "unsigned int keylen)")
def crypto_skcipher_setkey(k, tfm, key, keylen):
    alg = _alg(k, tfm)
    if keylen < member(k, alg, "skcipher_alg.min_keysize", 4) or \
            keylen > member(k, alg, "skcipher_alg.max_keysize", 4):
        return -errno.EINVAL
    mask = alg_field(k, tfm_alg(k, _base(k, tfm)), "cra_alignmask")
    setkey = member(k, alg, "skcipher_alg.setkey")
    if key & mask:
        raw = temp_buffer(k, keylen + 2 * mask + 1)
        buf = (raw + mask) & ~mask
        k.machine.write(buf, k.machine.read(key, keylen))
        err = s32((yield k.call_request(setkey, tfm, buf, keylen)))
        k.heap.free(raw)
    else:
        err = s32((yield k.call_request(setkey, tfm, key, keylen)))
    base = _base(k, tfm)
    if err:
        if member(k, alg, "skcipher_alg.max_keysize", 4):
            set_tfm_flags(k, base, tfm_flags(k, base) | const(k, "CRYPTO_TFM_NEED_KEY"))
        return err
    set_tfm_flags(k, base, tfm_flags(k, base) & ~const(k, "CRYPTO_TFM_NEED_KEY"))
    return 0


def _req_tfm(k, req):
    """crypto_skcipher_reqtfm(): the request's base.tfm as its struct crypto_skcipher."""
    tfm = k.machine.read_u64(req + off(k, "skcipher_request.base") +
                             off(k, "crypto_async_request.tfm"))
    return tfm - off(k, "crypto_skcipher.base")


def _crypt(k, req, op):
    tfm = _req_tfm(k, req)
    if tfm_flags(k, _base(k, tfm)) & const(k, "CRYPTO_TFM_NEED_KEY"):
        return -ENOKEY
    return s32((yield k.call_request(member(k, _alg(k, tfm), f"skcipher_alg.{op}"), req)))


@export("int crypto_skcipher_encrypt(struct skcipher_request *req)")
def crypto_skcipher_encrypt(k, req):
    return (yield from _crypt(k, req, "encrypt"))


@export("int crypto_skcipher_decrypt(struct skcipher_request *req)")
def crypto_skcipher_decrypt(k, req):
    return (yield from _crypt(k, req, "decrypt"))
