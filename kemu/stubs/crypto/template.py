"""crypto/algapi.c and crypto/algboss.c: templates, spawns and instances.

A lookup that finds no algorithm called "tmpl(args)" asks the template, as
cryptomgr's probe does: the name is parsed into the rtattr table a template's
->create() reads (CRYPTOA_TYPE, then one CRYPTOA_ALG per argument) and the
template registers an instance. Instances remember their spawns; removing an
algorithm removes the instances built on it (crypto_remove_spawns()).
"""
from __future__ import annotations

import errno
from dataclasses import dataclass, field

from kemu import export
from kemu.abi.exports import members

from ..kernel.module import module_put, try_module_get
from ..lib.kemu_warn import bug, warn_once
from ..mm.slab import kfree_addr
from .internal import (CRYPTO_MSG_ALG_REQUEST, CRYPTO_MSG_ALG_UNREGISTER, FRONTENDS, Alg,
                       TypeObjects, alg_field, alg_flags, check_alg, const, create_tfm, crypto,
                       crypto_notifier, find_alg, fips_internal, list_del_init, mod_get, mod_put, off,
                       set_alg_flags)
from kemu.abi.toolkit import (cstr, err_ptr, init_list_head, is_err, list_add, owner_of, ptr_err,
                              s32, static, static_addr)

members("struct crypto_alg", "cra_list", "cra_users", "cra_ctxsize", "cra_refcnt", "cra_name",
        "cra_driver_name", "cra_u", "cra_module")
members("struct crypto_template", "module", "create", "name")
members("struct crypto_instance", "tmpl", "spawns", "alg", "list", "free_work")
members("struct cipher_alg", "cia_min_keysize", "cia_max_keysize")
members("struct hash_alg_common", "base")
members("struct ahash_alg", "halg")
members("struct skcipher_alg", "setkey", "init", "exit", "min_keysize", "max_keysize",
        "ivsize", "base")
members("struct crypto_skcipher", "base")
members("struct crypto_attr_alg", "name")
members("struct crypto_attr_type", "type", "mask")
members("struct skcipher_instance", "free", "alg")
members("struct crypto_cipher_spawn", "base")
members("struct rtattr", "rta_len", "rta_type")

# enum { CRYPTOA_UNSPEC, CRYPTOA_TYPE, CRYPTOA_ALG } of crypto/internal.h (not in headers)
CRYPTOA_TYPE, CRYPTOA_ALG = 1, 2
CRYPTO_MAX_ATTRS = 32                      # crypto/algboss.c
RTA_HDRLEN = 4                             # RTA_LENGTH(0): sizeof(struct rtattr), aligned to 4


def _inherited(k):
    return const(k, "CRYPTO_ALG_ASYNC") | const(k, "CRYPTO_ALG_NEED_FALLBACK") | \
        const(k, "CRYPTO_ALG_ALLOCATES_MEMORY")


@dataclass
class Instance:
    """A registered instance: its crypto_instance, template and frontend struct."""
    inst: int                 # struct crypto_instance (== &inst->alg)
    outer: int                # struct skcipher_instance / aead_instance / ... (or inst)
    kind: str
    tmpl: int
    spawns: list = field(default_factory=list)


class Templates:
    def __init__(self, k):
        self.instances: dict = {}        # crypto_instance address -> Instance
        self.probes: list = []           # per running probe: objects nested probes made


# ------------------------------------------------------------------ attributes
def _rta(k, rta, member):
    return rta + off(k, f"rtattr.{member}")


def _rta_len(k, rta):
    return k.machine.read_u16(_rta(k, rta, "rta_len"))


def _rta_type(k, rta):
    return k.machine.read_u16(_rta(k, rta, "rta_type"))


def get_attr_type(k, tb):
    rta = k.machine.read_u64(tb)
    if not rta:
        return -errno.ENOENT
    if _rta_len(k, rta) - RTA_HDRLEN < k.target.sizeof("crypto_attr_type"):
        return -errno.EINVAL
    if _rta_type(k, rta) != CRYPTOA_TYPE:
        return -errno.EINVAL
    return rta + RTA_HDRLEN


