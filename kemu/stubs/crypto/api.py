"""crypto/api.c: lookups, transform allocation and destruction."""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from .internal import (Alg, Frontend, alg_extsize, alg_field, alg_lookup, const, create_tfm,
                       crypto, destroy_tfm, mod_get, mod_put, off)
from kemu.abi.toolkit import cstr, err_ptr, init_list_head, is_err

members("struct crypto_alg", "cra_name", "cra_driver_name")
members("struct crypto_async_request", "data")
members("struct crypto_wait", "completion", "err")


@data("struct list_head crypto_alg_list")
def crypto_alg_list(k, addr):
    init_list_head(k, addr)


def _rec(k, alg):
    rec = crypto(k).find(alg)
    return rec if rec is not None else Alg(alg, alg, "alg", cstr(k, alg + off(k, "crypto_alg.cra_name")),
                                           cstr(k, alg + off(k, "crypto_alg.cra_driver_name")), None)


@export("struct crypto_alg *crypto_mod_get(struct crypto_alg *alg)")
def crypto_mod_get(k, alg):
    return alg if mod_get(k, _rec(k, alg)) else 0


@export("void crypto_mod_put(struct crypto_alg *alg)")
def crypto_mod_put(k, alg):
    yield from mod_put(k, alg)


@export("unsigned int crypto_alg_extsize(struct crypto_alg *alg)")
def crypto_alg_extsize(k, alg):
    return alg_extsize(k, alg)


@export("struct crypto_alg *crypto_alg_mod_lookup(const char *name, u32 type, u32 mask)")
def crypto_alg_mod_lookup(k, name, type_, mask):
    rec = yield from alg_lookup(k, cstr(k, name), type_, mask)
    return err_ptr(rec) if isinstance(rec, int) else rec.addr


@export("int crypto_has_alg(const char *name, u32 type, u32 mask)")
def crypto_has_alg(k, name, type_, mask):
    rec = yield from alg_lookup(k, cstr(k, name), type_, mask)
    if isinstance(rec, int):
        return 0
    yield from mod_put(k, rec.addr)
    return 1


def _base_init(k, tfm, rec):
    """crypto_init_ops(): a cra_type's init, if any (none for bare ciphers)."""
    return 0
    yield                                     # a generator, like every init_tfm


def _base_extsize(k, rec):
    """crypto_ctxsize() for a bare tfm: the cipher's (or compressor's) context."""
    return alg_field(k, rec.addr, "cra_ctxsize") + \
        (alg_field(k, rec.addr, "cra_alignmask") & ~(const(k, "CRYPTO_MINALIGN") - 1))


BASE = Frontend("base", None, "CRYPTO_ALG_TYPE_CIPHER", "CRYPTO_ALG_TYPE_MASK", _base_init,
                _base_extsize)


@export("struct crypto_tfm *crypto_alloc_base(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_base(k, alg_name, type_, mask):
    rec = yield from alg_lookup(k, cstr(k, alg_name), type_, mask)
    if isinstance(rec, int):
        return err_ptr(rec)
    kind = alg_field(k, rec.addr, "cra_flags") & const(k, "CRYPTO_ALG_TYPE_MASK")
    if alg_field(k, rec.addr, "cra_type", 8) or kind not in (
            const(k, "CRYPTO_ALG_TYPE_CIPHER"), const(k, "CRYPTO_ALG_TYPE_COMPRESS")):
        yield from mod_put(k, rec.addr)
        return err_ptr(-errno.EINVAL)
    mem = yield from create_tfm(k, rec, BASE, 0)
    if is_err(mem):
        yield from mod_put(k, rec.addr)
    return mem


@export("void crypto_destroy_tfm(void *mem, struct crypto_tfm *tfm)")
def crypto_destroy_tfm(k, mem, tfm):
    yield from destroy_tfm(k, mem, tfm)


@export("void crypto_req_done(struct crypto_async_request *req, int err)")
def crypto_req_done(k, req, err):
    if err == -errno.EINPROGRESS:
        return
    wait = k.machine.read_u64(req + off(k, "crypto_async_request.data"))
    k.machine.write_u32(wait + off(k, "crypto_wait.err"), err)
    yield k.call_request(k.export_addr("complete"), wait + off(k, "crypto_wait.completion"))


