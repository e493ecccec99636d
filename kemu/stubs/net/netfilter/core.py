"""net/netfilter/core.c: netfilter hook registration and traversal.

Hooks are kept per (namespace, protocol family, hook number) in the kernel's
order: ascending priority, a new hook going before existing hooks of equal
priority (nf_hook_entries_grow). NFPROTO_INET hooks other than ingress are
registered for IPv4 and IPv6. For each IPv4/IPv6/ARP/bridge head a real
``struct nf_hook_entries`` (count, {hook, priv} pairs, then the orig_ops
pointers) is kept in ``net->nf.hooks_*[hooknum]`` and ``nf_hooks_needed`` is
counted, so a module's inline ``nf_hook()`` sees what the kernel would.
Invalid families or hook numbers fail -EINVAL after the kernel's WARN_ON_ONCE;
unregistering a hook that is not registered gives its "hook not found" warning.

Python API (for ``kemu packet``)::

    nf_hooks(k, pf, hooknum, net=None) -> [Hook(priority, hook, priv, ops, owner), ...]
    nf_hook_run(k, pf, hooknum, skb, state) -> verdict    # nf_hook_slow in emulation
"""
from __future__ import annotations

import errno
from dataclasses import dataclass

from kemu import data, export
from kemu.abi.exports import members

from kemu.abi.toolkit import rd, rd_s32, s32, sym, wr
from ...lib.kemu_warn import warn_once

members("struct nf_hook_ops", "hook", "dev", "priv", "pf", "hooknum", "priority",
        "hook_ops_type")
members("struct net", "nf", "nf.hooks_ipv4", "nf.hooks_ipv6", "nf.hooks_arp",
        "nf.hooks_bridge")
members("struct nf_hook_entries", "num_hook_entries")
members("struct nf_hook_entry", "hook", "priv")
members("struct nf_sockopt_ops", "pf", "owner", "list", "set_optmin", "set_optmax", "set",
        "get_optmin", "get_optmax", "get")
members("struct static_key", "enabled", "entries", "next")

MAX_HOOK_COUNT = 1024
NF_NETDEV_INGRESS, NF_NETDEV_EGRESS = 0, 1


@dataclass
class Hook:
    """One registered hook, as nf_hooks() reports it."""
    priority: int
    hook: int                 # nf_hookfn address
    priv: int
    ops: int                  # struct nf_hook_ops address
    owner: str | None         # module name


class Netfilter:
    """Per-kernel hook lists: (net, pf, hooknum, dev) -> [ops addresses] in order."""

    def __init__(self, k):
        self.k = k
        self.lists: dict[tuple, list[int]] = {}
        self.sockopts: list[int] = []

    def ops_list(self, net, pf, hooknum, dev=0) -> list[int]:
        return self.lists.setdefault((net, pf, hooknum, dev), [])


def _c(k, name):
    return k.target.const(name)


def _head_member(k, pf, hooknum):
    """The ``net->nf`` array for (pf, hooknum): (member, size) or None (nf_hook_entry_head)."""
    arrays = {_c(k, "NFPROTO_IPV4"): ("net.nf.hooks_ipv4", _c(k, "NF_INET_NUMHOOKS")),
              _c(k, "NFPROTO_IPV6"): ("net.nf.hooks_ipv6", _c(k, "NF_INET_NUMHOOKS")),
              _c(k, "NFPROTO_ARP"): ("net.nf.hooks_arp", _c(k, "NF_ARP_NUMHOOKS")),
              _c(k, "NFPROTO_BRIDGE"): ("net.nf.hooks_bridge", _c(k, "NF_INET_NUMHOOKS"))}
    return arrays.get(pf)


# nf_hook_entry_head()'s WARN_ON_ONCE(ARRAY_SIZE(...) <= hooknum) per array (oracle: 6.1.0-56)
_ARRAY_WARN = {"net.nf.hooks_ipv4": ("net/netfilter/core.c:296", "nf_hook_entry_head+0x97/0x120"),
               "net.nf.hooks_ipv6": ("net/netfilter/core.c:300", "nf_hook_entry_head+0x7f/0x120"),
               "net.nf.hooks_arp": ("net/netfilter/core.c:275", "nf_hook_entry_head+0x108/0x120"),
               "net.nf.hooks_bridge": ("net/netfilter/core.c:281", "nf_hook_entry_head+0xb3/0x120")}