@export("struct crypto_attr_type *crypto_get_attr_type(struct rtattr **tb)")
def crypto_get_attr_type(k, tb):
    algt = get_attr_type(k, tb)
    return err_ptr(algt) if algt < 0 else algt


@export("int crypto_check_attr_type(struct rtattr **tb, u32 type, u32 *mask_ret)")
def crypto_check_attr_type(k, tb, type_, mask_ret):
    algt = get_attr_type(k, tb)
    if algt < 0:
        return algt
    m = k.machine
    atype = m.read_u32(algt + off(k, "crypto_attr_type.type"))
    amask = m.read_u32(algt + off(k, "crypto_attr_type.mask"))
    if (atype ^ type_) & amask:
        return -errno.EINVAL
    inherited = _inherited(k)
    m.write_u32(mask_ret, (atype ^ inherited) & amask & inherited)
    return 0


@export("const char *crypto_attr_alg_name(struct rtattr *rta)")
def crypto_attr_alg_name(k, rta):
    if not rta:
        return err_ptr(-errno.ENOENT)
    if _rta_len(k, rta) - RTA_HDRLEN < k.target.sizeof("crypto_attr_alg"):
        return err_ptr(-errno.EINVAL)
    if _rta_type(k, rta) != CRYPTOA_ALG:
        return err_ptr(-errno.EINVAL)
    name = rta + RTA_HDRLEN + off(k, "crypto_attr_alg.name")
    k.machine.write_u8(name + const(k, "CRYPTO_MAX_ALG_NAME") - 1, 0)
    return name


@export("int crypto_inst_setname(struct crypto_instance *inst, const char *name, "
        "struct crypto_alg *alg)")
def crypto_inst_setname(k, inst, name, alg):
    m = k.machine
    tname = m.read_cstr(name, 256)
    limit = const(k, "CRYPTO_MAX_ALG_NAME")
    for member in ("cra_name", "cra_driver_name"):
        text = tname + b"(" + m.read_cstr(alg + off(k, f"crypto_alg.{member}"), 256) + b")"
        m.write(inst + off(k, f"crypto_alg.{member}"), text[:limit - 1] + b"\0")   # snprintf()
        if len(text) >= limit:
            return -errno.ENAMETOOLONG
    return 0


# --------------------------------------------------------------------- spawns
def _sp(k, spawn, member):
    return spawn + off(k, f"crypto_spawn.{member}")


def grab_spawn(k, spawn, inst, name, type_, mask):
    """crypto_grab_spawn() (a generator)."""
    m = k.machine
    if not inst:
        warn_once(k, "crypto/algapi.c:712", "crypto_grab_spawn+0xf8/0x110")
        return -errno.EINVAL
    if is_err(name):
        return ptr_err(name)
    frontend = FRONTENDS.get(k.model(TypeObjects).kinds.get(m.read_u64(_sp(k, spawn, "frontend"))))
    tested = const(k, "CRYPTO_ALG_TESTED")
    if frontend is not None:
        rec = yield from find_alg(k, frontend, cstr(k, name), type_ | tested, mask | tested)
    else:
        from .internal import alg_lookup
        rec = yield from alg_lookup(k, cstr(k, name), (type_ | tested) & 0xFFFFFFFF,
                                    (mask | tested) & 0xFFFFFFFF)
    if isinstance(rec, int):
        return rec
    list_add(k, _sp(k, spawn, "list"), rec.addr + off(k, "crypto_alg.cra_users"))
    m.write_u64(_sp(k, spawn, "alg"), rec.addr)
    m.write_u32(_sp(k, spawn, "mask"), mask)
    first = inst + off(k, "crypto_instance.spawns")
    m.write_u64(_sp(k, spawn, "next"), m.read_u64(first))
    m.write_u64(first, spawn)
    set_alg_flags(k, inst, alg_flags(k, inst) | (alg_flags(k, rec.addr) & _inherited(k)))
    return 0


@export("int crypto_grab_spawn(struct crypto_spawn *spawn, struct crypto_instance *inst, "
        "const char *name, u32 type, u32 mask)")
