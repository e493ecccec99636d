"""The crypto core that crypto/api.c and crypto/algapi.c share: the algorithm
list, lookups, module references, transform creation, and kernel-private
functions (shash_no_setkey, crypto_shash_exit_tfm, ...) that modules reach
through function pointers the core stores in their structures.

Algorithms live in module memory; kemu keeps a record per registered
``struct crypto_alg`` (newest first, as ``crypto_alg_list`` is) and links
each into the real ``crypto_alg_list`` in kernel data as the kernel does.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass

from kemu.abi.exports import members
from kemu.abi.toolkit import (cstr, err_ptr, init_list_head, is_err, list_add, owner_of, s32, static,
                               static_addr)

from ..kernel.module import module_put, try_module_get
from ..lib.kemu_warn import bug, warn
from ..mm.slab import kfree_addr, kmalloc

members("struct crypto_alg", "cra_list", "cra_users", "cra_flags", "cra_refcnt", "cra_name",
        "cra_driver_name", "cra_type")
# crypto, scatterlists, lib (stubs/crypto, stubs/lib, stubs/fs/nls.py)
members("struct crypto_tfm", "refcnt", "crt_flags", "node", "exit", "__crt_alg")
members("struct crypto_type", "type", "maskclear", "maskset", "tfmsize")

U64 = (1 << 64) - 1
NUMA_NO_NODE = -1

# crypto_chain (crypto/api.c): the core announces, the rest of the crypto layer
# subscribes, so that the core never calls up into it. CRYPTO_MSG_ALG_REGISTER:
# cryptomgr self-tests a new algorithm (testmgr); CRYPTO_MSG_ALG_REQUEST: cryptomgr
# probes the templates for a name nobody registered; kemu adds the unregistration
# (crypto_remove_spawns) and the boot of the built-in algorithms.
CRYPTO_MSG_ALG_REGISTER = "alg register"
CRYPTO_MSG_ALG_REQUEST = "alg request"
CRYPTO_MSG_ALG_UNREGISTER = "alg unregister"
CRYPTO_MSG_BOOT = "boot"
CRYPTO_CHAIN: dict[str, list] = {CRYPTO_MSG_ALG_REGISTER: [], CRYPTO_MSG_ALG_REQUEST: [],
                                 CRYPTO_MSG_ALG_UNREGISTER: [], CRYPTO_MSG_BOOT: []}


def crypto_notifier(msg: str):
    """Decorator: subscribe ``fn`` to one message of crypto_chain (crypto_register_notifier)."""
    def deco(fn):
        CRYPTO_CHAIN[msg].append(fn)
        return fn
    return deco


# ------------------------------------------------------------------- memory
def off(k, member: str) -> int:
    return k.target.offset(member)


def const(k, name: str) -> int:
    return k.target.const(name)


def rd64(k, addr):
    return k.machine.read_u64(addr)


def rd32(k, addr):
    return k.machine.read_u32(addr)





def list_del_init(k, entry):
    m = k.machine
    nxt = m.read_u64(entry + off(k, "list_head.next"))
    prv = m.read_u64(entry + off(k, "list_head.prev"))
    if nxt and prv:
        m.write_u64(nxt + off(k, "list_head.prev"), prv)
        m.write_u64(prv + off(k, "list_head.next"), nxt)
    init_list_head(k, entry)


# --------------------------------------------------------------- alg records
@dataclass
class Alg:
    """One registered struct crypto_alg."""
    addr: int              # struct crypto_alg
    outer: int             # the frontend's struct (shash_alg, skcipher_alg, ...) or addr
    kind: str              # "shash", "skcipher", "aead", "cipher", ...
    name: str
    driver: str
    module: object         # Module or None (built in)


def alg_field(k, alg, member, size=4):
    addr = alg + off(k, f"crypto_alg.{member}")
    return k.machine.read_u64(addr) if size == 8 else k.machine.read_u32(addr)


def alg_flags(k, alg):
    return alg_field(k, alg, "cra_flags")


def set_alg_flags(k, alg, flags):
    k.machine.write_u32(alg + off(k, "crypto_alg.cra_flags"), flags)



class Crypto:
    """Per-kernel crypto core state."""

    def __init__(self, k):
        self.k = k
        self.algs: list[Alg] = []            # newest first, like crypto_alg_list
        self.templates: dict = {}            # struct crypto_template address -> name
        self.template_list = k.machine.alloc_kdata(k.target.sizeof("list_head"), 8)
        init_list_head(k, self.template_list)
        self.tfms: dict = {}                 # tfm memory -> (Alg, frontend name, tfm address)
        self.notifiers: list = []
        self._alg_list = None
        for setup in CRYPTO_CHAIN[CRYPTO_MSG_BOOT]:
            setup(k, self)                     # builtin.py: md5, sha1, sha224, sha256, aes

    @property
    def alg_list(self) -> int:
        if self._alg_list is None:
            self._alg_list = self.k.export_addr("crypto_alg_list")
        return self._alg_list

    def find(self, alg_addr):
        for rec in self.algs:
            if rec.addr == alg_addr:
                return rec
        return None


def crypto(k) -> Crypto:
    return k.model(Crypto)


# ------------------------------------------------------------ registration
def check_alg(k, alg) -> int:
    """crypto_check_alg(): names, alignmask, block size, priority; refcount 1."""
    m = k.machine
    if not m.read_u8(alg + off(k, "crypto_alg.cra_name")) or \
            not m.read_u8(alg + off(k, "crypto_alg.cra_driver_name")):
        return -errno.EINVAL
    alignmask = alg_field(k, alg, "cra_alignmask")
    if alignmask & (alignmask + 1):
        return -errno.EINVAL
    if alignmask > const(k, "MAX_ALGAPI_ALIGNMASK"):
        return -errno.EINVAL
    blocksize = alg_field(k, alg, "cra_blocksize")
    if blocksize > const(k, "MAX_ALGAPI_BLOCKSIZE"):
        return -errno.EINVAL
    flags = alg_flags(k, alg)
    if not alg_field(k, alg, "cra_type", 8) and \
            flags & const(k, "CRYPTO_ALG_TYPE_MASK") == const(k, "CRYPTO_ALG_TYPE_CIPHER"):
        if alignmask > const(k, "MAX_CIPHER_ALIGNMASK"):
            return -errno.EINVAL
        if blocksize > const(k, "MAX_CIPHER_BLOCKSIZE"):
            return -errno.EINVAL
    if s32(alg_field(k, alg, "cra_priority")) < 0:
        return -errno.EINVAL
    m.write_u32(alg + off(k, "crypto_alg.cra_refcnt"), 1)
    return 0


def register_alg(k, alg, kind: str, outer: int | None = None):
    """crypto_register_alg(): check, link, self-test (a generator; returns 0 or -errno)."""
    c = crypto(k)
    set_alg_flags(k, alg, alg_flags(k, alg) & ~const(k, "CRYPTO_ALG_DEAD"))
    err = check_alg(k, alg)
    if err:
        return err
    name = cstr(k, alg + off(k, "crypto_alg.cra_name"))
    driver = cstr(k, alg + off(k, "crypto_alg.cra_driver_name"))
    for q in c.algs:                        # __crypto_register_alg()
        if q.addr == alg or q.driver in (name, driver) or q.name == driver:
            return -errno.EEXIST
    init_list_head(k, alg + off(k, "crypto_alg.cra_users"))
    list_add(k, alg + off(k, "crypto_alg.cra_list"), c.alg_list)
    module = owner_of(k, alg_field(k, alg, "cra_module", 8))
    rec = Alg(alg, outer if outer is not None else alg, kind, name, driver, module)
    c.algs.insert(0, rec)
    k.register("crypto alg", alg, module, f"crypto algorithm {driver} ({name})")
    tested = const(k, "CRYPTO_ALG_TESTED")
    if alg_flags(k, alg) & const(k, "CRYPTO_ALG_INTERNAL"):
        set_alg_flags(k, alg, alg_flags(k, alg) | tested)
        return 0
    ok = True
    for test in CRYPTO_CHAIN[CRYPTO_MSG_ALG_REGISTER]:        # cryptomgr: testmgr.alg_test
        ok = (yield from test(k, rec)) and ok
    if ok:
        set_alg_flags(k, alg, alg_flags(k, alg) | tested)
    return 0


def unregister_alg(k, alg):
    """crypto_unregister_alg() (a generator)."""
    c = crypto(k)
    rec = c.find(alg)
    if rec is None:
        driver = cstr(k, alg + off(k, "crypto_alg.cra_driver_name"))
        warn(k, "crypto/algapi.c:484", "crypto_unregister_alg+0xd5/0xf0",
             f"Algorithm {driver} is not registered")
        return
    set_alg_flags(k, alg, alg_flags(k, alg) | const(k, "CRYPTO_ALG_DEAD"))
    list_del_init(k, alg + off(k, "crypto_alg.cra_list"))
    c.algs.remove(rec)
    k.unregister("crypto alg", alg)
    for remove in CRYPTO_CHAIN[CRYPTO_MSG_ALG_UNREGISTER]:    # template.remove_spawns
        yield from remove(k, alg)
    if rd32(k, alg + off(k, "crypto_alg.cra_refcnt")) != 1:
        bug(k, "crypto/algapi.c:464")
    destroy = alg_field(k, alg, "cra_destroy", 8)
    if destroy:
        yield k.call_request(destroy, alg)


def register_many(k, base, count, stride, register_one, unregister_one):
    """crypto_register_*s(): each in turn; on failure undo the ones before."""
    for i in range(count):
        ret = yield from register_one(k, base + i * stride)
        if ret:
            for j in range(i - 1, -1, -1):
                yield from unregister_one(k, base + j * stride)
            return ret
    return 0


def unregister_many(k, base, count, stride, unregister_one):
    """crypto_unregister_*s(): last first."""
    for i in range(count - 1, -1, -1):
        yield from unregister_one(k, base + i * stride)


# ------------------------------------------------------------------ lookups
def mod_get(k, rec: Alg) -> bool:
    """crypto_mod_get(): a module reference and an algorithm reference."""
    modptr = alg_field(k, rec.addr, "cra_module", 8)
    if not try_module_get(k, modptr):
        return False
    ref = rec.addr + off(k, "crypto_alg.cra_refcnt")
    k.machine.write_u32(ref, rd32(k, ref) + 1)
    return True


def mod_put(k, alg):
    """crypto_mod_put() (a generator: the last reference runs cra_destroy)."""
    modptr = alg_field(k, alg, "cra_module", 8)
    ref = alg + off(k, "crypto_alg.cra_refcnt")
    count = (rd32(k, ref) - 1) & 0xFFFFFFFF
    k.machine.write_u32(ref, count)
    if count == 0:
        destroy = alg_field(k, alg, "cra_destroy", 8)
        if destroy:
            yield k.call_request(destroy, alg)
    module_put(k, modptr)


def _lookup_once(k, name, type_, mask):
    """__crypto_alg_lookup(): exact driver name, else the best-priority cra_name."""
    best, found = -2, None
    for q in crypto(k).algs:
        flags = alg_flags(k, q.addr)
        if flags & (const(k, "CRYPTO_ALG_DEAD") | const(k, "CRYPTO_ALG_DYING")):
            continue
        if (flags ^ type_) & mask:
            continue
        exact = q.driver == name
        fuzzy = q.name == name
        prio = s32(alg_field(k, q.addr, "cra_priority"))
        if not exact and not (fuzzy and prio > best):
            continue
        if not mod_get(k, q):
            continue
        if found is not None:
            yield from mod_put(k, found.addr)
        best, found = prio, q
        if exact:
            break
    return found


def alg_lookup(k, name: str, type_: int, mask: int, probe: bool = True, load: bool = True):
    """crypto_alg_mod_lookup(): Alg with a reference, or -errno. An algorithm not
    registered yet is asked of modprobe as ``crypto-NAME`` (and ``crypto-NAME-all``)
    when the kernel has a module tree, then of the templates (cryptomgr's probe)."""
    if load and not mask & const(k, "CRYPTO_NOLOAD"):
        found = yield from alg_lookup(k, name, type_, mask, probe=False, load=False)
        if not isinstance(found, int):
            return found
        # request_module(); without any module tree the requests just fail, quietly
        status = yield from k.kmod.request_module(f"crypto-{name}")
        fallback = const(k, "CRYPTO_ALG_NEED_FALLBACK")
        if status is not None and not ((type_ ^ fallback) & mask & fallback):
            yield from k.kmod.request_module(f"crypto-{name}-all")
        return (yield from alg_lookup(k, name, type_, mask, probe, load=False))
    internal = const(k, "CRYPTO_ALG_INTERNAL")
    tested = const(k, "CRYPTO_ALG_TESTED")
    fips = fips_internal(k)
    if not (type_ | mask) & internal:
        mask |= internal
    type_ &= ~(const(k, "CRYPTO_ALG_LARVAL") | const(k, "CRYPTO_ALG_DEAD"))
    mask &= ~(const(k, "CRYPTO_ALG_LARVAL") | const(k, "CRYPTO_ALG_DEAD"))
    test = 0 if (type_ | mask) & tested else tested
    found = yield from _lookup_once(k, name, (type_ | test) & ~fips, (mask | test) & ~fips)
    if found is not None:
        fmask = mask | fips if ((type_ | mask) ^ fips) & fips else mask
        fmask &= fips
        if (type_ ^ alg_flags(k, found.addr)) & fmask:
            yield from mod_put(k, found.addr)
            return -errno.ENOENT
        return found
    if test:
        found = yield from _lookup_once(k, name, type_, mask)
        if found is not None:
            yield from mod_put(k, found.addr)       # registered, but its self-test failed
            return -errno.ELIBBAD
    if probe:
        for probe_ in CRYPTO_CHAIN[CRYPTO_MSG_ALG_REQUEST]:      # template.probe (cryptomgr)
            yield from probe_(k, name, type_, mask)
        return (yield from alg_lookup(k, name, type_, mask, probe=False))
    return -errno.ENOENT


# ---------------------------------------------------------------- frontends
@dataclass
class Frontend:
    """What a struct crypto_type gives crypto_alloc_tfm(): sizes, type bits, init."""
    name: str
    tfm_struct: str | None        # "crypto_shash"; None for a bare struct crypto_tfm
    alg_type: str                 # CRYPTO_ALG_TYPE_* of the frontend
    maskset: str                  # CRYPTO_ALG_TYPE_MASK or a *_MASK
    init_tfm: object              # generator fn(k, tfm, rec) -> 0 / -errno
    extsize: object = None        # fn(k, rec) -> bytes after struct crypto_tfm

    def tfmsize(self, k) -> int:
        return off(k, f"{self.tfm_struct}.base") if self.tfm_struct else 0


FRONTENDS: dict = {}                      # kind -> Frontend (filled as frontends are defined)


def frontend_of_type(k, type_addr):
    """The Frontend whose struct crypto_type is at ``type_addr`` (None for a bare tfm)."""
    kind = k.model(TypeObjects).kinds.get(type_addr)
    return FRONTENDS.get(kind) if kind else None


def alg_extsize(k, alg) -> int:
    """crypto_alg_extsize()."""
    return alg_field(k, alg, "cra_ctxsize") + \
        (alg_field(k, alg, "cra_alignmask") & ~(const(k, "CRYPTO_MINALIGN") - 1))


def find_alg(k, frontend: Frontend, name: str, type_: int, mask: int):
    """crypto_find_alg(): the frontend's type bits, then the lookup."""
    type_ &= ~const(k, "CRYPTO_ALG_TYPE_MASK")
    mask &= ~const(k, "CRYPTO_ALG_TYPE_MASK")
    type_ |= const(k, frontend.alg_type)
    mask |= const(k, frontend.maskset)
    return (yield from alg_lookup(k, name, type_ & 0xFFFFFFFF, mask & 0xFFFFFFFF))


def tfm_field(k, tfm, member, value=None):
    addr = tfm + off(k, f"crypto_tfm.{member}")
    if value is None:
        return k.machine.read_u64(addr) if member in ("exit", "__crt_alg") else rd32(k, addr)
    if member in ("exit", "__crt_alg"):
        k.machine.write_u64(addr, value)
    else:
        k.machine.write_u32(addr, value)


def tfm_ctx(k, tfm) -> int:
    """crypto_tfm_ctx(): right after struct crypto_tfm (its flexible __crt_ctx[])."""
    return tfm + k.target.sizeof("crypto_tfm")


def create_tfm(k, rec: Alg, frontend: Frontend, node: int = NUMA_NO_NODE):
    """crypto_create_tfm_node(): the frontend's object with the tfm and context
    (a generator; returns its address or an ERR_PTR). The caller holds a reference."""
    tfmsize = frontend.tfmsize(k)
    ext = frontend.extsize(k, rec) if frontend.extsize else alg_extsize(k, rec.addr)
    total = tfmsize + k.target.sizeof("crypto_tfm") + ext
    mem = kmalloc(k, total, const(k, "GFP_KERNEL") | const(k, "__GFP_ZERO"), kind="crypto tfm")
    tfm = mem + tfmsize
    tfm_field(k, tfm, "__crt_alg", rec.addr)
    tfm_field(k, tfm, "node", node & 0xFFFFFFFF)
    if k.target.has_offset("crypto_tfm.refcnt"):       # not in 5.10
        tfm_field(k, tfm, "refcnt", 1)
    err = yield from frontend.init_tfm(k, tfm, rec)
    if not err:
        cra_init = alg_field(k, rec.addr, "cra_init", 8)
        if not tfm_field(k, tfm, "exit") and cra_init:
            err = s32((yield k.call_request(cra_init, tfm)))
            if err:
                exit_fn = tfm_field(k, tfm, "exit")
                if exit_fn:
                    yield k.call_request(exit_fn, tfm)
    if err:
        kfree_addr(k, mem)
        return err_ptr(err)
    crypto(k).tfms[mem] = (rec, frontend.name, tfm)
    return mem


def alloc_tfm(k, name_addr: int, frontend: Frontend, type_: int, mask: int,
              node: int = NUMA_NO_NODE):
    """crypto_alloc_tfm_node() (a generator)."""
    name = cstr(k, name_addr)
    rec = yield from find_alg(k, frontend, name, type_, mask)
    if isinstance(rec, int):
        return err_ptr(rec)
    mem = yield from create_tfm(k, rec, frontend, node)
    if is_err(mem):
        yield from mod_put(k, rec.addr)
    return mem


def destroy_tfm(k, mem, tfm):
    """crypto_destroy_tfm() (a generator)."""
    if not mem or is_err(mem):
        return
    if k.target.has_offset("crypto_tfm.refcnt"):    # not in 5.10: it frees at once
        ref = tfm + off(k, "crypto_tfm.refcnt")
        count = (rd32(k, ref) - 1) & 0xFFFFFFFF
        k.machine.write_u32(ref, count)
        if count:
            return
    alg = tfm_field(k, tfm, "__crt_alg")
    exit_fn = tfm_field(k, tfm, "exit")
    cra_exit = alg_field(k, alg, "cra_exit", 8)
    if not exit_fn and cra_exit:
        yield k.call_request(cra_exit, tfm)
    if exit_fn:
        yield k.call_request(exit_fn, tfm)
    yield from mod_put(k, alg)
    crypto(k).tfms.pop(mem, None)
    obj = k.heap.find(mem)
    if obj is not None:
        k.machine.write(mem, bytes(obj.size))            # kfree_sensitive()
    kfree_addr(k, mem, "kfree_sensitive")


def tfm_alg(k, tfm) -> int:
    return tfm_field(k, tfm, "__crt_alg")


def tfm_flags(k, tfm) -> int:
    return tfm_field(k, tfm, "crt_flags")


def set_tfm_flags(k, tfm, flags):
    tfm_field(k, tfm, "crt_flags", flags & 0xFFFFFFFF)


def alignmask(k, tfm) -> int:
    return alg_field(k, tfm_alg(k, tfm), "cra_alignmask")


def temp_buffer(k, size, kind="crypto bounce buffer") -> int:
    """A kernel buffer standing in for one the kernel keeps on its stack."""
    return k.heap.alloc(max(size, 1), kind=kind, zero=True)


# ----------------------------------------------------- struct crypto_type objects
class TypeObjects:
    """One struct crypto_type per frontend (crypto_skcipher_type, ...), in kernel data."""

    def __init__(self, k):
        self.k, self.addrs, self.kinds = k, {}, {}

    def get(self, kind: str, alg_type: str, maskset: str, tfm_struct: str | None) -> int:
        addr = self.addrs.get(kind)
        if addr is None:
            k, m = self.k, self.k.machine
            addr = self.addrs[kind] = m.alloc_kdata(k.target.sizeof("crypto_type"), 8)
            self.kinds[addr] = kind
            m.write_u32(addr + off(k, "crypto_type.type"), const(k, alg_type))
            m.write_u32(addr + off(k, "crypto_type.maskclear"),
                        ~const(k, "CRYPTO_ALG_TYPE_MASK") & 0xFFFFFFFF)
            m.write_u32(addr + off(k, "crypto_type.maskset"), const(k, maskset))
            if tfm_struct:
                m.write_u32(addr + off(k, "crypto_type.tfmsize"), off(k, f"{tfm_struct}.base"))
        return addr


def prepare_base(k, base, kind: str, alg_type: str, maskset: str, tfm_struct: str | None):
    """The common tail of *_prepare_alg(): cra_type and the type bits of cra_flags."""
    m = k.machine
    m.write_u64(base + off(k, "crypto_alg.cra_type"),
                k.model(TypeObjects).get(kind, alg_type, maskset, tfm_struct))
    flags = alg_flags(k, base) & ~const(k, "CRYPTO_ALG_TYPE_MASK")
    set_alg_flags(k, base, flags | const(k, alg_type))


def member(k, addr, name, size=8, value=None):
    """Read (or write) a member of a frontend structure, by "struct.member"."""
    where = addr + off(k, name)
    m = k.machine
    if value is None:
        return int.from_bytes(m.read(where, size), "little")
    m.write(where, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little"))
    return value


def simple_frontend(kind: str, alg_struct: str, tfm_struct: str, alg_type: str,
                    maskset: str = "CRYPTO_ALG_TYPE_MASK", needkey=None):
    """A Frontend whose init_tfm installs the alg's exit and calls its init (the
    pattern of crypto_akcipher_init_tfm, crypto_kpp_init_tfm, ...)."""

    def outer_of(k, tfm):
        return tfm_alg(k, tfm) - off(k, f"{alg_struct}.base")

    def init_tfm(k, tfm, rec):
        obj = tfm - off(k, f"{tfm_struct}.base")
        if needkey is not None and needkey(k, rec):
            set_tfm_flags(k, tfm, tfm_flags(k, tfm) | const(k, "CRYPTO_TFM_NEED_KEY"))
        if member(k, rec.outer, f"{alg_struct}.exit"):
            tfm_field(k, tfm, "exit", static_addr(k, f"crypto_{kind}_exit_tfm"))
        init = member(k, rec.outer, f"{alg_struct}.init")
        if init:
            return s32((yield k.call_request(init, obj)))
        return 0

    def exit_tfm(k, tfm):
        obj = tfm - off(k, f"{tfm_struct}.base")
        yield k.call_request(member(k, outer_of(k, tfm), f"{alg_struct}.exit"), obj)

    static(f"void crypto_{kind}_exit_tfm(struct crypto_tfm *tfm)")(exit_tfm)
    frontend = Frontend(kind, tfm_struct, alg_type, maskset, init_tfm)
    FRONTENDS[kind] = frontend
    return frontend


def alg_of_tfm(k, obj, tfm_struct, alg_struct):
    """The frontend alg struct of a frontend tfm object (crypto_skcipher_alg(), ...)."""
    return tfm_alg(k, obj + off(k, f"{tfm_struct}.base")) - off(k, f"{alg_struct}.base")


def max_statesize(k) -> int:
    """HASH_MAX_STATESIZE, the cap on a hash's exported state; 6.12's
    hash_prepare_alg() no longer has one (the constant is gone)."""
    return k.target.consts.get("HASH_MAX_STATESIZE", 1 << 32)


def fips_internal(k) -> int:
    """CRYPTO_ALG_FIPS_INTERNAL (5.17): 0 on 5.10, which has no such flag."""
    return k.target.consts.get("CRYPTO_ALG_FIPS_INTERNAL", 0)
