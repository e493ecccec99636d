"""kernel/cred.c: task credentials (struct cred), copy-on-write as in the kernel.

Every kemu task starts with ``init_cred``: root, all capabilities
(CAP_FULL_SET), the initial user namespace and ``init_groups`` (no
supplementary groups). The credentials are installed in ``task_struct.cred``
and ``real_cred`` of the running tasks before any module code runs, so the
inline current_cred()/current_fsuid() read them. ``prepare_creds`` copies the
current ones with a usage count of 1 (a module that never commits, aborts or
puts them leaks a ``cred`` object), ``commit_creds`` installs them,
``override_creds``/``revert_creds`` swap the subjective ones, and the last
``put_cred`` frees them through ``__put_cred`` (at once: kemu's readers are
done by then, the kernel waits for an RCU grace period).
"""
from __future__ import annotations

from kemu import export
from kemu.abi.exports import members, module_notifier

from kemu.abi.toolkit import rd, wr
from ..mm.slab import kfree_addr, kmalloc
from .sched.core import sched

# the namespace's refcount: ns.count since 5.11, the outer struct's before
members("struct user_namespace", "ns", "ns.count|count")
members("struct task_struct", "real_cred", "cred", "comm", "prio", "mm", "active_mm",
        "stack_canary", "real_parent", "parent", "files", "thread", "signal", "pending",
        "blocked", "jobctl")
members("struct cred", "usage", "user_ns", "group_info", "non_rcu", "uid", "gid", "suid",
        "sgid", "euid", "securebits", "cap_inheritable", "cap_permitted", "cap_ambient",
        "user", "ucounts", "rcu")
members("struct group_info", "usage", "ngroups")

CAP_FULL_SET = (0x1FF << 32) | 0xFFFFFFFF   # {~0, CAP_LAST_U32_VALID_MASK}, CAP_LAST_CAP 40
INIT_CRED_USAGE = 4                        # init_cred's ATOMIC_INIT(4)
INIT_GROUPS_USAGE = 2                      # init_groups' ATOMIC_INIT(2)


class Creds:
    """init_cred and init_groups (kernel/cred.c, kernel/groups.c)."""

    def __init__(self, k):
        t, m = k.target, k.machine
        self.groups = m.alloc_kdata(t.sizeof("group_info"), 8)
        wr(k, self.groups, "group_info.usage", INIT_GROUPS_USAGE, 4)
        self.init_cred = m.alloc_kdata(t.sizeof("cred"), 8)
        c = self.init_cred
        wr(k, c, "cred.usage", INIT_CRED_USAGE)
        for cap in ("cap_permitted", "cap_effective", "cap_bset"):
            wr(k, c, f"cred.{cap}", CAP_FULL_SET)
        wr(k, c, "cred.user_ns", k.export_addr("init_user_ns"))
        wr(k, c, "cred.group_info", self.groups)


def init_cred(k) -> int:
    """The address of init_cred."""
    return k.model(Creds).init_cred


def install_init_cred(k) -> None:
    """Give every task without credentials init_cred (as objective and subjective ones)."""
    c = init_cred(k)
    for task in sched(k).tasks:
        for member in ("real_cred", "cred"):
            if not rd(k, task.ts, f"task_struct.{member}"):
                wr(k, task.ts, f"task_struct.{member}", c)
                _add(k, c, "cred.usage", 1)


@module_notifier
def _creds_before_module_code(k, mod) -> None:
    install_init_cred(k)


def _add(k, obj: int, member: str, delta: int, size: int = 8) -> int:
    bits = 8 * size
    v = (rd(k, obj, member, size) + delta) & ((1 << bits) - 1)
    wr(k, obj, member, v, size)
    return v - (1 << bits) if v >> (bits - 1) else v


def get_cred(k, cred: int) -> int:
    _add(k, cred, "cred.usage", 1)
    return cred


def put_cred(k, cred: int) -> None:
    """put_cred(): the last reference frees the credentials."""
    if cred and _add(k, cred, "cred.usage", -1) == 0:
        __put_cred(k, cred)