def _entry_head_ok(k, net, pf, hooknum, dev) -> bool:
    """nf_hook_entry_head() != NULL, with its WARN_ON_ONCEs."""
    arr = _head_member(k, pf, hooknum)
    if arr is not None:
        if hooknum >= arr[1]:
            warn_once(k, *_ARRAY_WARN[arr[0]])
            return False
        return True
    if pf == _c(k, "NFPROTO_INET"):
        if hooknum != _c(k, "NF_INET_INGRESS"):
            warn_once(k, "net/netfilter/core.c:287", "nf_hook_entry_head+0xff/0x120")
            return False
        if not dev:
            warn_once(k, "net/netfilter/core.c:290", "nf_hook_entry_head+0x111/0x120")
            return False
        return True
    if pf == _c(k, "NFPROTO_NETDEV"):
        if hooknum in (NF_NETDEV_INGRESS, NF_NETDEV_EGRESS) and dev:
            return True
    warn_once(k, *(("net/netfilter/core.c:320", "nf_hook_entry_head+0xce/0x120") if pf == _c(k, "NFPROTO_NETDEV")
                   else ("net/netfilter/core.c:304", "nf_hook_entry_head+0xd7/0x120")))
    return False


def build_entries(k, ops_list) -> int:
    """A new ``struct nf_hook_entries`` (count, {hook, priv} pairs, orig_ops) or 0 if empty."""
    n = len(ops_list)
    if not n:
        return 0
    t, m = k.target, k.machine
    esize = t.sizeof("nf_hook_entry")
    hooks_off = t.const("NF_HOOK_ENTRIES_HOOKS_OFFSET")
    new = k.heap.alloc(hooks_off + n * esize + n * 8 + 16, kind="nf_hook_entries", zero=True)
    m.write_u16(new + t.offset("nf_hook_entries.num_hook_entries"), n)
    for i, ops in enumerate(ops_list):
        e = new + hooks_off + i * esize
        wr(k, e, "nf_hook_entry.hook", rd(k, ops, "nf_hook_ops.hook"))
        wr(k, e, "nf_hook_entry.priv", rd(k, ops, "nf_hook_ops.priv"))
        m.write_u64(new + hooks_off + n * esize + 8 * i, ops)
    return new


def entries_ops(k, p) -> list[int]:
    """The orig_ops of a ``struct nf_hook_entries`` (nf_hook_entries_get_hook_ops())."""
    if not p:
        return []
    t, m = k.target, k.machine
    n = m.read_u16(p + t.offset("nf_hook_entries.num_hook_entries"))
    base = p + t.const("NF_HOOK_ENTRIES_HOOKS_OFFSET") + n * t.sizeof("nf_hook_entry")
    return [m.read_u64(base + 8 * i) for i in range(n)]


def free_entries(k, p) -> None:
    if p and k.heap.find(p) is not None:
        k.heap.free(p)


def _write_entries(k, net, pf, hooknum, ops_list):
    """Rebuild ``net->nf.hooks_<pf>[hooknum]`` (struct nf_hook_entries) from the list."""
    arr = _head_member(k, pf, hooknum)
    if arr is None or not net:
        return
    slot = net + k.target.offset(arr[0]) + 8 * hooknum
    old = k.machine.read_u64(slot)
    k.machine.write_u64(slot, build_entries(k, ops_list))
    free_entries(k, old)


@export("int nf_hook_entries_insert_raw(struct nf_hook_entries **pp, "
        "const struct nf_hook_ops *reg)")
def nf_hook_entries_insert_raw(k, pp, reg):
    """nf_hook_entries_grow() into a caller's own array (nf_nat's per-family hooks)."""
    old = k.machine.read_u64(pp)
    lst = entries_ops(k, old)
    if len(lst) + 1 > MAX_HOOK_COUNT:
        return -errno.E2BIG
    prio = rd_s32(k, reg, "nf_hook_ops.priority")
    i = 0
    while i < len(lst) and prio > rd_s32(k, lst[i], "nf_hook_ops.priority"):
        i += 1
    lst.insert(i, reg)
    k.machine.write_u64(pp, build_entries(k, lst))
    free_entries(k, old)
    return 0


