"""crypto/algapi.c (and memneq.c, fips.c): registering algorithms and templates,
and the small helpers algorithm modules call."""
from __future__ import annotations

import errno

from kemu import data, export
from kemu.abi.exports import members

from ..lib.kemu_warn import bug
from .internal import (const, crypto, list_del_init, off, register_alg, register_many,
                       unregister_alg, unregister_many)
from kemu.abi.toolkit import cstr, list_add, owner_of

members("struct crypto_alg", "cra_list", "cra_flags", "cra_refcnt")
members("struct crypto_template", "list", "module", "name", "instances")
members("struct crypto_async_request", "list", "flags")
members("struct crypto_queue", "list", "backlog", "qlen", "max_qlen")


@export("int crypto_register_alg(struct crypto_alg *alg)", fails="-EEXIST")
def crypto_register_alg(k, alg):
    kind = "cipher" if (k.machine.read_u32(alg + off(k, "crypto_alg.cra_flags")) &
                        const(k, "CRYPTO_ALG_TYPE_MASK")) == const(k, "CRYPTO_ALG_TYPE_CIPHER") \
        else "alg"
    return (yield from register_alg(k, alg, kind))


@export("void crypto_unregister_alg(struct crypto_alg *alg)")
def crypto_unregister_alg(k, alg):
    yield from unregister_alg(k, alg)


def _register_one(k, alg):
    return (yield from crypto_register_alg(k, alg))


@export("int crypto_register_algs(struct crypto_alg *algs, int count)", fails="-EEXIST")
def crypto_register_algs(k, algs, count):
    return (yield from register_many(k, algs, count, k.target.sizeof("crypto_alg"),
                                     _register_one, unregister_alg))


@export("void crypto_unregister_algs(struct crypto_alg *algs, int count)")
def crypto_unregister_algs(k, algs, count):
    yield from unregister_many(k, algs, count, k.target.sizeof("crypto_alg"), unregister_alg)


# ---------------------------------------------------------------- templates
def _tmpl_name(k, tmpl):
    return cstr(k, tmpl + off(k, "crypto_template.name"))


def register_template(k, tmpl) -> int:
    c = crypto(k)
    if tmpl in c.templates:
        return -errno.EEXIST
    list_add(k, tmpl + off(k, "crypto_template.list"), c.template_list)
    name = _tmpl_name(k, tmpl)
    c.templates[tmpl] = name
    owner = owner_of(k, k.machine.read_u64(tmpl + off(k, "crypto_template.module")))
    k.register("crypto template", tmpl, owner, f"crypto template {name}")
    return 0


def unregister_template(k, tmpl):
    """crypto_unregister_template() (a generator: instances are freed by the module)."""
    from .template import unregister_template_instances
    c = crypto(k)
    if tmpl not in c.templates:                      # BUG_ON(list_empty(&tmpl->list))
        bug(k, "crypto/algapi.c:584")
    list_del_init(k, tmpl + off(k, "crypto_template.list"))
    del c.templates[tmpl]
    k.unregister("crypto template", tmpl)
    yield from unregister_template_instances(k, tmpl)


@export("int crypto_register_template(struct crypto_template *tmpl)", fails="-EEXIST")
def crypto_register_template(k, tmpl):
    return register_template(k, tmpl)


@export("void crypto_unregister_template(struct crypto_template *tmpl)")
def crypto_unregister_template(k, tmpl):
    yield from unregister_template(k, tmpl)


@export("int crypto_register_templates(struct crypto_template *tmpls, int count)")
def crypto_register_templates(k, tmpls, count):
    size = k.target.sizeof("crypto_template")
    for i in range(count):
        err = register_template(k, tmpls + i * size)
        if err:
            for j in range(i - 1, -1, -1):
                yield from unregister_template(k, tmpls + j * size)
            return err
    return 0


@export("void crypto_unregister_templates(struct crypto_template *tmpls, int count)")
def crypto_unregister_templates(k, tmpls, count):
    size = k.target.sizeof("crypto_template")
    for i in range(count - 1, -1, -1):
        yield from unregister_template(k, tmpls + i * size)