def crypto_grab_spawn(k, spawn, inst, name, type_, mask):
    return (yield from grab_spawn(k, spawn, inst, name, type_, mask))


def _grab_with(kind, alg_type, maskset, tfm_struct):
    @export(f"int crypto_grab_{kind}(struct crypto_{kind}_spawn *spawn, "
            "struct crypto_instance *inst, const char *name, u32 type, u32 mask)")
    def grab(k, spawn, inst, name, type_, mask):
        base = spawn + off(k, f"crypto_{kind}_spawn.base")
        k.machine.write_u64(_sp(k, base, "frontend"),
                            k.model(TypeObjects).get(kind, alg_type, maskset, tfm_struct))
        return (yield from grab_spawn(k, base, inst, name, type_, mask))
    grab.__name__ = f"crypto_grab_{kind}"
    return grab


_grab_with("skcipher", "CRYPTO_ALG_TYPE_SKCIPHER", "CRYPTO_ALG_TYPE_MASK", "crypto_skcipher")
_grab_with("aead", "CRYPTO_ALG_TYPE_AEAD", "CRYPTO_ALG_TYPE_MASK", "crypto_aead")
_grab_with("shash", "CRYPTO_ALG_TYPE_SHASH", "CRYPTO_ALG_TYPE_MASK", "crypto_shash")
_grab_with("ahash", "CRYPTO_ALG_TYPE_AHASH", "CRYPTO_ALG_TYPE_AHASH_MASK", "crypto_ahash")


def drop_spawn(k, spawn):
    """crypto_drop_spawn() (a generator)."""
    m = k.machine
    alg = m.read_u64(_sp(k, spawn, "alg"))
    if not alg:
        return
    if not m.read_u8(_sp(k, spawn, "dead")):
        list_del_init(k, _sp(k, spawn, "list"))
    if not m.read_u8(_sp(k, spawn, "registered")):
        yield from mod_put(k, alg)


@export("void crypto_drop_spawn(struct crypto_spawn *spawn)")
def crypto_drop_spawn(k, spawn):
    yield from drop_spawn(k, spawn)


def _spawn_alg(k, spawn):
    """crypto_spawn_alg(): the spawn's algorithm with a reference, or -EAGAIN."""
    m = k.machine
    if m.read_u8(_sp(k, spawn, "dead")):
        return -errno.EAGAIN
    alg = m.read_u64(_sp(k, spawn, "alg"))
    rec = crypto(k).find(alg) or Alg(alg, alg, "alg", "", "", None)
    if not mod_get(k, rec):
        return -errno.EAGAIN
    return rec


@export("void *crypto_spawn_tfm2(struct crypto_spawn *spawn)")
def crypto_spawn_tfm2(k, spawn):
    rec = _spawn_alg(k, spawn)
    if isinstance(rec, int):
        return err_ptr(rec)
    frontend = FRONTENDS.get(k.model(TypeObjects).kinds.get(
        k.machine.read_u64(_sp(k, spawn, "frontend"))))
    if frontend is None:
        yield from mod_put(k, rec.addr)
        return err_ptr(-errno.EINVAL)
    mem = yield from create_tfm(k, rec, frontend)
    if is_err(mem):
        yield from mod_put(k, rec.addr)
    return mem


@export("struct crypto_tfm *crypto_spawn_tfm(struct crypto_spawn *spawn, u32 type, u32 mask)")
def crypto_spawn_tfm(k, spawn, type_, mask):
    from .api import BASE
    rec = _spawn_alg(k, spawn)
    if isinstance(rec, int):
        return err_ptr(rec)
    if (alg_flags(k, rec.addr) ^ type_) & mask:
        yield from mod_put(k, rec.addr)
        return err_ptr(-errno.EINVAL)
    mem = yield from create_tfm(k, rec, BASE, 0)
    if is_err(mem):
        yield from mod_put(k, rec.addr)
    return mem


# ------------------------------------------------------------------ instances
def _spawn_chain(k, inst):
    spawns, spawn = [], k.machine.read_u64(inst + off(k, "crypto_instance.spawns"))
    while spawn:
        spawns.append(spawn)
        spawn = k.machine.read_u64(_sp(k, spawn, "next"))
    return spawns


