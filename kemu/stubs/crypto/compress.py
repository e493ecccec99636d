"""crypto/scompress.c and crypto/acompress.c: compression algorithms."""
from kemu import export
from kemu.abi.exports import members

from .internal import off, prepare_base, register_alg, register_many, unregister_alg, \
    unregister_many

members("struct scomp_alg", "base", "alloc_ctx", "free_ctx", "compress", "decompress")
members("struct acomp_alg", "base", "compress", "decompress", "dst_free", "init", "exit",
        "reqsize")
members("struct crypto_scomp", "base")
members("struct crypto_acomp", "compress", "decompress", "dst_free", "reqsize", "base")


def register_scomp(k, alg):
    base = alg + off(k, "scomp_alg.base")
    prepare_base(k, base, "scomp", "CRYPTO_ALG_TYPE_SCOMPRESS", "CRYPTO_ALG_TYPE_MASK",
                 "crypto_scomp")
    return (yield from register_alg(k, base, "scomp", alg))


def unregister_scomp(k, alg):
    yield from unregister_alg(k, alg + off(k, "scomp_alg.base"))


@export("int crypto_register_scomp(struct scomp_alg *alg)")
def crypto_register_scomp(k, alg):
    return (yield from register_scomp(k, alg))


@export("void crypto_unregister_scomp(struct scomp_alg *alg)")
def crypto_unregister_scomp(k, alg):
    yield from unregister_scomp(k, alg)


@export("int crypto_register_scomps(struct scomp_alg *algs, int count)")
def crypto_register_scomps(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("scomp_alg"),
                                     register_scomp, unregister_scomp))


@export("void crypto_unregister_scomps(struct scomp_alg *algs, int count)")
def crypto_unregister_scomps(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("scomp_alg"), unregister_scomp)


def register_acomp(k, alg):
    base = alg + off(k, "acomp_alg.base")
    prepare_base(k, base, "acomp", "CRYPTO_ALG_TYPE_ACOMPRESS", "CRYPTO_ALG_TYPE_ACOMPRESS_MASK",
                 "crypto_acomp")
    return (yield from register_alg(k, base, "acomp", alg))


def unregister_acomp(k, alg):
    yield from unregister_alg(k, alg + off(k, "acomp_alg.base"))


@export("int crypto_register_acomp(struct acomp_alg *alg)")
def crypto_register_acomp(k, alg):
    return (yield from register_acomp(k, alg))


@export("void crypto_unregister_acomp(struct acomp_alg *alg)")
def crypto_unregister_acomp(k, alg):
    yield from unregister_acomp(k, alg)


@export("int crypto_register_acomps(struct acomp_alg *algs, int count)")
def crypto_register_acomps(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("acomp_alg"),
                                     register_acomp, unregister_acomp))


@export("void crypto_unregister_acomps(struct acomp_alg *algs, int count)")
def crypto_unregister_acomps(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("acomp_alg"), unregister_acomp)