def _current(k) -> int:
    install_init_cred(k)
    return sched(k).current().ts


def _copy(k, old: int) -> int:
    """The common part of prepare_creds()/prepare_kernel_cred()."""
    size = k.target.sizeof("cred")
    new = kmalloc(k, size, k.target.const("GFP_KERNEL"), kind="cred")
    if not new:
        return 0
    k.machine.write(new, k.machine.read(old, size))
    wr(k, new, "cred.non_rcu", 0, 4)
    wr(k, new, "cred.usage", 1)
    groups = rd(k, new, "cred.group_info")
    if groups:
        _add(k, groups, "group_info.usage", 1, 4)
    ns = rd(k, new, "cred.user_ns")
    if ns:
        _add(k, ns, "user_namespace.ns.count", 1, 4)
    return new


@export("struct cred *prepare_creds(void)")
def prepare_creds(k):
    """A copy of the current task's objective credentials, for it to modify."""
    return _copy(k, rd(k, _current(k), "task_struct.cred"))


@export("struct cred *prepare_kernel_cred(struct task_struct *daemon)")
def prepare_kernel_cred(k, daemon):
    """Credentials for a kernel service: a copy of ``daemon``'s, or of init_cred."""
    install_init_cred(k)
    old = get_cred(k, rd(k, daemon, "task_struct.cred") if daemon else init_cred(k))
    new = _copy(k, old)
    put_cred(k, old)
    return new


@export("int commit_creds(struct cred *new)")
def commit_creds(k, new):
    """Install ``new`` as the current task's credentials; drops the old ones."""
    ts = _current(k)
    old = rd(k, ts, "task_struct.real_cred")
    ids = [(f, k.machine.read_u32(c + k.target.offset(f"cred.{f}"))) for c in (old, new)
           for f in ("uid", "euid")]
    comm = k.machine.read_cstr(ts + k.target.offset("task_struct.comm"), 16).decode("latin-1")
    k.behaviour.record("creds", f"commit_creds(): {comm}'s credentials replaced: uid "
                    f"{ids[0][1]} -> {ids[2][1]}, euid {ids[1][1]} -> {ids[3][1]}",
                    site=k.machine.read_u64(k.machine.reg("rsp")), task=comm,
                    uid=ids[2][1], euid=ids[3][1])
    get_cred(k, new)
    wr(k, ts, "task_struct.real_cred", new)
    wr(k, ts, "task_struct.cred", new)
    put_cred(k, old)
    put_cred(k, old)
    return 0


@export("void abort_creds(struct cred *new)")
def abort_creds(k, new):
    put_cred(k, new)


@export("const struct cred *override_creds(const struct cred *new)")
def override_creds(k, new):
    """Act with ``new`` as the subjective credentials; returns the previous ones."""
    ts = _current(k)
    old = rd(k, ts, "task_struct.cred")
    get_cred(k, new)
    wr(k, ts, "task_struct.cred", new)
    return old


@export("void revert_creds(const struct cred *old)")
def revert_creds(k, old):
    ts = _current(k)
    override = rd(k, ts, "task_struct.cred")
    wr(k, ts, "task_struct.cred", old)
    put_cred(k, override)


@export("const struct cred *get_task_cred(struct task_struct *task)")
def get_task_cred(k, task):
    install_init_cred(k)
    return get_cred(k, rd(k, task, "task_struct.cred"))


@export("void __put_cred(struct cred *cred)")
def __put_cred(k, cred):
    """Free credentials whose usage reached 0 (put_cred_rcu)."""
    groups = rd(k, cred, "cred.group_info")
    if groups and _add(k, groups, "group_info.usage", -1, 4) == 0:
        kfree_addr(k, groups, "groups_free")
    ns = rd(k, cred, "cred.user_ns")
    if ns:
        _add(k, ns, "user_namespace.ns.count", -1, 4)
    kfree_addr(k, cred, "kmem_cache_free")
