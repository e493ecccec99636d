"""crypto/shash.c: synchronous hashes, registered by modules and driven through
their own init/update/final/finup/digest (kernel-private defaults included)."""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from .internal import (FRONTENDS, Frontend, alg_field, alloc_tfm, const, destroy_tfm, find_alg,
                       max_statesize, mod_put, off, register_alg, register_many, set_tfm_flags,
                       temp_buffer, tfm_alg, tfm_field, tfm_flags, unregister_alg,
                       unregister_many)
from kemu.abi.toolkit import is_err, s32, static, static_addr

members("struct shash_alg", "descsize", "digestsize", "statesize", "base")
members("struct crypto_alg", "cra_flags", "cra_type")
members("struct crypto_type", "extsize", "ctxsize", "init", "init_tfm", "show", "report",
        "free")
members("struct crypto_shash", "descsize", "base")
members("struct shash_desc", "tfm")

ENOKEY = 126


# ------------------------------------------------------------------ helpers
def _u32(k, addr):
    return k.machine.read_u32(addr)


def shash_alg_of(k, tfm) -> int:
    """crypto_shash_alg(): container_of(tfm->base.__crt_alg, struct shash_alg, base)."""
    return tfm_alg(k, base_tfm(k, tfm)) - off(k, "shash_alg.base")


def base_tfm(k, tfm) -> int:
    return tfm + off(k, "crypto_shash.base")


def fn(k, alg, member) -> int:
    return k.machine.read_u64(alg + off(k, f"shash_alg.{member}"))


def descsize(k, tfm) -> int:
    return _u32(k, tfm + off(k, "crypto_shash.descsize"))


def digestsize(k, tfm) -> int:
    return _u32(k, shash_alg_of(k, tfm) + off(k, "shash_alg.digestsize"))


def desc_tfm(k, desc) -> int:
    return k.machine.read_u64(desc + off(k, "shash_desc.tfm"))


def desc_ctx(k, desc) -> int:
    return desc + k.target.sizeof("shash_desc")


def alignmask(k, tfm) -> int:
    return alg_field(k, tfm_alg(k, base_tfm(k, tfm)), "cra_alignmask")


def alg_has_setkey(k, alg) -> bool:
    """crypto_shash_alg_has_setkey()."""
    return fn(k, alg, "setkey") != static_addr(k, "shash_no_setkey")


def _aligned_buffer(k, size, mask):
    raw = temp_buffer(k, size + mask)
    return raw, (raw + mask) & ~mask


def _call(k, target, *args):
    return s32((yield k.call_request(target, *args)))


# ------------------------------------------------------ operations (generators)
def init(k, desc):
    """crypto_shash_init()."""
    tfm = desc_tfm(k, desc)
    if tfm_flags(k, base_tfm(k, tfm)) & const(k, "CRYPTO_TFM_NEED_KEY"):
        return -ENOKEY
    return (yield from _call(k, fn(k, shash_alg_of(k, tfm), "init"), desc))


def _update_unaligned(k, desc, data, length):
    tfm = desc_tfm(k, desc)
    alg, mask = shash_alg_of(k, tfm), alignmask(k, tfm)
    unaligned = mask + 1 - (data & mask)
    unaligned = min(unaligned, length)
    raw, buf = _aligned_buffer(k, unaligned, mask)
    try:
        k.machine.write(buf, k.machine.read(data, unaligned))
        err = yield from _call(k, fn(k, alg, "update"), desc, buf, unaligned)
    finally:
        k.heap.free(raw)
    if err:
        return err
    return (yield from _call(k, fn(k, alg, "update"), desc, data + unaligned, length - unaligned))


def update(k, desc, data, length):
    """crypto_shash_update()."""
    tfm = desc_tfm(k, desc)
    if data & alignmask(k, tfm):
        return (yield from _update_unaligned(k, desc, data, length))
    return (yield from _call(k, fn(k, shash_alg_of(k, tfm), "update"), desc, data, length))


