"""crypto/akcipher.c and crypto/kpp.c: asymmetric ciphers and key agreement."""
import errno

from kemu import export
from kemu.abi.exports import members

from .internal import (alloc_tfm, member, off, prepare_base, register_alg, simple_frontend,
                       unregister_alg)
from kemu.abi.toolkit import static, static_addr

members("struct akcipher_alg", "set_priv_key", "base", "sign", "verify", "encrypt", "decrypt",
        "set_pub_key", "max_size", "init", "exit", "reqsize")
members("struct kpp_alg", "base", "set_secret", "generate_public_key", "compute_shared_secret",
        "max_size", "init", "exit", "reqsize")
members("struct crypto_kpp", "base")
members("struct crypto_akcipher", "base")


@static("int akcipher_default_op(struct akcipher_request *req)")
def akcipher_default_op(k, req):
    return -errno.ENOSYS


@static("int akcipher_default_set_key(struct crypto_akcipher *tfm, const void *key, "
         "unsigned int keylen)")
def akcipher_default_set_key(k, tfm, key, keylen):
    return -errno.ENOSYS


@export("int crypto_register_akcipher(struct akcipher_alg *alg)")
def crypto_register_akcipher(k, alg):
    for name in ("sign", "verify", "encrypt", "decrypt"):
        if not member(k, alg, f"akcipher_alg.{name}"):
            member(k, alg, f"akcipher_alg.{name}", 8, static_addr(k, "akcipher_default_op"))
    if not member(k, alg, "akcipher_alg.set_priv_key"):
        member(k, alg, "akcipher_alg.set_priv_key", 8, static_addr(k, "akcipher_default_set_key"))
    base = alg + off(k, "akcipher_alg.base")
    prepare_base(k, base, "akcipher", "CRYPTO_ALG_TYPE_AKCIPHER", "CRYPTO_ALG_TYPE_MASK",
                 "crypto_akcipher")
    return (yield from register_alg(k, base, "akcipher", alg))


@export("void crypto_unregister_akcipher(struct akcipher_alg *alg)")
def crypto_unregister_akcipher(k, alg):
    yield from unregister_alg(k, alg + off(k, "akcipher_alg.base"))


AKCIPHER = simple_frontend("akcipher", "akcipher_alg", "crypto_akcipher",
                           "CRYPTO_ALG_TYPE_AKCIPHER")


@export("struct crypto_akcipher *crypto_alloc_akcipher(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_akcipher(k, alg_name, type_, mask):
    return (yield from alloc_tfm(k, alg_name, AKCIPHER, type_, mask))


@export("int crypto_register_kpp(struct kpp_alg *alg)")
def crypto_register_kpp(k, alg):
    base = alg + off(k, "kpp_alg.base")
    prepare_base(k, base, "kpp", "CRYPTO_ALG_TYPE_KPP", "CRYPTO_ALG_TYPE_MASK", "crypto_kpp")
    return (yield from register_alg(k, base, "kpp", alg))


@export("void crypto_unregister_kpp(struct kpp_alg *alg)")
def crypto_unregister_kpp(k, alg):
    yield from unregister_alg(k, alg + off(k, "kpp_alg.base"))


KPP = simple_frontend("kpp", "kpp_alg", "crypto_kpp", "CRYPTO_ALG_TYPE_KPP")


@export("struct crypto_kpp *crypto_alloc_kpp(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_kpp(k, alg_name, type_, mask):
    return (yield from alloc_tfm(k, alg_name, KPP, type_, mask))
