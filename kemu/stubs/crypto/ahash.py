"""crypto/ahash.c: asynchronous hash registration."""
import errno

from kemu import export
from kemu.abi.exports import members

from .internal import const, max_statesize, member, off, prepare_base, register_alg, register_many, \
    unregister_alg, unregister_many


def _base(k, alg):
    return alg + off(k, "ahash_alg.halg") + off(k, "hash_alg_common.base")


def prepare_alg(k, alg) -> int:
    """ahash_prepare_alg()."""
    halg = alg + off(k, "ahash_alg.halg")
    statesize = member(k, halg, "hash_alg_common.statesize", 4)
    if member(k, halg, "hash_alg_common.digestsize", 4) > const(k, "HASH_MAX_DIGESTSIZE") or \
            statesize > max_statesize(k) or statesize == 0:
        return -errno.EINVAL
    prepare_base(k, _base(k, alg), "ahash", "CRYPTO_ALG_TYPE_AHASH",
                 "CRYPTO_ALG_TYPE_AHASH_MASK", "crypto_ahash")
    return 0


def register_ahash(k, alg):
    err = prepare_alg(k, alg)
    if err:
        return err
    return (yield from register_alg(k, _base(k, alg), "ahash", alg))


def unregister_ahash(k, alg):
    yield from unregister_alg(k, _base(k, alg))


@export("int crypto_register_ahash(struct ahash_alg *alg)", fails="-EEXIST")
def crypto_register_ahash(k, alg):
    return (yield from register_ahash(k, alg))


@export("void crypto_unregister_ahash(struct ahash_alg *alg)")
def crypto_unregister_ahash(k, alg):
    yield from unregister_ahash(k, alg)


@export("int crypto_register_ahashes(struct ahash_alg *algs, int count)")
def crypto_register_ahashes(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("ahash_alg"),
                                     register_ahash, unregister_ahash))


@export("void crypto_unregister_ahashes(struct ahash_alg *algs, int count)")
def crypto_unregister_ahashes(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("ahash_alg"), unregister_ahash)


# ---------------------------------------------------------------- transforms
from .internal import (FRONTENDS, Frontend, TypeObjects, alg_extsize, alg_field, alloc_tfm,  # noqa: E402
                       create_tfm, destroy_tfm, find_alg, mod_put, set_tfm_flags, temp_buffer,
                       tfm_alg, tfm_ctx, tfm_field, tfm_flags)
from kemu.abi.toolkit import cstr, is_err, ptr_err, s32, static, static_addr

members("struct shash_alg", "base")
members("struct crypto_shash", "base")
members("struct shash_desc", "tfm")
members("struct hash_alg_common", "digestsize", "statesize", "base")
members("struct ahash_alg", "finup", "setkey", "halg", "init", "update", "final", "digest",
        "export", "import", "init_tfm", "exit_tfm")
members("struct crypto_ahash", "base", "init", "update", "final", "finup", "digest", "export",
        "import", "setkey", "reqsize")
members("struct ahash_request", "base", "result", "nbytes", "src", "priv")
members("struct crypto_async_request", "tfm", "complete")

ENOKEY = 126
PAGE_SIZE = 4096


def _type_addr(k):
    return k.model(TypeObjects).get("ahash", "CRYPTO_ALG_TYPE_AHASH",
                                    "CRYPTO_ALG_TYPE_AHASH_MASK", "crypto_ahash")


def _hash(k, tfm, member_name, value=None, size=8):
    return member(k, tfm, f"crypto_ahash.{member_name}", size, value)


def _is_shash(k, rec_addr):
    return alg_field(k, rec_addr, "cra_type", 8) != _type_addr(k)


def _extsize(k, rec):
    return 8 if _is_shash(k, rec.addr) else alg_extsize(k, rec.addr)   # struct crypto_shash *