def _final_unaligned(k, desc, out):
    tfm = desc_tfm(k, desc)
    ds, mask = digestsize(k, tfm), alignmask(k, tfm)
    raw, buf = _aligned_buffer(k, ds, mask)
    try:
        err = yield from _call(k, fn(k, shash_alg_of(k, tfm), "final"), desc, buf)
        if not err:
            k.machine.write(out, k.machine.read(buf, ds))
    finally:
        k.heap.free(raw)
    return err


def final(k, desc, out):
    """crypto_shash_final()."""
    tfm = desc_tfm(k, desc)
    if out & alignmask(k, tfm):
        return (yield from _final_unaligned(k, desc, out))
    return (yield from _call(k, fn(k, shash_alg_of(k, tfm), "final"), desc, out))


def finup_unaligned(k, desc, data, length, out):
    err = yield from update(k, desc, data, length)
    return err or (yield from final(k, desc, out))


def finup(k, desc, data, length, out):
    """crypto_shash_finup()."""
    tfm = desc_tfm(k, desc)
    if (data | out) & alignmask(k, tfm):
        return (yield from finup_unaligned(k, desc, data, length, out))
    return (yield from _call(k, fn(k, shash_alg_of(k, tfm), "finup"), desc, data, length, out))


def digest_unaligned(k, desc, data, length, out):
    err = yield from init(k, desc)
    return err or (yield from finup_unaligned(k, desc, data, length, out))


def digest(k, desc, data, length, out):
    """crypto_shash_digest()."""
    tfm = desc_tfm(k, desc)
    if tfm_flags(k, base_tfm(k, tfm)) & const(k, "CRYPTO_TFM_NEED_KEY"):
        return -ENOKEY
    if (data | out) & alignmask(k, tfm):
        return (yield from digest_unaligned(k, desc, data, length, out))
    return (yield from _call(k, fn(k, shash_alg_of(k, tfm), "digest"), desc, data, length, out))


def _set_needkey(k, tfm, alg):
    if alg_has_setkey(k, alg) and \
            not alg_field(k, alg + off(k, "shash_alg.base"), "cra_flags") & \
            const(k, "CRYPTO_ALG_OPTIONAL_KEY"):
        base = base_tfm(k, tfm)
        set_tfm_flags(k, base, tfm_flags(k, base) | const(k, "CRYPTO_TFM_NEED_KEY"))


def setkey(k, tfm, key, keylen):
    """crypto_shash_setkey()."""
    alg, mask = shash_alg_of(k, tfm), alignmask(k, tfm)
    if key & mask:
        absize = keylen + (mask & ~(const(k, "CRYPTO_MINALIGN") - 1))
        raw = temp_buffer(k, absize + mask)
        buf = (raw + mask) & ~mask
        k.machine.write(buf, k.machine.read(key, keylen))
        err = yield from _call(k, fn(k, alg, "setkey"), tfm, buf, keylen)
        k.machine.write(raw, bytes(absize + mask))
        k.heap.free(raw)
    else:
        err = yield from _call(k, fn(k, alg, "setkey"), tfm, key, keylen)
    if err:
        _set_needkey(k, tfm, alg)
        return err
    base = base_tfm(k, tfm)
    set_tfm_flags(k, base, tfm_flags(k, base) & ~const(k, "CRYPTO_TFM_NEED_KEY"))
    return 0


# --------------------------------------------------- kernel-private defaults
@static("int shash_finup_unaligned(struct shash_desc *desc, const u8 *data, "
         "unsigned int len, u8 *out)")
def shash_finup_unaligned(k, desc, data, length, out):
    return (yield from finup_unaligned(k, desc, data, length, out))


@static("int shash_digest_unaligned(struct shash_desc *desc, const u8 *data, "
         "unsigned int len, u8 *out)")
def shash_digest_unaligned(k, desc, data, length, out):
    return (yield from digest_unaligned(k, desc, data, length, out))


@static("int shash_default_export(struct shash_desc *desc, void *out)")
def shash_default_export(k, desc, out):
    size = descsize(k, desc_tfm(k, desc))
    if size:
        k.machine.write(out, k.machine.read(desc_ctx(k, desc), size))
    return 0


@static("int shash_default_import(struct shash_desc *desc, const void *in)")
def shash_default_import(k, desc, in_):
    size = descsize(k, desc_tfm(k, desc))
    if size:
        k.machine.write(desc_ctx(k, desc), k.machine.read(in_, size))
    return 0