@export("void nf_hook_entries_delete_raw(struct nf_hook_entries **pp, "
        "const struct nf_hook_ops *reg)")
def nf_hook_entries_delete_raw(k, pp, reg):
    """nf_remove_net_hook() + __nf_hook_entries_try_shrink(): NULL once the last one goes."""
    old = k.machine.read_u64(pp)
    lst = entries_ops(k, old)
    if reg not in lst:
        return
    lst.remove(reg)
    k.machine.write_u64(pp, build_entries(k, lst))
    free_entries(k, old)


@data("struct static_key nf_hooks_needed[13][5]",
      size=lambda t: t.sizeof("static_key") * t.const("NFPROTO_NUMPROTO") * t.const("NF_MAX_HOOKS"))
def nf_hooks_needed(k, addr):
    pass        # every key starts disabled (enabled == 0)


def _static_key(k, pf, hooknum, delta):
    if hooknum >= _c(k, "NF_MAX_HOOKS") or pf >= _c(k, "NFPROTO_NUMPROTO"):
        return
    key = k.export_addr("nf_hooks_needed") + \
        k.target.sizeof("static_key") * (pf * _c(k, "NF_MAX_HOOKS") + hooknum)
    enabled = key + k.target.offset("static_key.enabled")
    k.machine.write_u32(enabled, max(0, k.machine.read_u32(enabled) + delta))


def _owner(k, reg):
    mod = k.module_containing(rd(k, reg, "nf_hook_ops.hook"))
    return mod if mod is not None else k.current_module()


def _hook_text(k, reg, pf):
    return (f"netfilter hook {sym(k, rd(k, reg, 'nf_hook_ops.hook'))} (pf {pf}, hook "
            f"{rd(k, reg, 'nf_hook_ops.hooknum', 4)}, priority {rd_s32(k, reg, 'nf_hook_ops.priority')})")


def register_one(k, net, pf, reg) -> int:
    """__nf_register_net_hook()."""
    nf = k.model(Netfilter)
    hooknum = rd(k, reg, "nf_hook_ops.hooknum", 4)
    dev = rd(k, reg, "nf_hook_ops.dev")
    if pf == _c(k, "NFPROTO_NETDEV") or (pf == _c(k, "NFPROTO_INET")
                                         and hooknum == _c(k, "NF_INET_INGRESS")):
        if (pf == _c(k, "NFPROTO_INET") or hooknum == NF_NETDEV_INGRESS) and not dev:
            return -errno.EINVAL
    if not _entry_head_ok(k, net, pf, hooknum, dev):
        return -errno.EINVAL
    lst = nf.ops_list(net, pf, hooknum, dev if _head_member(k, pf, hooknum) is None else 0)
    if len(lst) >= MAX_HOOK_COUNT:
        return -errno.E2BIG
    prio = rd_s32(k, reg, "nf_hook_ops.priority")
    i = 0
    while i < len(lst) and prio > rd_s32(k, lst[i], "nf_hook_ops.priority"):
        i += 1
    lst.insert(i, reg)
    _write_entries(k, net, pf, hooknum, lst)
    _static_key(k, pf, hooknum, +1)
    k.register("netfilter hook", (net, pf, hooknum, reg), _owner(k, reg), _hook_text(k, reg, pf))
    return 0


def unregister_one(k, net, pf, reg) -> None:
    """__nf_unregister_net_hook()."""
    nf = k.model(Netfilter)
    hooknum = rd(k, reg, "nf_hook_ops.hooknum", 4)
    dev = rd(k, reg, "nf_hook_ops.dev")
    if not _entry_head_ok(k, net, pf, hooknum, dev):
        return
    lst = nf.ops_list(net, pf, hooknum, dev if _head_member(k, pf, hooknum) is None else 0)
    if not lst:
        warn_once(k, "net/netfilter/core.c:489", "__nf_unregister_net_hook+0x163/0x1a0")
        return
    if reg in lst:
        lst.remove(reg)
        _static_key(k, pf, hooknum, -1)
        _write_entries(k, net, pf, hooknum, lst)
        k.unregister("netfilter hook", (net, pf, hooknum, reg))
    else:
        warn_once(k, "net/netfilter/core.c:505", "__nf_unregister_net_hook+0x90/0x1a0",
                  f"hook not found, pf {pf} num {hooknum}")


