"""net/netfilter/x_tables.c: the match, target and table-template registries.

x_tables is a module in Debian (x_tables.ko); kemu models the registration
part of its API so that ``xt_*.ko`` matches and targets load on their own:
``xt_register_match(es)``/``xt_register_target(s)`` put the structs on the
per-family lists (real ``list_head``s in kernel memory, newest first, as
``list_add`` does) and ``xt_unregister_*`` take them off; the ``*s`` variants
unwind on failure as the kernel does. ``xt_find_match``/``xt_request_find_*``
look them up by (family, name, revision) with the kernel's NFPROTO_UNSPEC
fallback and module reference. Table templates (``xt_register_template``)
refuse a second template of the same name with WARN_ON_ONCE and -EEXIST.

Python API: ``xt_matches(k)``, ``xt_targets(k)`` ->
``[(family, name, revision, address, owner module name or None)]``.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, err_ptr, init_list_head, list_add, list_del, owner_of, rd
from ...lib.kemu_warn import warn_once

members("struct xt_table", "me", "af", "name", "list", "valid_hooks", "private", "ops",
        "priority")
members("struct xt_match", "list", "name", "revision", "match", "checkentry", "destroy", "me",
        "usersize", "matchsize", "table", "hooks", "proto", "family")
members("struct xt_target", "list", "name", "revision", "target", "checkentry", "destroy",
        "me", "usersize", "targetsize", "table", "hooks", "proto", "family")


class XTables:
    """Per-kernel xt[af].match / xt[af].target lists and xt_templates."""

    def __init__(self, k):
        self.k = k
        t = k.target
        self.heads = {}
        for kind in ("match", "target"):
            for af in range(t.const("NFPROTO_NUMPROTO")):
                head = k.machine.alloc_kdata(t.sizeof("list_head"), 8)
                init_list_head(k, head)
                self.heads[(kind, af)] = head
        self.lists: dict[tuple, list[int]] = {key: [] for key in self.heads}
        self.templates: dict[int, list[tuple[str, int, int]]] = {}


def _family(k, xt, kind, addr) -> int:
    """The object's family: an index into xt[NFPROTO_NUMPROTO] in Linux, which
    locks xt[af].mutex past the array for a bad one; kemu stops the entry there."""
    return _check_family(xt, kind, rd(k, addr, f"xt_{kind}.family", 1))


def _check_family(xt, kind, af) -> int:
    if (kind, af) not in xt.heads:
        from kemu.errors import KernelBug
        raise KernelBug(f"kemu: xt_{kind} family {af} is past xt[NFPROTO_NUMPROTO]: "
                        "Linux would lock a mutex outside the array")
    return af


def _reg(k, kind, addr):
    xt = k.model(XTables)
    af = _family(k, xt, kind, addr)
    list_add(k, addr + k.target.offset(f"xt_{kind}.list"), xt.heads[(kind, af)])
    xt.lists[(kind, af)].insert(0, addr)
    name = cstr(k, addr + k.target.offset(f"xt_{kind}.name"), 64)
    rev = rd(k, addr, f"xt_{kind}.revision", 1)
    owner = owner_of(k, rd(k, addr, f"xt_{kind}.me"))
    k.register(f"xt_{kind}", addr, owner, f"xt {kind} {name} (family {af}, revision {rev})")
    return 0


def _unreg(k, kind, addr):
    xt = k.model(XTables)
    af = _family(k, xt, kind, addr)
    lst = xt.lists[(kind, af)]
    if addr in lst:
        lst.remove(addr)
    list_del(k, addr + k.target.offset(f"xt_{kind}.list"))
    k.unregister(f"xt_{kind}", addr)


@export("int xt_register_match(struct xt_match *target)")
def xt_register_match(k, target):
    return _reg(k, "match", target)


@export("void xt_unregister_match(struct xt_match *target)")
def xt_unregister_match(k, target):
    _unreg(k, "match", target)


@export("int xt_register_matches(struct xt_match *match, unsigned int n)")
def xt_register_matches(k, match, n):
    size = k.target.sizeof("xt_match")
    for i in range(n):
        err = _reg(k, "match", match + i * size)
        if err:
            xt_unregister_matches(k, match, i)
            return err
    return 0


@export("void xt_unregister_matches(struct xt_match *match, unsigned int n)")
def xt_unregister_matches(k, match, n):
    size = k.target.sizeof("xt_match")
    while n > 0:
        n -= 1
        _unreg(k, "match", match + n * size)


@export("int xt_register_target(struct xt_target *target)")
def xt_register_target(k, target):
    return _reg(k, "target", target)


@export("void xt_unregister_target(struct xt_target *target)")
def xt_unregister_target(k, target):
    _unreg(k, "target", target)


@export("int xt_register_targets(struct xt_target *target, unsigned int n)")
def xt_register_targets(k, target, n):
    size = k.target.sizeof("xt_target")
    for i in range(n):
        err = _reg(k, "target", target + i * size)
        if err:
            xt_unregister_targets(k, target, i)
            return err
    return 0


@export("void xt_unregister_targets(struct xt_target *target, unsigned int n)")
def xt_unregister_targets(k, target, n):
    size = k.target.sizeof("xt_target")
    while n > 0:
        n -= 1
        _unreg(k, "target", target + n * size)


def find(k, kind, af, name, revision):
    """xt_find_match()/xt_find_target() without the module reference: (addr, err)."""
    from ...fs.open import module_get
    xt = k.model(XTables)
    err = -errno.ENOENT
    _check_family(xt, kind, af)
    for fam in (af, k.target.const("NFPROTO_UNSPEC")):
        for addr in xt.lists[(kind, fam)]:
            if cstr(k, addr + k.target.offset(f"xt_{kind}.name"), 64) != name:
                continue
            if rd(k, addr, f"xt_{kind}.revision", 1) == revision:
                if module_get(k, rd(k, addr, f"xt_{kind}.me")):
                    return addr, 0
            else:
                err = -errno.EPROTOTYPE
        if af == k.target.const("NFPROTO_UNSPEC"):
            break
    return 0, err


@export("struct xt_match *xt_find_match(u8 af, const char *name, u8 revision)")
def xt_find_match(k, af, name, revision):
    addr, err = find(k, "match", af, cstr(k, name, 64), revision)
    return addr or err_ptr(err)


@export("struct xt_match *xt_request_find_match(u8 nfproto, const char *name, u8 revision)")
def xt_request_find_match(k, nfproto, name, revision):
    text = cstr(k, name, 64)
    if len(text) >= k.target.const("XT_EXTENSION_MAXNAMELEN"):
        return err_ptr(-errno.EINVAL)
    addr, err = find(k, "match", nfproto, text, revision)
    return addr or err_ptr(err)


def xt_find_target(k, af, name, revision):
    addr, err = find(k, "target", af, cstr(k, name, 64), revision)
    return addr or err_ptr(err)


@export("struct xt_target *xt_request_find_target(u8 af, const char *name, u8 revision)")
def xt_request_find_target(k, af, name, revision):
    text = cstr(k, name, 64)
    if len(text) >= k.target.const("XT_EXTENSION_MAXNAMELEN"):
        return err_ptr(-errno.EINVAL)
    addr, err = find(k, "target", af, text, revision)
    return addr or err_ptr(err)


@export("int xt_register_template(const struct xt_table *table, "
        "int (*table_init)(struct net *net))")
def xt_register_template(k, table, table_init):
    xt = k.model(XTables)
    af = rd(k, table, "xt_table.af", 1)
    name = cstr(k, table + k.target.offset("xt_table.name"), 32)
    lst = xt.templates.setdefault(af, [])
    if any(n == name for n, _i, _me in lst):
        warn_once(k, "net/netfilter/x_tables.c:1793", "xt_register_template+0x81/0x170 [x_tables]")
        return -errno.EBUSY
    lst.insert(0, (name, table_init, rd(k, table, "xt_table.me")))
    k.register("xt_template", (af, name), owner_of(k, rd(k, table, "xt_table.me")),
               f"xt table template {name} (family {af})")
    return 0


@export("void xt_unregister_template(const struct xt_table *table)")
def xt_unregister_template(k, table):
    xt = k.model(XTables)
    af = rd(k, table, "xt_table.af", 1)
    name = cstr(k, table + k.target.offset("xt_table.name"), 32)
    lst = xt.templates.setdefault(af, [])
    for i, (n, _init, _me) in enumerate(lst):
        if n == name:
            del lst[i]
            k.unregister("xt_template", (af, name))
            return
    warn_once(k, "net/netfilter/x_tables.c:1832", "xt_unregister_template+0x7a/0xe0 [x_tables]")


def _listing(k, kind):
    xt = k.model(XTables)
    out = []
    for (knd, af), lst in xt.lists.items():
        if knd != kind:
            continue
        for addr in lst:
            me = k.module_at(rd(k, addr, f"xt_{kind}.me"))
            out.append((af, cstr(k, addr + k.target.offset(f"xt_{kind}.name"), 64),
                        rd(k, addr, f"xt_{kind}.revision", 1), addr, me.name if me else None))
    return out


def xt_matches(k) -> list:
    """(family, name, revision, address, owner) of every registered match."""
    return _listing(k, "match")


def xt_targets(k) -> list:
    """(family, name, revision, address, owner) of every registered target."""
    return _listing(k, "target")