@static("int shash_no_setkey(struct crypto_shash *tfm, const u8 *key, unsigned int keylen)")
def shash_no_setkey(k, tfm, key, keylen):
    return -errno.ENOSYS


@static("void crypto_shash_exit_tfm(struct crypto_tfm *tfm)")
def crypto_shash_exit_tfm(k, tfm):
    hash_ = tfm - off(k, "crypto_shash.base")
    yield k.call_request(fn(k, shash_alg_of(k, hash_), "exit_tfm"), hash_)


class ShashType:
    """crypto_shash_type: the struct crypto_type every shash's cra_type points to."""

    def __init__(self, k):
        from .internal import TypeObjects
        self.addr = k.model(TypeObjects).get("shash", "CRYPTO_ALG_TYPE_SHASH",
                                             "CRYPTO_ALG_TYPE_MASK", "crypto_shash")
        k.machine.write_u64(self.addr + off(k, "crypto_type.extsize"),
                            k.export_addr("crypto_alg_extsize"))


# ------------------------------------------------------------- registration
def prepare_alg(k, alg) -> int:
    """shash_prepare_alg()."""
    m = k.machine
    if _u32(k, alg + off(k, "shash_alg.digestsize")) > const(k, "HASH_MAX_DIGESTSIZE") or \
            _u32(k, alg + off(k, "shash_alg.descsize")) > const(k, "HASH_MAX_DESCSIZE") or \
            _u32(k, alg + off(k, "shash_alg.statesize")) > max_statesize(k):
        return -errno.EINVAL
    if bool(fn(k, alg, "export")) != bool(fn(k, alg, "import")):
        return -errno.EINVAL
    base = alg + off(k, "shash_alg.base")
    m.write_u64(base + off(k, "crypto_alg.cra_type"), k.model(ShashType).addr)
    flags = alg_field(k, base, "cra_flags") & ~const(k, "CRYPTO_ALG_TYPE_MASK")
    m.write_u32(base + off(k, "crypto_alg.cra_flags"), flags | const(k, "CRYPTO_ALG_TYPE_SHASH"))

    def default(member, name):
        if not fn(k, alg, member):
            m.write_u64(alg + off(k, f"shash_alg.{member}"), static_addr(k, name))
    default("finup", "shash_finup_unaligned")
    default("digest", "shash_digest_unaligned")
    if not fn(k, alg, "export"):
        default("export", "shash_default_export")
        default("import", "shash_default_import")
        m.write_u32(alg + off(k, "shash_alg.statesize"), _u32(k, alg + off(k, "shash_alg.descsize")))
    default("setkey", "shash_no_setkey")
    return 0


def register_shash(k, alg):
    err = prepare_alg(k, alg)
    if err:
        return err
    return (yield from register_alg(k, alg + off(k, "shash_alg.base"), "shash", alg))


def unregister_shash(k, alg):
    yield from unregister_alg(k, alg + off(k, "shash_alg.base"))


@export("int crypto_register_shash(struct shash_alg *alg)", fails="-EEXIST")
def crypto_register_shash(k, alg):
    return (yield from register_shash(k, alg))


@export("void crypto_unregister_shash(struct shash_alg *alg)")
def crypto_unregister_shash(k, alg):
    yield from unregister_shash(k, alg)


@export("int crypto_register_shashes(struct shash_alg *algs, int count)", fails="-EEXIST")
def crypto_register_shashes(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("shash_alg"),
                                     register_shash, unregister_shash))


@export("void crypto_unregister_shashes(struct shash_alg *algs, int count)")
def crypto_unregister_shashes(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("shash_alg"), unregister_shash)


@export("bool crypto_shash_alg_has_setkey(struct shash_alg *alg)")
def crypto_shash_alg_has_setkey(k, alg):
    return alg_has_setkey(k, alg)