def _init_tfm(k, tfm, rec):
    """crypto_ahash_init_tfm(), or crypto_init_shash_ops_async() for an shash."""
    from . import shash as S
    from .internal import mod_get
    hash_ = tfm - off(k, "crypto_ahash.base")
    _hash(k, hash_, "setkey", static_addr(k, "ahash_nosetkey"))
    if _is_shash(k, rec.addr):
        if not mod_get(k, rec):
            return -11                                          # -EAGAIN
        shash = yield from create_tfm(k, rec, S.FRONTEND)
        if is_err(shash):
            yield from mod_put(k, rec.addr)
            return ptr_err(shash)
        k.machine.write_u64(tfm_ctx(k, tfm), shash)
        tfm_field(k, tfm, "exit", static_addr(k, "crypto_exit_shash_ops_async"))
        for op in ("init", "update", "final", "finup", "digest", "export", "import"):
            _hash(k, hash_, op, static_addr(k, f"shash_async_{op}"))
        if S.alg_has_setkey(k, rec.outer):
            _hash(k, hash_, "setkey", static_addr(k, "shash_async_setkey"))
        need = tfm_flags(k, shash + off(k, "crypto_shash.base")) & const(k, "CRYPTO_TFM_NEED_KEY")
        set_tfm_flags(k, tfm, tfm_flags(k, tfm) | need)
        _hash(k, hash_, "reqsize", k.target.sizeof("shash_desc") + S.descsize(k, shash), 4)
        return 0
    alg = rec.outer
    for op in ("init", "update", "final", "digest", "export", "import"):
        _hash(k, hash_, op, member(k, alg, f"ahash_alg.{op}"))
    _hash(k, hash_, "finup", member(k, alg, "ahash_alg.finup") or
          static_addr(k, "ahash_def_finup"))
    if member(k, alg, "ahash_alg.setkey"):
        _hash(k, hash_, "setkey", member(k, alg, "ahash_alg.setkey"))
        if not alg_field(k, rec.addr, "cra_flags") & const(k, "CRYPTO_ALG_OPTIONAL_KEY"):
            set_tfm_flags(k, tfm, tfm_flags(k, tfm) | const(k, "CRYPTO_TFM_NEED_KEY"))
    return 0
    yield


FRONTEND = Frontend("ahash", "crypto_ahash", "CRYPTO_ALG_TYPE_AHASH",
                    "CRYPTO_ALG_TYPE_AHASH_MASK", _init_tfm, _extsize)
FRONTENDS["ahash"] = FRONTEND


@static("int ahash_nosetkey(struct crypto_ahash *tfm, const u8 *key, unsigned int keylen)")
def ahash_nosetkey(k, tfm, key, keylen):
    return -errno.ENOSYS


@static("int ahash_def_finup(struct ahash_request *req)")
def ahash_def_finup(k, req):
    tfm = _req_tfm(k, req)
    err = s32((yield k.call_request(_hash(k, tfm, "update"), req)))
    if err:
        return err
    return s32((yield k.call_request(_hash(k, tfm, "final"), req)))


@static("void crypto_exit_shash_ops_async(struct crypto_tfm *tfm)")
def crypto_exit_shash_ops_async(k, tfm):
    shash = k.machine.read_u64(tfm_ctx(k, tfm))
    yield from destroy_tfm(k, shash, shash + off(k, "crypto_shash.base"))


def _req(k, req, name, size=8):
    return member(k, req, f"ahash_request.{name}", size)


def _req_tfm(k, req):
    base = k.machine.read_u64(req + off(k, "ahash_request.base") + off(k, "crypto_async_request.tfm"))
    return base - off(k, "crypto_ahash.base")


def _desc(k, req):
    return req + k.target.sizeof("ahash_request")            # ahash_request_ctx()


def _bind_desc(k, req):
    tfm = _req_tfm(k, req)
    shash = k.machine.read_u64(tfm_ctx(k, tfm + off(k, "crypto_ahash.base")))
    desc = _desc(k, req)
    k.machine.write_u64(desc + off(k, "shash_desc.tfm"), shash)
    return desc


def _walk(k, req):
    """crypto_hash_walk_first()/done(): (address, length) chunks of req->src."""
    from ..lib.scatterlist import SG
    s = SG(k)
    left, sg = _req(k, req, "nbytes", 4), _req(k, req, "src")
    tfm = _req_tfm(k, req)
    mask = alg_field(k, tfm_alg(k, tfm + off(k, "crypto_ahash.base")), "cra_alignmask")
    while left and sg:
        addr, length = s.virt(sg), min(s.length(sg), left)
        while length:
            n = min(length, PAGE_SIZE - (addr & (PAGE_SIZE - 1)))
            if addr & mask:
                n = min(n, mask + 1 - (addr & mask))
            yield addr, n
            addr, length, left = addr + n, length - n, left - n
        sg = s.next(sg)


