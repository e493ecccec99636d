"""crypto/rng.c: random number generators and the default "stdrng"."""
import errno

from kemu import data, export
from kemu.abi.exports import members

from .internal import (FRONTENDS, Frontend, alloc_tfm, destroy_tfm, member, off, prepare_base,
                       register_alg, register_many, tfm_alg, unregister_alg, unregister_many)
from kemu.abi.toolkit import is_err, s32
from ..lib.random import Crng
from ..mm.slab import kfree_addr, kmalloc

members("struct rng_alg", "seed", "seedsize", "base")
members("struct crypto_rng", "base")

PAGE_SIZE = 4096


def register_rng(k, alg):
    if member(k, alg, "rng_alg.seedsize", 4) > PAGE_SIZE // 8:
        return -errno.EINVAL
    base = alg + off(k, "rng_alg.base")
    prepare_base(k, base, "rng", "CRYPTO_ALG_TYPE_RNG", "CRYPTO_ALG_TYPE_MASK", "crypto_rng")
    return (yield from register_alg(k, base, "rng", alg))


def unregister_rng(k, alg):
    yield from unregister_alg(k, alg + off(k, "rng_alg.base"))


@export("int crypto_register_rng(struct rng_alg *alg)")
def crypto_register_rng(k, alg):
    return (yield from register_rng(k, alg))


@export("void crypto_unregister_rng(struct rng_alg *alg)")
def crypto_unregister_rng(k, alg):
    yield from unregister_rng(k, alg)


@export("int crypto_register_rngs(struct rng_alg *algs, int count)")
def crypto_register_rngs(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("rng_alg"),
                                     register_rng, unregister_rng))


@export("void crypto_unregister_rngs(struct rng_alg *algs, int count)")
def crypto_unregister_rngs(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("rng_alg"), unregister_rng)


def _init_tfm(k, tfm, rec):
    """crypto_rng_init_tfm(): struct rng_alg has no init/exit of its own (cra_init is run)."""
    return 0
    yield


FRONTEND = Frontend("rng", "crypto_rng", "CRYPTO_ALG_TYPE_RNG", "CRYPTO_ALG_TYPE_MASK", _init_tfm)
FRONTENDS["rng"] = FRONTEND


def alloc_rng(k, name_addr, type_, mask):
    return (yield from alloc_tfm(k, name_addr, FRONTEND, type_, mask))


@export("struct crypto_rng *crypto_alloc_rng(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_rng(k, alg_name, type_, mask):
    return (yield from alloc_rng(k, alg_name, type_, mask))


def _alg(k, tfm):
    return tfm_alg(k, tfm + off(k, "crypto_rng.base")) - off(k, "rng_alg.base")


def reset(k, tfm, seed, slen):
    buf = 0
    if not seed and slen:
        buf = kmalloc(k, slen, k.target.const("GFP_KERNEL"))
        if not buf:
            return -errno.ENOMEM
        k.machine.write(buf, k.model(Crng).bytes(slen))       # get_random_bytes_wait()
        seed = buf
    err = s32((yield k.call_request(member(k, _alg(k, tfm), "rng_alg.seed"), tfm, seed, slen)))
    if buf:
        k.machine.fill(buf, 0, slen)
        kfree_addr(k, buf, "kfree_sensitive")
    return err


@export("int crypto_rng_reset(struct crypto_rng *tfm, const u8 *seed, unsigned int slen)")
def crypto_rng_reset(k, tfm, seed, slen):
    return (yield from reset(k, tfm, seed, slen))


class DefaultRng:
    """crypto_default_rng and its reference count."""

    def __init__(self, k):
        self.refcnt = 0
        self.name = k.machine.alloc_kdata(8, 1)
        k.machine.write(self.name, b"stdrng\0")


@data("struct crypto_rng *crypto_default_rng")
def crypto_default_rng(k, addr):
    k.machine.write_u64(addr, 0)


@export("int crypto_get_default_rng(void)")
def crypto_get_default_rng(k):
    state = k.model(DefaultRng)
    where = k.export_addr("crypto_default_rng")
    if not k.machine.read_u64(where):
        rng = yield from alloc_rng(k, state.name, 0, 0)
        if is_err(rng):
            return s32(rng)
        err = yield from reset(k, rng, 0, member(k, _alg(k, rng), "rng_alg.seedsize", 4))
        if err:
            yield from destroy_tfm(k, rng, rng + off(k, "crypto_rng.base"))
            return err
        k.machine.write_u64(where, rng)
    state.refcnt += 1
    return 0


@export("void crypto_put_default_rng(void)")
def crypto_put_default_rng(k):
    k.model(DefaultRng).refcnt -= 1


@export("int crypto_del_default_rng(void)")
def crypto_del_default_rng(k):
    state = k.model(DefaultRng)
    if state.refcnt:
        return -errno.EBUSY
    where = k.export_addr("crypto_default_rng")
    rng = k.machine.read_u64(where)
    if rng:
        yield from destroy_tfm(k, rng, rng + off(k, "crypto_rng.base"))
    k.machine.write_u64(where, 0)
    return 0