# ---------------------------------------------------------------- transforms
def _init_tfm(k, tfm, rec):
    """crypto_shash_init_tfm()."""
    m = k.machine
    hash_ = tfm - off(k, "crypto_shash.base")
    alg = rec.outer
    m.write_u32(hash_ + off(k, "crypto_shash.descsize"), _u32(k, alg + off(k, "shash_alg.descsize")))
    _set_needkey(k, hash_, alg)
    if fn(k, alg, "exit_tfm"):
        tfm_field(k, tfm, "exit", static_addr(k, "crypto_shash_exit_tfm"))
    if not fn(k, alg, "init_tfm"):
        return 0
    err = yield from _call(k, fn(k, alg, "init_tfm"), hash_)
    if err:
        return err
    if _u32(k, hash_ + off(k, "crypto_shash.descsize")) > const(k, "HASH_MAX_DESCSIZE"):
        from ..lib.kemu_warn import warn_once
        warn_once(k, "crypto/shash.c:445", "crypto_shash_init_tfm+0x68/0x90")
        if fn(k, alg, "exit_tfm"):
            yield k.call_request(fn(k, alg, "exit_tfm"), hash_)
        return -errno.EINVAL
    return 0


FRONTEND = Frontend("shash", "crypto_shash", "CRYPTO_ALG_TYPE_SHASH", "CRYPTO_ALG_TYPE_MASK",
                    _init_tfm)
FRONTENDS["shash"] = FRONTEND


def alloc_shash_by_name(k, name: str, type_, mask):
    """crypto_alloc_shash() for a Python string (testmgr)."""
    from .internal import create_tfm
    from kemu.abi.toolkit import err_ptr
    rec = yield from find_alg(k, FRONTEND, name, type_, mask)
    if isinstance(rec, int):
        return err_ptr(rec)
    mem = yield from create_tfm(k, rec, FRONTEND)
    if is_err(mem):
        yield from mod_put(k, rec.addr)
    return mem


@export("struct crypto_shash *crypto_alloc_shash(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_shash(k, alg_name, type_, mask):
    return (yield from alloc_tfm(k, alg_name, FRONTEND, type_, mask))


@export("int crypto_has_shash(const char *alg_name, u32 type, u32 mask)")
def crypto_has_shash(k, alg_name, type_, mask):
    from kemu.abi.toolkit import cstr
    rec = yield from find_alg(k, FRONTEND, cstr(k, alg_name), type_, mask)
    if isinstance(rec, int):
        return 0
    yield from mod_put(k, rec.addr)
    return 1


@export("int crypto_shash_setkey(struct crypto_shash *tfm, const u8 *key, unsigned int keylen)")
def crypto_shash_setkey(k, tfm, key, keylen):
    return (yield from setkey(k, tfm, key, keylen))


@export("int crypto_shash_update(struct shash_desc *desc, const u8 *data, unsigned int len)")
def crypto_shash_update(k, desc, data, length):
    return (yield from update(k, desc, data, length))


@export("int crypto_shash_final(struct shash_desc *desc, u8 *out)")
def crypto_shash_final(k, desc, out):
    return (yield from final(k, desc, out))


@export("int crypto_shash_finup(struct shash_desc *desc, const u8 *data, unsigned int len, "
        "u8 *out)")
def crypto_shash_finup(k, desc, data, length, out):
    return (yield from finup(k, desc, data, length, out))


@export("int crypto_shash_digest(struct shash_desc *desc, const u8 *data, unsigned int len, "
        "u8 *out)")
def crypto_shash_digest(k, desc, data, length, out):
    return (yield from digest(k, desc, data, length, out))


@export("int crypto_shash_tfm_digest(struct crypto_shash *tfm, const u8 *data, "
        "unsigned int len, u8 *out)")
def crypto_shash_tfm_digest(k, tfm, data, length, out):
    size = k.target.sizeof("shash_desc") + descsize(k, tfm)
    desc = temp_buffer(k, size, "shash_desc")
    k.machine.write_u64(desc + off(k, "shash_desc.tfm"), tfm)
    try:
        return (yield from digest(k, desc, data, length, out))
    finally:
        k.machine.write(desc, bytes(size))               # shash_desc_zero()
        k.heap.free(desc)


def destroy_shash(k, tfm):
    yield from destroy_tfm(k, tfm, base_tfm(k, tfm))