def ahash_update(k, req, desc):
    """shash_ahash_update()."""
    from . import shash as S
    for addr, n in list(_walk(k, req)):
        err = yield from S.update(k, desc, addr, n)
        if err:
            return err
    return 0


def ahash_finup(k, req, desc):
    """shash_ahash_finup()."""
    from . import shash as S
    chunks = list(_walk(k, req))
    result = _req(k, req, "result")
    if not chunks:
        return (yield from S.final(k, desc, result))
    for i, (addr, n) in enumerate(chunks):
        if i == len(chunks) - 1:
            err = yield from S.finup(k, desc, addr, n, result)
        else:
            err = yield from S.update(k, desc, addr, n)
        if err:
            return err
    return 0


def ahash_digest(k, req, desc):
    """shash_ahash_digest()."""
    from ..lib.scatterlist import SG
    from . import shash as S
    nbytes = _req(k, req, "nbytes", 4)
    sg = _req(k, req, "src")
    if nbytes:
        s = SG(k)
        if nbytes <= min(s.length(sg), PAGE_SIZE - s.offset(sg)):
            return (yield from S.digest(k, desc, s.virt(sg), nbytes, _req(k, req, "result")))
    err = yield from S.init(k, desc)
    return err or (yield from ahash_finup(k, req, desc))


@static("int shash_async_init(struct ahash_request *req)")
def shash_async_init(k, req):
    from . import shash as S
    return (yield from S.init(k, _bind_desc(k, req)))


@static("int shash_async_update(struct ahash_request *req)")
def shash_async_update(k, req):
    return (yield from ahash_update(k, req, _desc(k, req)))


@static("int shash_async_final(struct ahash_request *req)")
def shash_async_final(k, req):
    from . import shash as S
    return (yield from S.final(k, _desc(k, req), _req(k, req, "result")))


@static("int shash_async_finup(struct ahash_request *req)")
def shash_async_finup(k, req):
    return (yield from ahash_finup(k, req, _bind_desc(k, req)))


@static("int shash_async_digest(struct ahash_request *req)")
def shash_async_digest(k, req):
    return (yield from ahash_digest(k, req, _bind_desc(k, req)))


@static("int shash_async_export(struct ahash_request *req, void *out)")
def shash_async_export(k, req, out):
    from . import shash as S
    desc = _desc(k, req)
    alg = S.shash_alg_of(k, S.desc_tfm(k, desc))
    return s32((yield k.call_request(S.fn(k, alg, "export"), desc, out)))


@static("int shash_async_import(struct ahash_request *req, const void *in)")
def shash_async_import(k, req, in_):
    from . import shash as S
    desc = _bind_desc(k, req)
    alg = S.shash_alg_of(k, S.desc_tfm(k, desc))
    return s32((yield k.call_request(S.fn(k, alg, "import"), desc, in_)))


@static("int shash_async_setkey(struct crypto_ahash *tfm, const u8 *key, unsigned int keylen)")
def shash_async_setkey(k, tfm, key, keylen):
    from . import shash as S
    shash = k.machine.read_u64(tfm_ctx(k, tfm + off(k, "crypto_ahash.base")))
    return (yield from S.setkey(k, shash, key, keylen))


@export("int shash_ahash_update(struct ahash_request *req, struct shash_desc *desc)")
def shash_ahash_update(k, req, desc):
    return (yield from ahash_update(k, req, desc))


@export("int shash_ahash_finup(struct ahash_request *req, struct shash_desc *desc)")
def shash_ahash_finup(k, req, desc):
    return (yield from ahash_finup(k, req, desc))


@export("int shash_ahash_digest(struct ahash_request *req, struct shash_desc *desc)")
def shash_ahash_digest(k, req, desc):
    return (yield from ahash_digest(k, req, desc))