def register_instance(k, tmpl, inst, kind, outer):
    """crypto_register_instance() (a generator)."""
    from . import testmgr
    m = k.machine
    err = check_alg(k, inst)
    if err:
        return err
    module = m.read_u64(tmpl + off(k, "crypto_template.module"))
    m.write_u64(inst + off(k, "crypto_alg.cra_module"), module)
    set_alg_flags(k, inst, alg_flags(k, inst) | const(k, "CRYPTO_ALG_INSTANCE"))
    spawns = _spawn_chain(k, inst)
    fips = 0
    for spawn in spawns:
        if m.read_u8(_sp(k, spawn, "dead")):
            return -errno.EAGAIN
    for spawn in spawns:
        m.write_u64(_sp(k, spawn, "inst"), inst)
        m.write_u8(_sp(k, spawn, "registered"), 1)
        alg = m.read_u64(_sp(k, spawn, "alg"))
        fips |= alg_flags(k, alg)
        yield from mod_put(k, alg)
    set_alg_flags(k, inst, alg_flags(k, inst) | (fips & fips_internal(k)))
    c = crypto(k)
    name = cstr(k, inst + off(k, "crypto_alg.cra_name"))
    driver = cstr(k, inst + off(k, "crypto_alg.cra_driver_name"))
    for q in c.algs:                               # __crypto_register_alg()
        if q.addr == inst or q.driver in (name, driver) or q.name == driver:
            return -errno.EEXIST
    init_list_head(k, inst + off(k, "crypto_alg.cra_users"))
    list_add(k, inst + off(k, "crypto_alg.cra_list"), c.alg_list)
    rec = Alg(inst, outer + off(k, f"{kind}_instance.alg") if kind != "alg" else inst, kind,
              name, driver, owner_of(k, module))
    c.algs.insert(0, rec)
    k.model(Templates).instances[inst] = Instance(inst, outer, kind, tmpl, spawns)
    m.write_u64(inst + off(k, "crypto_instance.tmpl"), tmpl)
    ok = yield from testmgr.alg_test(k, rec)
    if ok:
        set_alg_flags(k, inst, alg_flags(k, inst) | const(k, "CRYPTO_ALG_TESTED"))
    return 0


def _crypto_instance(k, outer, kind):
    return outer + off(k, f"{kind}_instance.alg") + off(k, f"{kind}_alg.base" if kind != "ahash"
                                                           else "ahash_alg.halg") + \
        (off(k, "hash_alg_common.base") if kind == "ahash" else 0)


def _register_frontend_instance(kind, prepare):
    @export(f"int {kind}_register_instance(struct crypto_template *tmpl, "
            f"struct {kind}_instance *inst)")
    def register(k, tmpl, inst):
        if not k.machine.read_u64(inst + off(k, f"{kind}_instance.free")):
            warn_once(k, f"crypto/{kind}.c:1", f"{kind}_register_instance+0x0/0x0")
            return -errno.EINVAL
        err = prepare(k, inst + off(k, f"{kind}_instance.alg"))
        if err:
            return err
        return (yield from register_instance(k, tmpl, _crypto_instance(k, inst, kind), kind, inst))
    register.__name__ = f"{kind}_register_instance"
    return register


def _prepare_skcipher(k, alg):
    from .skcipher import prepare_alg
    return prepare_alg(k, alg)


def _prepare_aead(k, alg):
    from .aead import prepare_alg
    return prepare_alg(k, alg)


def _prepare_shash(k, alg):
    from .shash import prepare_alg
    return prepare_alg(k, alg)


def _prepare_ahash(k, alg):
    from .ahash import prepare_alg
    return prepare_alg(k, alg)


_register_frontend_instance("skcipher", _prepare_skcipher)
_register_frontend_instance("aead", _prepare_aead)
_register_frontend_instance("shash", _prepare_shash)
_register_frontend_instance("ahash", _prepare_ahash)