@export("struct crypto_template *crypto_lookup_template(const char *name)")
def crypto_lookup_template(k, name):
    """crypto_lookup_template() without request_module(): a module reference or -ENOENT."""
    from ..kernel.module import try_module_get
    wanted = cstr(k, name)
    for tmpl, tname in crypto(k).templates.items():
        if tname == wanted:
            if try_module_get(k, k.machine.read_u64(tmpl + off(k, "crypto_template.module"))):
                return tmpl
    return -errno.ENOENT


# ----------------------------------------------------------------- notifiers
@export("int crypto_register_notifier(struct notifier_block *nb)")
def crypto_register_notifier(k, nb):
    c = crypto(k)
    if nb not in c.notifiers:
        c.notifiers.append(nb)
        k.register("crypto notifier", nb, k.current_module(), "a crypto notifier block")
    return 0


@export("int crypto_unregister_notifier(struct notifier_block *nb)")
def crypto_unregister_notifier(k, nb):
    c = crypto(k)
    if nb in c.notifiers:
        c.notifiers.remove(nb)
        k.unregister("crypto notifier", nb)
        return 0
    return -errno.ENOENT


# -------------------------------------------------------------------- helpers
@export("void crypto_inc(u8 *a, unsigned int size)")
def crypto_inc(k, a, size):
    if not size:
        return
    value = int.from_bytes(k.machine.read(a, size), "big") + 1
    k.machine.write(a, (value & ((1 << (8 * size)) - 1)).to_bytes(size, "big"))


@export("void __crypto_xor(u8 *dst, const u8 *src1, const u8 *src2, unsigned int size)")
def __crypto_xor(k, dst, src1, src2, size):
    if size:
        a, b = k.machine.read(src1, size), k.machine.read(src2, size)
        k.machine.write(dst, bytes(x ^ y for x, y in zip(a, b)))


@export("unsigned long __crypto_memneq(const void *a, const void *b, size_t size)")
def __crypto_memneq(k, a, b, size):
    x, y = k.machine.read(a, size), k.machine.read(b, size)
    neq, i = 0, 0
    while size - i >= 8:
        neq |= int.from_bytes(x[i:i + 8], "little") ^ int.from_bytes(y[i:i + 8], "little")
        i += 8
    while i < size:
        neq |= x[i] ^ y[i]
        i += 1
    return neq


@data("int fips_enabled")
def fips_enabled(k, addr):
    k.machine.write_u32(addr, 0)


# --------------------------------------------------------------- request queues
def _q(k, member):
    return k.target.offset(f"crypto_queue.{member}")


def _req_list(k, req):
    return req + k.target.offset("crypto_async_request.list")


@export("void crypto_init_queue(struct crypto_queue *queue, unsigned int max_qlen)")
def crypto_init_queue(k, queue, max_qlen):
    from kemu.abi.toolkit import init_list_head
    m = k.machine
    init_list_head(k, queue + _q(k, "list"))
    m.write_u64(queue + _q(k, "backlog"), queue + _q(k, "list"))
    m.write_u32(queue + _q(k, "qlen"), 0)
    m.write_u32(queue + _q(k, "max_qlen"), max_qlen)


def _enqueue(k, queue, request, put):
    m = k.machine
    head = queue + _q(k, "list")
    err = -errno.EINPROGRESS
    if m.read_u32(queue + _q(k, "qlen")) >= m.read_u32(queue + _q(k, "max_qlen")):
        flags = m.read_u32(request + k.target.offset("crypto_async_request.flags"))
        if not flags & k.target.const("CRYPTO_TFM_REQ_MAY_BACKLOG"):
            return -errno.ENOSPC
        err = -errno.EBUSY
        if m.read_u64(queue + _q(k, "backlog")) == head:
            m.write_u64(queue + _q(k, "backlog"), _req_list(k, request))
    m.write_u32(queue + _q(k, "qlen"), m.read_u32(queue + _q(k, "qlen")) + 1)
    where = m.read_u64(head + k.target.offset("list_head.prev")) if put else head
    list_add(k, _req_list(k, request), where)
    return err


@export("int crypto_enqueue_request(struct crypto_queue *queue, "
        "struct crypto_async_request *request)")
def crypto_enqueue_request(k, queue, request):
    return _enqueue(k, queue, request, True)


@export("void crypto_enqueue_request_head(struct crypto_queue *queue, "
        "struct crypto_async_request *request)")
