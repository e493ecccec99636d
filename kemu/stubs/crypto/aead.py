"""crypto/aead.c: AEAD algorithms: registration, transforms, requests."""
import errno

from kemu import export
from kemu.abi.exports import members

from .internal import (FRONTENDS, alg_field, alg_of_tfm, alloc_tfm, const, member, off,
                       prepare_base, register_alg, register_many, set_tfm_flags, simple_frontend,
                       temp_buffer, tfm_alg, tfm_flags, unregister_alg, unregister_many)
from kemu.abi.toolkit import s32

members("struct crypto_async_request", "tfm")
members("struct aead_alg", "setkey", "setauthsize", "encrypt", "decrypt", "ivsize",
        "maxauthsize", "chunksize", "base")
members("struct crypto_aead", "authsize", "base")
members("struct aead_request", "base", "cryptlen")

PAGE_SIZE = 4096
ENOKEY = 126


def prepare_alg(k, alg) -> int:
    """aead_prepare_alg()."""
    base = alg + off(k, "aead_alg.base")
    if max(member(k, alg, "aead_alg.maxauthsize", 4), member(k, alg, "aead_alg.ivsize", 4),
           member(k, alg, "aead_alg.chunksize", 4)) > PAGE_SIZE // 8:
        return -errno.EINVAL
    if not member(k, alg, "aead_alg.chunksize", 4):
        member(k, alg, "aead_alg.chunksize", 4, alg_field(k, base, "cra_blocksize"))
    prepare_base(k, base, "aead", "CRYPTO_ALG_TYPE_AEAD", "CRYPTO_ALG_TYPE_MASK", "crypto_aead")
    return 0


def register_aead(k, alg):
    err = prepare_alg(k, alg)
    if err:
        return err
    return (yield from register_alg(k, alg + off(k, "aead_alg.base"), "aead", alg))


def unregister_aead(k, alg):
    yield from unregister_alg(k, alg + off(k, "aead_alg.base"))


@export("int crypto_register_aead(struct aead_alg *alg)", fails="-EEXIST")
def crypto_register_aead(k, alg):
    return (yield from register_aead(k, alg))


@export("void crypto_unregister_aead(struct aead_alg *alg)")
def crypto_unregister_aead(k, alg):
    yield from unregister_aead(k, alg)


@export("int crypto_register_aeads(struct aead_alg *algs, int count)")
def crypto_register_aeads(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("aead_alg"),
                                     register_aead, unregister_aead))


@export("void crypto_unregister_aeads(struct aead_alg *algs, int count)")
def crypto_unregister_aeads(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("aead_alg"), unregister_aead)


_SIMPLE = simple_frontend("aead", "aead_alg", "crypto_aead", "CRYPTO_ALG_TYPE_AEAD",
                          needkey=lambda k, rec: True)


def _init_tfm(k, tfm, rec):
    """crypto_aead_init_tfm(): NEED_KEY, authsize = maxauthsize, then the alg's init."""
    aead = tfm - off(k, "crypto_aead.base")
    member(k, aead, "crypto_aead.authsize", 4, member(k, rec.outer, "aead_alg.maxauthsize", 4))
    return (yield from _SIMPLE.init_tfm(k, tfm, rec))


FRONTEND = type(_SIMPLE)("aead", "crypto_aead", "CRYPTO_ALG_TYPE_AEAD", "CRYPTO_ALG_TYPE_MASK",
                         _init_tfm)
FRONTENDS["aead"] = FRONTEND


def _alg(k, tfm):
    return alg_of_tfm(k, tfm, "crypto_aead", "aead_alg")


def _base(k, tfm):
    return tfm + off(k, "crypto_aead.base")


@export("struct crypto_aead *crypto_alloc_aead(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_aead(k, alg_name, type_, mask):
    return (yield from alloc_tfm(k, alg_name, FRONTEND, type_, mask))


@export("int crypto_aead_setkey(struct crypto_aead *tfm, const u8 *key, unsigned int keylen)")
def crypto_aead_setkey(k, tfm, key, keylen):
    mask = alg_field(k, tfm_alg(k, _base(k, tfm)), "cra_alignmask")
    setkey = member(k, _alg(k, tfm), "aead_alg.setkey")
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
        set_tfm_flags(k, base, tfm_flags(k, base) | const(k, "CRYPTO_TFM_NEED_KEY"))
        return err
    set_tfm_flags(k, base, tfm_flags(k, base) & ~const(k, "CRYPTO_TFM_NEED_KEY"))
    return 0


@export("int crypto_aead_setauthsize(struct crypto_aead *tfm, unsigned int authsize)")
def crypto_aead_setauthsize(k, tfm, authsize):
    maxauth = member(k, _alg(k, tfm), "aead_alg.maxauthsize", 4)
    if (not authsize and maxauth) or authsize > maxauth:
        return -errno.EINVAL
    fn = member(k, _alg(k, tfm), "aead_alg.setauthsize")
    if fn:
        err = s32((yield k.call_request(fn, tfm, authsize)))
        if err:
            return err
    member(k, tfm, "crypto_aead.authsize", 4, authsize)
    return 0


def _req_tfm(k, req):
    tfm = k.machine.read_u64(req + off(k, "aead_request.base") + off(k, "crypto_async_request.tfm"))
    return tfm - off(k, "crypto_aead.base")


@export("int crypto_aead_encrypt(struct aead_request *req)")
def crypto_aead_encrypt(k, req):
    tfm = _req_tfm(k, req)
    if tfm_flags(k, _base(k, tfm)) & const(k, "CRYPTO_TFM_NEED_KEY"):
        return -ENOKEY
    return s32((yield k.call_request(member(k, _alg(k, tfm), "aead_alg.encrypt"), req)))


@export("int crypto_aead_decrypt(struct aead_request *req)")
def crypto_aead_decrypt(k, req):
    tfm = _req_tfm(k, req)
    if tfm_flags(k, _base(k, tfm)) & const(k, "CRYPTO_TFM_NEED_KEY"):
        return -ENOKEY
    if member(k, req, "aead_request.cryptlen", 4) < member(k, tfm, "crypto_aead.authsize", 4):
        return -errno.EINVAL
    return s32((yield k.call_request(member(k, _alg(k, tfm), "aead_alg.decrypt"), req)))