def free_instance(k, ins: Instance):
    """crypto_free_instance(): the frontend's ->free of the instance."""
    free = k.machine.read_u64(ins.outer + off(k, f"{ins.kind}_instance.free"))
    if free:
        yield k.call_request(free, ins.outer)


def remove_instance(k, ins: Instance):
    """Unlink an instance (crypto_remove_instance()); it is freed by the caller."""
    c = crypto(k)
    rec = c.find(ins.inst)
    set_alg_flags(k, ins.inst, alg_flags(k, ins.inst) | const(k, "CRYPTO_ALG_DEAD"))
    list_del_init(k, ins.inst + off(k, "crypto_alg.cra_list"))
    if rec is not None:
        c.algs.remove(rec)
    k.model(Templates).instances.pop(ins.inst, None)


@crypto_notifier(CRYPTO_MSG_ALG_UNREGISTER)
def remove_spawns(k, alg):
    """crypto_remove_spawns(): instances built on ``alg`` go (and theirs, in turn)."""
    victims = [ins for ins in list(k.model(Templates).instances.values())
               if any(k.machine.read_u64(_sp(k, s, "alg")) == alg for s in ins.spawns)]
    for ins in victims:
        for spawn in ins.spawns:
            k.machine.write_u8(_sp(k, spawn, "dead"), 1)
        remove_instance(k, ins)
        yield from remove_spawns(k, ins.inst)
        if k.machine.read_u32(ins.inst + off(k, "crypto_alg.cra_refcnt")) <= 1:
            yield from free_instance(k, ins)


@export("void crypto_unregister_instance(struct crypto_instance *inst)")
def crypto_unregister_instance(k, inst):
    ins = k.model(Templates).instances.get(inst)
    if ins is None:
        return
    yield from remove_spawns(k, inst)
    remove_instance(k, ins)
    yield from free_instance(k, ins)


def unregister_template_instances(k, tmpl):
    """The instances part of crypto_unregister_template()."""
    for ins in [i for i in k.model(Templates).instances.values() if i.tmpl == tmpl]:
        yield from remove_spawns(k, ins.inst)
        remove_instance(k, ins)
        if k.machine.read_u32(ins.inst + off(k, "crypto_alg.cra_refcnt")) != 1:
            bug(k, "crypto/algapi.c:596")
        yield from free_instance(k, ins)


# ------------------------------------------------------- the simple skcipher
@export("struct skcipher_instance *skcipher_alloc_instance_simple(struct crypto_template *tmpl, "
        "struct rtattr **tb)")
def skcipher_alloc_instance_simple(k, tmpl, tb):
    from ..mm.slab import kmalloc
    m, t = k.machine, k.target
    mask_ret = k.heap.alloc(4, kind="skcipher_alloc_instance_simple mask", zero=True)
    try:
        err = crypto_check_attr_type(k, tb, const(k, "CRYPTO_ALG_TYPE_SKCIPHER"), mask_ret)
        mask = m.read_u32(mask_ret)
    finally:
        k.heap.free(mask_ret)
    if err:
        return err_ptr(err)
    inst = kmalloc(k, t.sizeof("skcipher_instance") + t.sizeof("crypto_cipher_spawn"),
                   const(k, "GFP_KERNEL") | const(k, "__GFP_ZERO"), kind="skcipher_instance")
    cinst = _crypto_instance(k, inst, "skcipher")
    spawn = cinst + t.sizeof("crypto_instance")          # skcipher_instance_ctx()
    name = crypto_attr_alg_name(k, m.read_u64(tb + 8))
    cipher_type = const(k, "CRYPTO_ALG_TYPE_CIPHER")     # crypto_grab_cipher()
    err = yield from grab_spawn(k, spawn + off(k, "crypto_cipher_spawn.base"), cinst, name,
                                cipher_type, mask | const(k, "CRYPTO_ALG_TYPE_MASK"))
    if not err:
        calg = m.read_u64(_sp(k, spawn, "alg"))
        err = crypto_inst_setname(k, cinst, tmpl + off(k, "crypto_template.name"), calg)
    if err:
        yield from drop_spawn(k, spawn)
        kfree_addr(k, inst)
        return err_ptr(err)
    alg = inst + off(k, "skcipher_instance.alg")
    base = alg + off(k, "skcipher_alg.base")
    m.write_u64(inst + off(k, "skcipher_instance.free"),
                static_addr(k, "skcipher_free_instance_simple"))
    for member in ("cra_blocksize", "cra_alignmask", "cra_priority"):
        m.write_u32(base + off(k, f"crypto_alg.{member}"), alg_field(k, calg, member))
    cia = calg + off(k, "crypto_alg.cra_u")
    m.write_u32(alg + off(k, "skcipher_alg.min_keysize"),
                m.read_u32(cia + off(k, "cipher_alg.cia_min_keysize")))
    m.write_u32(alg + off(k, "skcipher_alg.max_keysize"),
                m.read_u32(cia + off(k, "cipher_alg.cia_max_keysize")))
    m.write_u32(alg + off(k, "skcipher_alg.ivsize"), alg_field(k, calg, "cra_blocksize"))
    m.write_u32(base + off(k, "crypto_alg.cra_ctxsize"), 8)     # struct skcipher_ctx_simple
    m.write_u64(alg + off(k, "skcipher_alg.setkey"), static_addr(k, "skcipher_setkey_simple"))
    m.write_u64(alg + off(k, "skcipher_alg.init"), static_addr(k, "skcipher_init_tfm_simple"))
    m.write_u64(alg + off(k, "skcipher_alg.exit"), static_addr(k, "skcipher_exit_tfm_simple"))
    return inst


