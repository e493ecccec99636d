"""net/netlink/genetlink.c: generic netlink families.

``genl_register_family`` validates the family's operations as 6.1 does
(every op needs doit or dumpit, a command appears once, ops/small_ops
arrays present when counted, else -EINVAL), refuses a name already
registered (-EEXIST), allocates the family id cyclically from
GENL_START_ALLOC to GENL_MAX_ID (GENL_ID_CTRL for "nlctrl"... the reserved
ids for their names) and assigns its multicast groups consecutive ids; the
family is a registration owned by its module until ``genl_unregister_family``
(-ENOENT for one not registered). No generic netlink socket is open in kemu,
so the CTRL_CMD_NEWFAMILY/DELFAMILY notifications reach no listener.
Only the families modules register are known (not vmlinux's own, whose ids
kemu does not model). ``genlmsg_put`` writes the netlink and genetlink
headers into an skb as the kernel does.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import members

from kemu.abi.toolkit import cstr, owner_of, rd, wr

members("struct genl_family", "id", "hdrsize", "name", "version", "mcgrp_offset", "ops",
        "small_ops", "mcgrps", "module", "maxattr", "n_ops", "n_small_ops", "n_mcgrps",
        "resv_start_op", "policy")
members("struct genl_ops", "doit", "dumpit", "cmd", "validate", "start", "done", "policy",
        "maxattr", "internal_flags", "flags")
members("struct genl_small_ops", "doit", "dumpit", "cmd", "validate", "internal_flags",
        "flags")
members("struct genlmsghdr", "cmd", "version", "reserved")
members("struct genl_multicast_group", "name", "flags")

RESERVED = {"nlctrl": "GENL_ID_CTRL", "VFS_DQUOT": 0x11, "pmcraid": 0x12}   # fixed ids


class Genl:
    """Registered families: id -> genl_family address; the next cyclic id; mcast groups."""

    def __init__(self, k):
        self.families: dict[int, int] = {}
        self.next_id = k.target.const("GENL_START_ALLOC")
        self.next_group = 2                   # 0 unused, 1 is nlctrl's "notify"
        self.groups: dict[int, tuple[int, int]] = {}       # family -> (first group, count)


def _u8(k, fam, member):
    return rd(k, fam, f"genl_family.{member}", 1)


def _ops(k, fam):
    """genl_get_cmd_by_index() over ops then small_ops: [(cmd, doit, dumpit, validate)]."""
    out = []
    size = k.target.sizeof("genl_ops")
    base = rd(k, fam, "genl_family.ops")
    for i in range(_u8(k, fam, "n_ops")):
        op = base + i * size
        out.append((rd(k, op, "genl_ops.cmd", 1), rd(k, op, "genl_ops.doit"),
                    rd(k, op, "genl_ops.dumpit"), rd(k, op, "genl_ops.validate", 1)))
    size = k.target.sizeof("genl_small_ops")
    base = rd(k, fam, "genl_family.small_ops")
    for i in range(_u8(k, fam, "n_small_ops")):
        op = base + i * size
        out.append((rd(k, op, "genl_small_ops.cmd", 1), rd(k, op, "genl_small_ops.doit"),
                    rd(k, op, "genl_small_ops.dumpit"), rd(k, op, "genl_small_ops.validate", 1)))
    return out


def _validate_ops(k, fam) -> int:
    """genl_validate_ops()."""
    from ...lib.kemu_warn import warn
    if (_u8(k, fam, "n_ops") and not rd(k, fam, "genl_family.ops")) or \
            (_u8(k, fam, "n_small_ops") and not rd(k, fam, "genl_family.small_ops")):
        line = 373 if _u8(k, fam, "n_ops") and not rd(k, fam, "genl_family.ops") else 374
        warn(k, f"net/netlink/genetlink.c:{line}", "genl_validate_ops")
        return -errno.EINVAL
    ops = _ops(k, fam)
    resv = _u8(k, fam, "resv_start_op")
    seen = set()
    for cmd, doit, dumpit, validate in ops:
        if not doit and not dumpit:
            return -errno.EINVAL
        if cmd >= resv and validate:
            warn(k, "net/netlink/genetlink.c:383", "genl_validate_ops")
            return -errno.EINVAL
        if cmd in seen:
            return -errno.EINVAL
        seen.add(cmd)
    return 0


def _name(k, fam) -> str:
    return cstr(k, fam + k.target.offset("genl_family.name"), k.target.const("GENL_NAMSIZ"))


def find_family(k, name: str) -> int:
    """genl_family_find_byname(): the registered family's address, or 0."""
    for fam in k.model(Genl).families.values():
        if _name(k, fam) == name:
            return fam
    return 0