def crypto_enqueue_request_head(k, queue, request):
    m = k.machine
    if m.read_u32(queue + _q(k, "qlen")) >= m.read_u32(queue + _q(k, "max_qlen")):
        backlog = m.read_u64(queue + _q(k, "backlog"))
        m.write_u64(queue + _q(k, "backlog"), m.read_u64(backlog + k.target.offset("list_head.prev")))
    _enqueue(k, queue, request, False)


@export("struct crypto_async_request *crypto_dequeue_request(struct crypto_queue *queue)")
def crypto_dequeue_request(k, queue):
    from ..lib.list_debug import LIST_POISON1, LIST_POISON2
    m = k.machine
    qlen = m.read_u32(queue + _q(k, "qlen"))
    if not qlen:
        return 0
    m.write_u32(queue + _q(k, "qlen"), qlen - 1)
    head = queue + _q(k, "list")
    backlog = m.read_u64(queue + _q(k, "backlog"))
    if backlog != head:
        m.write_u64(queue + _q(k, "backlog"), m.read_u64(backlog + k.target.offset("list_head.next")))
    entry = m.read_u64(head + k.target.offset("list_head.next"))
    list_del_init(k, entry)                                   # list_del(): then poisoned
    m.write_u64(entry + k.target.offset("list_head.next"), LIST_POISON1)
    m.write_u64(entry + k.target.offset("list_head.prev"), LIST_POISON2)
    return entry - k.target.offset("crypto_async_request.list")


# ------------------------------------------------- crypto_alg_sem, removing spawns
@data("struct rw_semaphore crypto_alg_sem")
def crypto_alg_sem(k, addr):
    """The semaphore guarding crypto_alg_list (kemu's models run under the one CPU)."""
    from ..kernel.locking.rwsem import __init_rwsem
    __init_rwsem(k, addr, 0, 0)


class _Removed:
    """Instances crypto_remove_spawns() moved onto a caller's list, by crypto_instance."""

    def __init__(self, k):
        self.instances: dict = {}


@export("void crypto_remove_spawns(struct crypto_alg *alg, struct list_head *list, "
        "struct crypto_alg *nalg)")
def crypto_remove_spawns(k, alg, list_, nalg):
    """Kill the instances built on ``alg`` (and theirs) and move them onto ``list``."""
    from .template import Templates, _sp, remove_instance
    if nalg:
        k.finding("not-modelled", "crypto_remove_spawns() with a replacement algorithm is "
                                  "modelled only for nalg == NULL", k.current_module())
        return
    m = k.machine
    pending, seen = [alg], set()
    while pending:
        victim = pending.pop()
        for ins in list(k.model(Templates).instances.values()):
            if ins.inst in seen or not any(m.read_u64(_sp(k, s, "alg")) == victim
                                           for s in ins.spawns):
                continue
            seen.add(ins.inst)
            for spawn in ins.spawns:
                m.write_u8(_sp(k, spawn, "dead"), 1)
            remove_instance(k, ins)                      # marks it CRYPTO_ALG_DEAD
            head_prev = m.read_u64(list_ + off(k, "list_head.prev"))
            list_add(k, ins.inst + off(k, "crypto_alg.cra_list"), head_prev)   # list_move_tail
            k.model(_Removed).instances[ins.inst] = ins
            pending.append(ins.inst)


@export("void crypto_remove_final(struct list_head *list)")
def crypto_remove_final(k, list_):
    """Drop the list's reference to each removed instance; the last one frees it."""
    from .template import free_instance
    m = k.machine
    removed = k.model(_Removed).instances
    entry = m.read_u64(list_ + off(k, "list_head.next"))
    while entry != list_:
        nxt = m.read_u64(entry + off(k, "list_head.next"))
        inst = entry - off(k, "crypto_alg.cra_list")
        list_del_init(k, entry)
        ref = inst + off(k, "crypto_alg.cra_refcnt")
        count = (m.read_u32(ref) - 1) & 0xFFFFFFFF
        m.write_u32(ref, count)
        ins = removed.pop(inst, None)
        if count == 0 and ins is not None:
            yield from free_instance(k, ins)             # crypto_destroy_instance()
        entry = nxt