def _simple_spawn(k, inst):
    return _crypto_instance(k, inst, "skcipher") + k.target.sizeof("crypto_instance")


@static("void skcipher_free_instance_simple(struct skcipher_instance *inst)")
def skcipher_free_instance_simple(k, inst):
    yield from drop_spawn(k, _simple_spawn(k, inst))
    kfree_addr(k, inst)


def _skcipher_ctx(k, tfm):
    return tfm + off(k, "crypto_skcipher.base") + k.target.sizeof("crypto_tfm")


@static("int skcipher_setkey_simple(struct crypto_skcipher *tfm, const u8 *key, "
         "unsigned int keylen)")
def skcipher_setkey_simple(k, tfm, key, keylen):
    from .cipher import crypto_cipher_setkey
    from .internal import set_tfm_flags, tfm_flags
    cipher = k.machine.read_u64(_skcipher_ctx(k, tfm))
    req_mask = const(k, "CRYPTO_TFM_REQ_MASK")
    flags = tfm_flags(k, tfm + off(k, "crypto_skcipher.base"))
    set_tfm_flags(k, cipher, (tfm_flags(k, cipher) & ~req_mask) | (flags & req_mask))
    return (yield from crypto_cipher_setkey(k, cipher, key, keylen))


@static("int skcipher_init_tfm_simple(struct crypto_skcipher *tfm)")
def skcipher_init_tfm_simple(k, tfm):
    from .internal import tfm_alg
    alg = tfm_alg(k, tfm + off(k, "crypto_skcipher.base")) - off(k, "skcipher_alg.base")
    inst = alg - off(k, "skcipher_instance.alg")
    spawn = _simple_spawn(k, inst)
    cipher = yield from crypto_spawn_tfm(k, spawn, const(k, "CRYPTO_ALG_TYPE_CIPHER"),
                                         const(k, "CRYPTO_ALG_TYPE_MASK"))
    if is_err(cipher):
        return ptr_err(cipher)
    k.machine.write_u64(_skcipher_ctx(k, tfm), cipher)
    return 0


@static("void skcipher_exit_tfm_simple(struct crypto_skcipher *tfm)")
def skcipher_exit_tfm_simple(k, tfm):
    from .internal import destroy_tfm
    cipher = k.machine.read_u64(_skcipher_ctx(k, tfm))
    yield from destroy_tfm(k, cipher, cipher)


