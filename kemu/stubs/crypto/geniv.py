"""crypto/geniv.c: the shared part of the IV generator templates (seqiv, echainiv).

aead_geniv_alloc() builds the template's AEAD instance around the named inner
AEAD, aead_init_geniv() gives each transform a random salt, the default null
skcipher and a transform of the inner AEAD, aead_exit_geniv() drops both.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from ..mm.slab import kfree_addr, kmalloc
from .internal import TypeObjects, alg_field, const, off, tfm_alg, tfm_ctx
from kemu.abi.toolkit import cstr, err_ptr, is_err, ptr_err, s32, static, static_addr
from .template import (_crypto_instance, crypto_attr_alg_name, crypto_check_attr_type,
                       drop_spawn, grab_spawn)

members("struct crypto_alg", "cra_ctxsize")
members("struct crypto_template", "name")
members("struct crypto_spawn", "alg", "frontend", "list", "inst", "next", "mask", "dead",
        "registered")
members("struct aead_alg", "setkey", "setauthsize", "ivsize", "maxauthsize", "base")
members("struct crypto_aead", "reqsize", "base")
members("struct rng_alg", "generate", "base")
members("struct crypto_rng", "base")
members("struct aead_instance", "free", "alg")
members("struct crypto_aead_spawn", "base")
members("struct aead_geniv_ctx", "lock", "child", "sknull")


def _aead_ctx(k, aead):
    """crypto_aead_ctx()."""
    return tfm_ctx(k, aead + off(k, "crypto_aead.base"))


def _inst_ctx(k, inst):
    """aead_instance_ctx(): the struct crypto_aead_spawn after the crypto_instance."""
    return _crypto_instance(k, inst, "aead") + k.target.sizeof("crypto_instance")


def _spawn_base(k, spawn):
    return spawn + off(k, "crypto_aead_spawn.base")


@static("int aead_geniv_setkey(struct crypto_aead *tfm, const u8 *key, unsigned int keylen)")
def aead_geniv_setkey(k, tfm, key, keylen):
    from .aead import crypto_aead_setkey
    child = k.machine.read_u64(_aead_ctx(k, tfm) + off(k, "aead_geniv_ctx.child"))
    return (yield from crypto_aead_setkey(k, child, key, keylen))


@static("int aead_geniv_setauthsize(struct crypto_aead *tfm, unsigned int authsize)")
def aead_geniv_setauthsize(k, tfm, authsize):
    from .aead import crypto_aead_setauthsize
    child = k.machine.read_u64(_aead_ctx(k, tfm) + off(k, "aead_geniv_ctx.child"))
    return (yield from crypto_aead_setauthsize(k, child, authsize))


@static("void aead_geniv_free(struct aead_instance *inst)")
def aead_geniv_free(k, inst):
    yield from drop_spawn(k, _spawn_base(k, _inst_ctx(k, inst)))
    kfree_addr(k, inst)


@export("struct aead_instance *aead_geniv_alloc(struct crypto_template *tmpl, struct rtattr **tb)")
def aead_geniv_alloc(k, tmpl, tb):
    m, t = k.machine, k.target
    mask_ret = k.heap.alloc(4, kind="aead_geniv_alloc mask", zero=True)
    try:
        err = crypto_check_attr_type(k, tb, const(k, "CRYPTO_ALG_TYPE_AEAD"), mask_ret)
        mask = m.read_u32(mask_ret)
    finally:
        k.heap.free(mask_ret)
    if err:
        return err_ptr(err)
    inst = kmalloc(k, t.sizeof("aead_instance") + t.sizeof("crypto_aead_spawn"),
                   const(k, "GFP_KERNEL") | const(k, "__GFP_ZERO"), kind="aead_instance")
    spawn = _inst_ctx(k, inst)
    base = _spawn_base(k, spawn)
    m.write_u64(base + off(k, "crypto_spawn.frontend"),         # crypto_grab_aead()
                k.model(TypeObjects).get("aead", "CRYPTO_ALG_TYPE_AEAD", "CRYPTO_ALG_TYPE_MASK",
                                         "crypto_aead"))
    err = yield from grab_spawn(k, base, _crypto_instance(k, inst, "aead"),
                                crypto_attr_alg_name(k, m.read_u64(tb + 8)), 0, mask)
    if not err:
        err = _fill(k, tmpl, inst, m.read_u64(base + off(k, "crypto_spawn.alg")))
    if err:
        yield from aead_geniv_free(k, inst)
        return err_ptr(err)
    return inst


def _fill(k, tmpl, inst, calg) -> int:
    """The instance's names, sizes and functions from the inner AEAD ``calg``."""
    m = k.machine
    alg = calg - off(k, "aead_alg.base")                 # crypto_spawn_aead_alg()
    ivsize = m.read_u32(alg + off(k, "aead_alg.ivsize"))
    maxauthsize = m.read_u32(alg + off(k, "aead_alg.maxauthsize"))
    if ivsize < 8:
        return -errno.EINVAL
    ialg = inst + off(k, "aead_instance.alg")
    ibase = ialg + off(k, "aead_alg.base")
    tname = cstr(k, tmpl + off(k, "crypto_template.name"))
    limit = const(k, "CRYPTO_MAX_ALG_NAME")
    for member in ("cra_name", "cra_driver_name"):
        text = f"{tname}({cstr(k, calg + off(k, f'crypto_alg.{member}'))})".encode("utf-8", "surrogateescape")
        m.write(ibase + off(k, f"crypto_alg.{member}"), text[:limit - 1] + b"\0")
        if len(text) >= limit:
            return -errno.ENAMETOOLONG
    for member in ("cra_priority", "cra_blocksize", "cra_alignmask"):
        m.write_u32(ibase + off(k, f"crypto_alg.{member}"), alg_field(k, calg, member))
    m.write_u32(ibase + off(k, "crypto_alg.cra_ctxsize"), k.target.sizeof("aead_geniv_ctx"))
    m.write_u64(ialg + off(k, "aead_alg.setkey"), static_addr(k, "aead_geniv_setkey"))
    m.write_u64(ialg + off(k, "aead_alg.setauthsize"), static_addr(k, "aead_geniv_setauthsize"))
    m.write_u32(ialg + off(k, "aead_alg.ivsize"), ivsize)
    m.write_u32(ialg + off(k, "aead_alg.maxauthsize"), maxauthsize)
    m.write_u64(inst + off(k, "aead_instance.free"), static_addr(k, "aead_geniv_free"))
    return 0


