"""kernel/notifier.c, kernel/reboot.c, kernel/panic.c: notifier chains.

The generic chains (atomic, blocking, raw) live in the module's or the
kernel's memory as Linux lays them out: the head's ``head`` pointer and each
``notifier_block``'s ``next``, ordered by descending priority. Registering
and calling go through :mod:`kemu.stubs.kernel.notifier_chain`; each block on a
chain is recorded as a registration of the module that added it, so a
module that leaves one behind is reported at unload.

The kernel's own chains are data here: ``panic_notifier_list`` (atomic; kemu
never panics, so it is never called), the reboot notifier and restart
handler chains (kemu never reboots). ``emergency_restart()`` is unreachable.
"""
from __future__ import annotations

from kemu import data, export
from kemu.abi.exports import members, unreachable

from .notifier_chain import Chain

members("struct notifier_block", "notifier_call")
members("struct atomic_notifier_head", "lock", "head")
members("struct blocking_notifier_head", "rwsem", "head")
members("struct raw_notifier_head", "head")


class HeadChain(Chain):
    """A chain whose head pointer is the ``head`` member of a notifier head struct."""

    WARN_FUNCS = {"atomic_notifier_head": "atomic_notifier_chain_register+0x52/0x80",
                  "raw_notifier_head": "raw_notifier_chain_register+0x3b/0x60"}

    def __init__(self, k, head_struct: int, kind: str, name: str):
        self.name, self.kind = name, kind
        self.head = head_struct + k.target.offset(f"{kind}.head")
        self.warn_func = self.WARN_FUNCS.get(kind, Chain.warn_func)


_NAMES = {"atomic_notifier_head": "atomic chain", "blocking_notifier_head": "blocking chain",
          "raw_notifier_head": "raw chain"}


def _chain(k, nh, kind, name: str = ""):
    return HeadChain(k, nh, kind, name or _NAMES[kind])


def call_chain(k, chain: Chain, val: int, v: int, nr_to_call: int = -1):
    """notifier_call_chain(): each callback until one says stop (a generator);
    returns the last callback's result, NOTIFY_DONE if there was none."""
    c = k.target.const
    ret = c("NOTIFY_DONE")
    for nb in chain.blocks(k):
        if nr_to_call == 0:
            break
        fn = k.machine.read_u64(nb + k.target.offset("notifier_block.notifier_call"))
        ret = (yield k.call_request(fn, nb, val, v)) & 0xFFFFFFFF
        nr_to_call -= 1
        if ret & c("NOTIFY_STOP_MASK"):
            break
    return ret - (1 << 32) if ret >> 31 else ret


def _family(kind: str):
    struct = f"struct {kind}"
    prefix = kind.replace("_notifier_head", "")

    def register(k, nh, n):
        return _chain(k, nh, kind).register(k, n)

    def unregister(k, nh, n):
        return _chain(k, nh, kind).unregister(k, n)

    def call(k, nh, val, v):
        return (yield from call_chain(k, _chain(k, nh, kind), val, v))

    for fn, proto in (
            (register, f"int {prefix}_notifier_chain_register({struct} *nh, "
                       "struct notifier_block *n)"),
            (unregister, f"int {prefix}_notifier_chain_unregister({struct} *nh, "
                         "struct notifier_block *n)"),
            (call, f"int {prefix}_notifier_call_chain({struct} *nh, unsigned long val, "
                   "void *v)")):
        fn.__name__ = proto.split("(")[0].split()[-1]
        fn.__qualname__ = fn.__name__
        export(proto)(fn)


for _kind in ("atomic_notifier_head", "blocking_notifier_head", "raw_notifier_head"):
    _family(_kind)


@data("struct atomic_notifier_head panic_notifier_list")
def panic_notifier_list(k, addr):
    pass                                   # empty: head NULL, lock unlocked


class KernelChains:
    """The kernel's own chains, as kernel data."""

    def __init__(self, k):
        self.reboot = k.machine.alloc_kdata(k.target.sizeof("blocking_notifier_head"), 8)
        self.restart = k.machine.alloc_kdata(k.target.sizeof("atomic_notifier_head"), 8)


@export("int register_reboot_notifier(struct notifier_block *nb)")
def register_reboot_notifier(k, nb):
    return _chain(k, k.model(KernelChains).reboot, "blocking_notifier_head",
                  "reboot").register(k, nb)


@export("int unregister_reboot_notifier(struct notifier_block *nb)")
def unregister_reboot_notifier(k, nb):
    return _chain(k, k.model(KernelChains).reboot, "blocking_notifier_head",
                  "reboot").unregister(k, nb)


@export("int register_restart_handler(struct notifier_block *nb)")
def register_restart_handler(k, nb):
    return _chain(k, k.model(KernelChains).restart, "atomic_notifier_head",
                  "restart handler").register(k, nb)


@export("int unregister_restart_handler(struct notifier_block *nb)")
def unregister_restart_handler(k, nb):
    return _chain(k, k.model(KernelChains).restart, "atomic_notifier_head",
                  "restart handler").unregister(k, nb)


@data("int oops_in_progress")
def oops_in_progress(k, addr):
    pass


unreachable("void emergency_restart(void)", None, "kemu never restarts the machine")