@export("void shash_free_singlespawn_instance(struct shash_instance *inst)")
def shash_free_singlespawn_instance(k, inst):
    spawn = _crypto_instance(k, inst, "shash") + k.target.sizeof("crypto_instance")
    yield from drop_spawn(k, spawn)
    kfree_addr(k, inst)


# ---------------------------------------------------------- cryptomgr's probe
def _parse(name: str):
    """cryptomgr_schedule_probe()'s parse: (template, [arg names]) or None."""
    def word_end(s, i):
        while i < len(s) and (s[i].isalnum() or s[i] in "-_"):
            i += 1
        return i
    i = word_end(name, 0)
    if not i or i >= len(name) or name[i] != "(":
        return None
    tmpl, args = name[:i], []
    p = i
    while True:
        start = p = p + 1
        p = word_end(name, p)
        if p < len(name) and name[p] == "(":
            depth = 0
            while True:
                p += 1
                if p >= len(name):
                    return None
                if name[p] == "(":
                    depth += 1
                elif name[p] == ")":
                    if depth == 0:
                        break
                    depth -= 1
            p += 1
        if p == start:
            return None
        args.append(name[start:p])
        if len(args) >= CRYPTO_MAX_ATTRS:
            return None
        if p < len(name) and name[p] == ")":
            break
        if p >= len(name) or name[p] != ",":
            return None
    return tmpl, args


@crypto_notifier(CRYPTO_MSG_ALG_REQUEST)
def probe(k, name: str, type_: int, mask: int):
    """Instantiate ``name`` from its template, if it names one (a generator)."""
    parsed = _parse(name)
    if parsed is None:
        return
    tmpl_name, args = parsed
    tmpl = next((t for t, n in crypto(k).templates.items() if n == tmpl_name), None)
    if tmpl is None:
        return
    module = k.machine.read_u64(tmpl + off(k, "crypto_template.module"))
    if not try_module_get(k, module):
        return
    m, t = k.machine, k.target
    alg_attr = RTA_HDRLEN + t.sizeof("crypto_attr_alg")
    type_attr = RTA_HDRLEN + t.sizeof("crypto_attr_type")
    size = 8 * (CRYPTO_MAX_ATTRS + 1) + type_attr + alg_attr * len(args)
    param = k.heap.alloc(size, kind="cryptomgr_param", zero=True)
    try:
        tb = param
        attr = param + 8 * (CRYPTO_MAX_ATTRS + 1)
        m.write_u16(attr, type_attr)
        m.write_u16(attr + 2, CRYPTOA_TYPE)
        tested = const(k, "CRYPTO_ALG_TESTED")
        larval_flags = const(k, "CRYPTO_ALG_LARVAL") | type_
        m.write_u32(attr + RTA_HDRLEN + off(k, "crypto_attr_type.type"), larval_flags & ~tested)
        m.write_u32(attr + RTA_HDRLEN + off(k, "crypto_attr_type.mask"), mask & ~tested)
        m.write_u64(tb, attr)
        attr += type_attr
        for i, arg in enumerate(args):
            m.write_u16(attr, alg_attr)
            m.write_u16(attr + 2, CRYPTOA_ALG)
            m.write(attr + RTA_HDRLEN + off(k, "crypto_attr_alg.name"), arg.encode()[:127] + b"\0")
            m.write_u64(tb + 8 * (i + 1), attr)
            attr += alg_attr
        create = m.read_u64(tmpl + off(k, "crypto_template.create"))
        before = set(k.heap.live)
        probes = k.model(Templates).probes
        probes.append(set())
        try:
            for _ in range(8):                            # while (err == -EAGAIN)
                err = s32((yield k.call_request(create, tmpl, tb)))
                if err != -errno.EAGAIN:
                    break
        finally:
            nested = probes.pop()
        # cryptomgr's probe thread made the instance: it is the template module's, not the
        # caller's (freed when the template goes); instances of inner templates, made by
        # nested probes, stay their templates'
        owner = k.module_at(module)
        made = set(k.heap.live) - before - {param}
        for addr in made - nested:
            k.heap.live[addr].owner = owner.name if owner else None
        if probes:
            probes[-1] |= made
    finally:
        k.heap.free(param)
        module_put(k, module)