@export("int aead_init_geniv(struct crypto_aead *tfm)")
def aead_init_geniv(k, aead):
    from .crypto_null import crypto_put_default_null_skcipher, crypto_get_default_null_skcipher
    from .rng import crypto_get_default_rng, crypto_put_default_rng
    from .template import crypto_spawn_tfm2
    m = k.machine
    ctx = _aead_ctx(k, aead)
    m.write_u32(ctx + off(k, "aead_geniv_ctx.lock"), 0)          # spin_lock_init()
    err = yield from crypto_get_default_rng(k)
    if err:
        return err
    rng = m.read_u64(k.export_addr("crypto_default_rng"))
    ivsize = m.read_u32(tfm_alg(k, aead + off(k, "crypto_aead.base")) - off(k, "aead_alg.base") +
                        off(k, "aead_alg.ivsize"))
    generate = m.read_u64(tfm_alg(k, rng + off(k, "crypto_rng.base")) - off(k, "rng_alg.base") +
                          off(k, "rng_alg.generate"))
    salt = ctx + k.target.sizeof("aead_geniv_ctx")               # the flexible salt[]
    err = s32((yield k.call_request(generate, rng, 0, 0, salt, ivsize)))  # crypto_rng_get_bytes()
    crypto_put_default_rng(k)
    if err:
        return err
    sknull = yield from crypto_get_default_null_skcipher(k)
    m.write_u64(ctx + off(k, "aead_geniv_ctx.sknull"), sknull)
    if is_err(sknull):
        return ptr_err(sknull)
    inst = tfm_alg(k, aead + off(k, "crypto_aead.base")) - off(k, "aead_alg.base") - \
        off(k, "aead_instance.alg")                             # aead_alg_instance()
    child = yield from crypto_spawn_tfm2(k, _spawn_base(k, _inst_ctx(k, inst)))
    if is_err(child):
        yield from crypto_put_default_null_skcipher(k)
        return ptr_err(child)
    m.write_u64(ctx + off(k, "aead_geniv_ctx.child"), child)
    m.write_u32(aead + off(k, "crypto_aead.reqsize"),            # crypto_aead_set_reqsize()
                m.read_u32(child + off(k, "crypto_aead.reqsize")) +
                k.target.sizeof("aead_request"))
    return 0


@export("void aead_exit_geniv(struct crypto_aead *tfm)")
def aead_exit_geniv(k, aead):
    from .crypto_null import crypto_put_default_null_skcipher
    from .internal import destroy_tfm
    child = k.machine.read_u64(_aead_ctx(k, aead) + off(k, "aead_geniv_ctx.child"))
    yield from destroy_tfm(k, child, child + off(k, "crypto_aead.base"))   # crypto_free_aead()
    yield from crypto_put_default_null_skcipher(k)