def _both(k, reg):
    """The families a hook goes to: INET (not ingress) means IPv4 and IPv6."""
    pf = rd(k, reg, "nf_hook_ops.pf", 1)
    if pf == _c(k, "NFPROTO_INET") and rd(k, reg, "nf_hook_ops.hooknum", 4) != \
            _c(k, "NF_INET_INGRESS"):
        return [_c(k, "NFPROTO_IPV4"), _c(k, "NFPROTO_IPV6")]
    return [pf]


def register_hook(k, net, reg) -> int:
    """nf_register_net_hook()."""
    pfs = _both(k, reg)
    for i, pf in enumerate(pfs):
        err = register_one(k, net, pf, reg)
        if err < 0:
            for done in pfs[:i]:
                unregister_one(k, net, done, reg)
            return err
    return 0


def unregister_hook(k, net, reg) -> None:
    """nf_unregister_net_hook()."""
    for pf in _both(k, reg):
        unregister_one(k, net, pf, reg)


@export("int nf_register_net_hook(struct net *net, const struct nf_hook_ops *ops)", fails="-ENOMEM")
def nf_register_net_hook(k, net, ops):
    return register_hook(k, net, ops)


@export("void nf_unregister_net_hook(struct net *net, const struct nf_hook_ops *ops)")
def nf_unregister_net_hook(k, net, ops):
    unregister_hook(k, net, ops)


@export("int nf_register_net_hooks(struct net *net, const struct nf_hook_ops *reg, unsigned int n)", fails="-ENOMEM")
def nf_register_net_hooks(k, net, reg, n):
    size = k.target.sizeof("nf_hook_ops")
    for i in range(n):
        err = register_hook(k, net, reg + i * size)
        if err:
            if i > 0:
                nf_unregister_net_hooks(k, net, reg, i)
            return err
    return 0


@export("void nf_unregister_net_hooks(struct net *net, const struct nf_hook_ops *reg, "
        "unsigned int hookcount)")
def nf_unregister_net_hooks(k, net, reg, hookcount):
    size = k.target.sizeof("nf_hook_ops")
    while hookcount > 0:
        hookcount -= 1
        unregister_hook(k, net, reg + hookcount * size)


# Before 4.13 hooks were registered in every namespace (nf_register_hook); kept for
# modules built for older targets.
@export("int nf_register_hook(struct nf_hook_ops *reg)")
def nf_register_hook(k, reg):
    return register_hook(k, k.export_addr("init_net"), reg)


@export("void nf_unregister_hook(struct nf_hook_ops *reg)")
def nf_unregister_hook(k, reg):
    unregister_hook(k, k.export_addr("init_net"), reg)


@export("int nf_register_hooks(struct nf_hook_ops *reg, unsigned int n)")
def nf_register_hooks(k, reg, n):
    return nf_register_net_hooks(k, k.export_addr("init_net"), reg, n)


@export("void nf_unregister_hooks(struct nf_hook_ops *reg, unsigned int n)")
def nf_unregister_hooks(k, reg, n):
    nf_unregister_net_hooks(k, k.export_addr("init_net"), reg, n)


# ------------------------------------------------------------ traversal
def _drop_geterr(verdict: int) -> int:
    return -((verdict & 0xFFFFFFFF) >> 16)


def hook_slow(k, skb, state, entries, s):
    """nf_hook_slow(): run entries from index ``s``; 1 to continue, else the result."""
    t, m = k.target, k.machine
    n = m.read_u16(entries + t.offset("nf_hook_entries.num_hook_entries"))
    esize = t.sizeof("nf_hook_entry")
    hooks = entries + t.const("NF_HOOK_ENTRIES_HOOKS_OFFSET")
    while s < n:
        e = hooks + s * esize
        verdict = (yield k.call_request(rd(k, e, "nf_hook_entry.hook"),
                                        rd(k, e, "nf_hook_entry.priv"), skb, state)) & 0xFFFFFFFF
        action = verdict & _c(k, "NF_VERDICT_MASK")
        if action == _c(k, "NF_ACCEPT"):
            s += 1
            continue
        if action == _c(k, "NF_DROP"):
            try:
                free = k.export_addr("kfree_skb_reason")
                yield k.call_request(free, skb, 0)
            except KeyError:
                pass
            ret = _drop_geterr(verdict)
            return ret if ret else -errno.EPERM
        if action == _c(k, "NF_QUEUE"):
            k.finding("netfilter", "NF_QUEUE verdict: kemu has no nf_queue handler; "
                                   "the packet is dropped", k.current_module())
            return -errno.ESRCH
        return 0                          # NF_STOLEN and anything else
    return 1