@export("int genl_register_family(struct genl_family *family)", fails="-ENOMEM")
def genl_register_family(k, family):
    g = k.model(Genl)
    err = _validate_ops(k, family)
    if err:
        return err
    name = _name(k, family)
    if find_family(k, name):
        return -errno.EEXIST
    fixed = RESERVED.get(name)
    if fixed is not None:
        start = end = k.target.const(fixed) if isinstance(fixed, str) else fixed
    else:
        start, end = k.target.const("GENL_START_ALLOC"), k.target.const("GENL_MAX_ID")
    fid = None
    candidates = list(range(max(g.next_id, start), end + 1)) + list(range(start, g.next_id))
    for cand in candidates if fixed is None else [start]:      # idr_alloc_cyclic()
        if cand not in g.families:
            fid = cand
            break
    if fid is None:
        return -errno.ENOSPC
    if fixed is None:
        g.next_id = fid + 1
    n_grps = _u8(k, family, "n_mcgrps")
    if n_grps:                                   # genl_validate_assign_mc_groups()
        size = k.target.sizeof("genl_multicast_group")
        base = rd(k, family, "genl_family.mcgrps")
        for i in range(n_grps):
            if not cstr(k, base + i * size, k.target.const("GENL_NAMSIZ")):
                return -errno.EINVAL
        first = g.next_group
        g.next_group += n_grps
        g.groups[family] = (first, n_grps)
        wr(k, family, "genl_family.mcgrp_offset", first, 4)
    g.families[fid] = family
    wr(k, family, "genl_family.id", fid, 4)
    k.register("genl family", family, owner_of(k, rd(k, family, "genl_family.module")),
               f"generic netlink family {name} (id {fid})")
    return 0


@export("int genl_unregister_family(const struct genl_family *family)")
def genl_unregister_family(k, family):
    g = k.model(Genl)
    fid = rd(k, family, "genl_family.id", 4)
    if g.families.get(fid) != family:
        return -errno.ENOENT
    del g.families[fid]
    g.groups.pop(family, None)
    k.unregister("genl family", family)
    return 0


@export("void *genlmsg_put(struct sk_buff *skb, u32 portid, u32 seq, "
        "const struct genl_family *family, int flags, u8 cmd)")
def genlmsg_put(k, skb, portid, seq, family, flags, cmd):
    from ..core.skbuff import _u32
    from .af_netlink import __nlmsg_put, _nlmsg_align
    t = k.target
    hdrlen = t.const("GENL_HDRLEN")
    payload = hdrlen + rd(k, family, "genl_family.hdrsize", 4)
    total = _nlmsg_align(k, t.const("NLMSG_HDRLEN") + payload)       # nlmsg_total_size()
    tailroom = 0 if _u32(k, skb, "data_len") else _u32(k, skb, "end") - _u32(k, skb, "tail")
    if tailroom < total:
        return 0
    nlh = __nlmsg_put(k, skb, portid, seq, rd(k, family, "genl_family.id", 4), payload, flags)
    hdr = nlh + t.const("NLMSG_HDRLEN")
    wr(k, hdr, "genlmsghdr.cmd", cmd, 1)
    wr(k, hdr, "genlmsghdr.version", rd(k, family, "genl_family.version", 4) & 0xFF, 1)
    wr(k, hdr, "genlmsghdr.reserved", 0, 2)
    return hdr + hdrlen