@export("struct crypto_ahash *crypto_alloc_ahash(const char *alg_name, u32 type, u32 mask)")
def crypto_alloc_ahash(k, alg_name, type_, mask):
    return (yield from alloc_tfm(k, alg_name, FRONTEND, type_, mask))


@export("int crypto_has_ahash(const char *alg_name, u32 type, u32 mask)")
def crypto_has_ahash(k, alg_name, type_, mask):
    rec = yield from find_alg(k, FRONTEND, cstr(k, alg_name), type_, mask)
    if isinstance(rec, int):
        return 0
    yield from mod_put(k, rec.addr)
    return 1


@export("bool crypto_hash_alg_has_setkey(struct hash_alg_common *halg)")
def crypto_hash_alg_has_setkey(k, halg):
    from . import shash as S
    alg = halg + off(k, "hash_alg_common.base")
    if _is_shash(k, alg):
        return S.alg_has_setkey(k, alg - off(k, "shash_alg.base"))
    return bool(member(k, alg - off(k, "hash_alg_common.base") - off(k, "ahash_alg.halg"),
                       "ahash_alg.setkey"))


@export("int crypto_ahash_setkey(struct crypto_ahash *tfm, const u8 *key, unsigned int keylen)")
def crypto_ahash_setkey(k, tfm, key, keylen):
    base = tfm + off(k, "crypto_ahash.base")
    mask = alg_field(k, tfm_alg(k, base), "cra_alignmask")
    setkey = _hash(k, tfm, "setkey")
    if key & mask:
        raw = temp_buffer(k, keylen + 2 * mask + 1)
        buf = (raw + mask) & ~mask
        k.machine.write(buf, k.machine.read(key, keylen))
        err = s32((yield k.call_request(setkey, tfm, buf, keylen)))
        k.heap.free(raw)
    else:
        err = s32((yield k.call_request(setkey, tfm, key, keylen)))
    if err:
        alg = tfm_alg(k, base)
        has = crypto_hash_alg_has_setkey(k, alg - off(k, "hash_alg_common.base"))
        if has and not alg_field(k, alg, "cra_flags") & const(k, "CRYPTO_ALG_OPTIONAL_KEY"):
            set_tfm_flags(k, base, tfm_flags(k, base) | const(k, "CRYPTO_TFM_NEED_KEY"))
        return err
    set_tfm_flags(k, base, tfm_flags(k, base) & ~const(k, "CRYPTO_TFM_NEED_KEY"))
    return 0


def _op(k, req, op):
    """crypto_ahash_op(): a misaligned result goes through a bounce buffer."""
    tfm = _req_tfm(k, req)
    fn = _hash(k, tfm, op)
    base = tfm + off(k, "crypto_ahash.base")
    mask = alg_field(k, tfm_alg(k, base), "cra_alignmask")
    result = _req(k, req, "result")
    if result & mask:
        ds = member(k, tfm_alg(k, base) - off(k, "hash_alg_common.base"),
                    "hash_alg_common.digestsize", 4)
        raw = temp_buffer(k, ds + mask)
        k.machine.write_u64(req + off(k, "ahash_request.result"), (raw + mask) & ~mask)
        err = s32((yield k.call_request(fn, req)))
        k.machine.write(result, k.machine.read((raw + mask) & ~mask, ds))
        k.machine.write_u64(req + off(k, "ahash_request.result"), result)
        k.heap.free(raw)
        return err
    return s32((yield k.call_request(fn, req)))


@export("int crypto_ahash_final(struct ahash_request *req)")
def crypto_ahash_final(k, req):
    return (yield from _op(k, req, "final"))


@export("int crypto_ahash_finup(struct ahash_request *req)")
def crypto_ahash_finup(k, req):
    return (yield from _op(k, req, "finup"))


@export("int crypto_ahash_digest(struct ahash_request *req)")
def crypto_ahash_digest(k, req):
    tfm = _req_tfm(k, req)
    if tfm_flags(k, tfm + off(k, "crypto_ahash.base")) & const(k, "CRYPTO_TFM_NEED_KEY"):
        return -ENOKEY
    return (yield from _op(k, req, "digest"))