@export("int nf_hook_slow(struct sk_buff *skb, struct nf_hook_state *state, "
        "const struct nf_hook_entries *e, unsigned int s)")
def nf_hook_slow(k, skb, state, e, s):
    return (yield from hook_slow(k, skb, state, e, s))


# ------------------------------------------------------------ sockopts
def _overlap(a1, b1, a2, b2):
    return b1 > a2 and a1 < b2


@export("int nf_register_sockopt(struct nf_sockopt_ops *reg)", fails="-EBUSY")
def nf_register_sockopt(k, reg):
    nf = k.model(Netfilter)

    def r(member):
        return rd_s32(k, reg, f"nf_sockopt_ops.{member}")

    pf = rd(k, reg, "nf_sockopt_ops.pf", 1)
    for ops in nf.sockopts:
        def o(member):
            return rd_s32(k, ops, f"nf_sockopt_ops.{member}")
        if rd(k, ops, "nf_sockopt_ops.pf", 1) == pf and (
                _overlap(o("set_optmin"), o("set_optmax"), r("set_optmin"), r("set_optmax"))
                or _overlap(o("get_optmin"), o("get_optmax"), r("get_optmin"), r("get_optmax"))):
            return -errno.EBUSY
    nf.sockopts.insert(0, reg)
    from kemu.abi.toolkit import owner_of
    k.register("nf sockopt", reg, owner_of(k, rd(k, reg, "nf_sockopt_ops.owner")),
               f"netfilter sockopt {r('set_optmin')}-{r('set_optmax')} (pf {pf})")
    return 0


@export("void nf_unregister_sockopt(struct nf_sockopt_ops *reg)")
def nf_unregister_sockopt(k, reg):
    nf = k.model(Netfilter)
    if reg in nf.sockopts:
        nf.sockopts.remove(reg)
    k.unregister("nf sockopt", reg)


# ------------------------------------------------------------ Python API
def nf_hooks(k, pf: int, hooknum: int, net: int | None = None, dev: int = 0) -> list[Hook]:
    """The hooks of (pf, hooknum) in traversal order (ascending priority)."""
    if net is None:
        net = k.export_addr("init_net")
    out = []
    for ops in k.model(Netfilter).lists.get((net, pf, hooknum, dev), []):
        owner = _owner_name(k, ops)
        out.append(Hook(rd_s32(k, ops, "nf_hook_ops.priority"), rd(k, ops, "nf_hook_ops.hook"),
                        rd(k, ops, "nf_hook_ops.priv"), ops, owner))
    return out


def _owner_name(k, ops):
    mod = k.module_containing(rd(k, ops, "nf_hook_ops.hook"))
    return mod.name if mod else None


def nf_hook_entries(k, pf: int, hooknum: int, net: int | None = None) -> int:
    """The address of ``net->nf.hooks_<pf>[hooknum]`` (0 when no hook is registered)."""
    if net is None:
        net = k.export_addr("init_net")
    arr = _head_member(k, pf, hooknum)
    if arr is None:
        return 0
    return k.machine.read_u64(net + k.target.offset(arr[0]) + 8 * hooknum)


def nf_hook_run(k, pf: int, hooknum: int, skb: int, state: int, net: int | None = None) -> int:
    """Run the hooks of (pf, hooknum) on ``skb`` as nf_hook() does; 1 means accepted."""
    entries = nf_hook_entries(k, pf, hooknum, net)
    if not entries:
        return 1
    return s32(k.call(k.export_addr("nf_hook_slow"), skb, state, entries, 0,
                      entry=f"nf_hook pf {pf} hook {hooknum}"))
