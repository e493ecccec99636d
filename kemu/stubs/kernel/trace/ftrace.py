"""kernel/trace/ftrace.c: function tracing callbacks (struct ftrace_ops), the
hooking technique of the rootkit tutorials' "ftrace_helper.h".

A vmlinux function kemu gives a module (a model's slot or a not-modelled one,
stubs/kernel/kallsyms.py) is traceable, its fentry site its first byte, as on
Debian's 6.1 (no IBT): ``ftrace_location()`` maps the 5 bytes of the site to
it, anything else (a module's function, sym+5) is -EINVAL. ``ftrace_set_filter``
takes a function name or a glob of vmlinux names. Registered ops run, newest
first (ftrace_ops_list), each time the function runs: when a process makes
that system call (``k.syscall``, stubs/arch/x86/entry/common.py) and when
module code calls the function's address. The callback gets ``(ip, parent_ip,
ops, fregs)``; ``fregs`` is a pt_regs whose ``cs`` is __KERNEL_CS only when an
ops on that function asked for FTRACE_OPS_FL_SAVE_REGS (the site then calls
ftrace_regs_caller for every ops there), so ``ftrace_get_regs()`` is NULL
otherwise. ``regs->ip`` starts past the site; an ops that moves it sends the
call there (FTRACE_OPS_FL_IPMODIFY, one per function: a second is -EBUSY).
Once an ops is enabled on a function, its slot is *patched*: the site runs
the ops, and ``address + MCOUNT_INSN_SIZE`` holds a jump to the function's
body (kemu's model without the site), which is what a hook calls as the
original.

Left out: calls between kemu's own models (a Python model calling another,
say vfs_read() from read(), does not pass through the callee's site, so ops
on such inner functions run only when module code calls them), glob
modifiers (``mod:``, ``!``), ops on every function (an empty
filter: the callbacks never run), function tracing of module code, pid
filtering, ftrace_ops_list_func's recursion protection, direct calls
(register_ftrace_direct), the WARN of registering an enabled ops twice
(-EBUSY all the same) and the trampolines (only the flag is set).
"""
from __future__ import annotations

import errno
import fnmatch
import types

from kemu import export
from kemu.abi.exports import ExportDef, SlotBinding, members
from kemu.abi.toolkit import kfree, kzalloc, rd, wr
from kemu.machine.emulator import SLOT_SIZE, SLOTS_ADDR

from ..kallsyms import TEXT_TYPES, VmlinuxSymbols, vmlinux_addr

members("struct ftrace_ops", "func", "flags", "saved_func")
members("struct pt_regs", "di", "si", "dx", "cx", "r8", "r9", "ip", "cs", "sp", "flags")

# include/linux/ftrace.h
FL_ENABLED = 1 << 0
FL_DYNAMIC = 1 << 1
FL_SAVE_REGS = 1 << 2
FL_SAVE_REGS_IF_SUPPORTED = 1 << 3
FL_INITIALIZED = 1 << 6
FL_DELETED = 1 << 7
FL_ADDING = 1 << 8
FL_ALLOC_TRAMP = 1 << 11
FL_IPMODIFY = 1 << 12
FL_PERMANENT = 1 << 16
MCOUNT_INSN_SIZE = 5                   # arch/x86/include/asm/ftrace.h: call __fentry__
KERNEL_CS = 0x10                       # arch/x86/include/asm/segment.h: GDT_ENTRY_KERNEL_CS * 8
ARG_REGS = ("di", "si", "dx", "cx", "r8", "r9")     # the C calling convention's registers


KERNEL_OPS: list = []       # the kernel's own ops (kprobes on ftrace): fn(k, site, parent, regs)


def ftrace_kernel_ops(fn):
    """Decorator: a generator the kernel runs at every patched site before the modules'
    ops, as kprobes on ftrace do (kernel/kprobes.py's kprobe_ftrace_handler)."""
    KERNEL_OPS.append(fn)
    return fn


class Ftrace:
    """ftrace_ops_list and the ops' filter hashes (fentry sites)."""

    def __init__(self, k):
        self.k = k
        self.ops: list[int] = []              # enabled ops, newest first
        self.filters: dict[int, set[int]] = {}
        self.notrace: dict[int, set[int]] = {}
        self.patched: dict[int, object] = {}  # site -> the slot's own binding
        self.redirects: set = set()           # (site, hook) pairs seen, for the report


def ftrace_location(k, ip: int) -> int:
    """The fentry site ``ip`` falls in (sym+0 .. sym+4 of a vmlinux function), else 0."""
    m = k.machine
    site = ip - (ip - SLOTS_ADDR) % SLOT_SIZE
    if not SLOTS_ADDR <= ip < SLOTS_ADDR + len(m.slot_fns) * SLOT_SIZE or \
            ip - site >= MCOUNT_INSN_SIZE:
        return 0
    name = m.slot_name(site)
    if name is None or name.startswith("__kemu"):
        return 0
    binding = m.slot_fns[(site - SLOTS_ADDR) // SLOT_SIZE]
    defn = getattr(binding, "defn", None)
    if site in k.model(Ftrace).patched or (defn is not None and defn.kind == "func" and
                                            k.symbols.exports.get(name) is not None):
        return site
    return site if k.model(VmlinuxSymbols).stubs.get(name) == site else 0


def ops_on(k, site: int) -> list[int]:
    """The enabled ops tracing ``site``, in ftrace_ops_list's order."""
    ft = k.model(Ftrace)
    return [ops for ops in ft.ops
            if site in ft.filters.get(ops, ()) and site not in ft.notrace.get(ops, ())]


def _flags(k, ops) -> int:
    return rd(k, ops, "ftrace_ops.flags")


def _set_flags(k, ops, flags: int) -> None:
    wr(k, ops, "ftrace_ops.flags", flags)


def _ops_init(k, ops) -> None:
    """ftrace_ops_init()."""
    _set_flags(k, ops, _flags(k, ops) | FL_INITIALIZED)


def _names(k, sites) -> str:
    return ", ".join(sorted(k.machine.slot_name(s) or f"{s:#x}" for s in sites))


# ------------------------------------------------------- patching the sites
def patch_site(k, site: int) -> None:
    """ftrace_replace_code(): the site now runs the ops; site + 5 jumps to the body."""
    ft, m = k.model(Ftrace), k.machine
    if site in ft.patched:
        return
    idx = (site - SLOTS_ADDR) // SLOT_SIZE
    own = m.slot_fns[idx]
    ft.patched[site] = own
    body = m.add_slot(m.slot_names[idx], own)
    rel = (body - (site + MCOUNT_INSN_SIZE + 5)) & 0xFFFFFFFF
    m.uc.mem_write(site + MCOUNT_INSN_SIZE, b"\xe9" + rel.to_bytes(4, "little"))
    defn = own.defn
    traced = ExportDef(defn.name, "func", _traced_fn(site, own), internal=True,
                       _proto=defn.proto, origin=__name__)
    m.slot_fns[idx] = SlotBinding(traced, k, own.tracer)


def _traced_fn(site: int, own):
    """The function as its patched site runs it: the ops, then the hook or the body."""
    def traced(k, *args):
        m = k.machine
        raw = m.int_args(6)
        parent = m.read_u64(m.reg("rsp"))
        new_ip, regs = yield from call_ops(k, site, raw, parent)
        if new_ip:
            return (yield k.call_request(new_ip, *regs))
        result = own.defn.fn(k, *args)
        if result.__class__ is types.GeneratorType:
            result = yield from result
        return result
    return traced


def call_ops(k, site: int, raw: list, parent: int, kernel: bool = True):
    """ftrace_regs_caller() and ftrace_ops_list_func(): each ops' func on a pt_regs of
    the call's registers (a generator yielding the callbacks); returns (the new
    ``regs->ip`` if an ops moved it, else 0; the argument registers)."""
    ops_list = ops_on(k, site)
    t = k.target
    regs = kzalloc(k, t.sizeof("pt_regs"), "pt_regs")
    try:
        for reg, value in zip(ARG_REGS, raw):
            wr(k, regs, f"pt_regs.{reg}", value)
        body = site + MCOUNT_INSN_SIZE
        wr(k, regs, "pt_regs.ip", body)
        wr(k, regs, "pt_regs.sp", k.machine.reg("rsp"))
        if any(_flags(k, ops) & FL_SAVE_REGS for ops in ops_list):
            wr(k, regs, "pt_regs.cs", KERNEL_CS)
        mover = 0
        for fn in KERNEL_OPS if kernel else ():
            yield from fn(k, site, parent, regs)
        for ops in ops_list:
            func = rd(k, ops, "ftrace_ops.func")
            before = rd(k, regs, "pt_regs.ip")
            if func:
                yield k.call_request(func, site, parent, ops, regs)
                if rd(k, regs, "pt_regs.ip") != before:
                    mover = func
        new_ip = rd(k, regs, "pt_regs.ip")
        if new_ip != body and (site, new_ip) not in k.model(Ftrace).redirects:
            k.model(Ftrace).redirects.add((site, new_ip))
            k.behaviour.record("ftrace", f"{_names(k, [site])} redirected to "
                               f"{k.format_addr(new_ip)}", site=mover,
                               target=_names(k, [site]), hook=f"{new_ip:#x}",
                               when="ftrace callback")
        return (new_ip if new_ip != body else 0), [rd(k, regs, f"pt_regs.{r}") for r in ARG_REGS]
    finally:
        kfree(k, regs)


# ------------------------------------------------------------ the filters
def _ipmodify_busy(k, ops, sites) -> bool:
    """__ftrace_hash_update_ipmodify(): another enabled IPMODIFY ops on one of ``sites``."""
    ft = k.model(Ftrace)
    return any(other != ops and _flags(k, other) & FL_IPMODIFY and
               ft.filters.get(other, set()) & sites for other in ft.ops)


def _update_filter(k, ops, new: set[int]) -> int:
    """ftrace_hash_move_and_update_ops()."""
    ft = k.model(Ftrace)
    if _flags(k, ops) & FL_ENABLED:
        if _flags(k, ops) & FL_IPMODIFY:
            if not new:
                return -errno.EINVAL
            if _ipmodify_busy(k, ops, new - ft.filters.get(ops, set())):
                return -errno.EBUSY
        for site in new:
            patch_site(k, site)
    ft.filters[ops] = new
    return 0


def _glob_sites(k, pattern: str) -> set[int]:
    """ftrace_match_records(): the vmlinux functions ``pattern`` names."""
    table = k.model(VmlinuxSymbols).get_table()
    if not any(c in pattern for c in "*?["):
        addr = vmlinux_addr(k, pattern)
        site = ftrace_location(k, addr) if addr else 0
        return {site} if site else set()
    if table is None:
        return set()
    names = [s.name for s in table.symbols
             if s.type in TEXT_TYPES and fnmatch.fnmatchcase(s.name, pattern)]
    return {site for site in (ftrace_location(k, vmlinux_addr(k, n)) for n in names) if site}


@export("int ftrace_set_filter_ip(struct ftrace_ops *ops, unsigned long ip, int remove, "
        "int reset)")
def ftrace_set_filter_ip(k, ops, ip, remove, reset):
    _ops_init(k, ops)
    if not ip:
        return -errno.EINVAL
    site = ftrace_location(k, ip)
    if not site:
        return -errno.EINVAL
    ft = k.model(Ftrace)
    new = set() if reset else set(ft.filters.get(ops, ()))
    if remove:
        if site not in new:
            return -errno.ENOENT
        new.discard(site)
    else:
        new.add(site)
    return _update_filter(k, ops, new)


@export("int ftrace_set_filter_ips(struct ftrace_ops *ops, unsigned long *ips, "
        "unsigned int cnt, int remove, int reset)")
def ftrace_set_filter_ips(k, ops, ips, cnt, remove, reset):
    _ops_init(k, ops)
    if not ips:
        return -errno.EINVAL
    ft = k.model(Ftrace)
    new = set() if reset else set(ft.filters.get(ops, ()))
    for i in range(cnt):
        site = ftrace_location(k, k.machine.read_u64(ips + 8 * i))
        if not site:
            return -errno.EINVAL
        if remove:
            if site not in new:
                return -errno.ENOENT
            new.discard(site)
        else:
            new.add(site)
    return _update_filter(k, ops, new)


def _regex_sites(k, buf: int, len_: int):
    """ftrace_match_records() of the words in ``buf``: their sites, or None if none."""
    text = k.machine.read(buf, max(len_, 0)).split(b"\0")[0].decode("latin-1")
    sites = set()
    for word in text.split():
        sites |= _glob_sites(k, word)
    return sites or None


def _set_hash(k, ops, table: dict, buf, len, reset):
    """ftrace_set_regex(): the ops' filter or notrace set with the functions ``buf``
    names added (replacing it with ``reset``), or None when ``buf`` names none."""
    _ops_init(k, ops)
    new = set() if reset else set(table.get(ops, ()))
    if buf:
        sites = _regex_sites(k, buf, len)
        if sites is None:
            return None
        new |= sites
    return new


@export("int ftrace_set_filter(struct ftrace_ops *ops, unsigned char *buf, int len, int reset)")
def ftrace_set_filter(k, ops, buf, len, reset):
    new = _set_hash(k, ops, k.model(Ftrace).filters, buf, len, reset)
    return -errno.EINVAL if new is None else _update_filter(k, ops, new)


@export("int ftrace_set_notrace(struct ftrace_ops *ops, unsigned char *buf, int len, int reset)")
def ftrace_set_notrace(k, ops, buf, len, reset):
    """The functions the ops must not trace (read per call: no site is patched)."""
    new = _set_hash(k, ops, k.model(Ftrace).notrace, buf, len, reset)
    if new is None:
        return -errno.EINVAL
    k.model(Ftrace).notrace[ops] = new
    return 0


@export("void ftrace_free_filter(struct ftrace_ops *ops)")
def ftrace_free_filter(k, ops):
    k.model(Ftrace).filters.pop(ops, None)
    k.model(Ftrace).notrace.pop(ops, None)


# -------------------------------------------------------- registering ops
@export("int register_ftrace_function(struct ftrace_ops *ops)")
def register_ftrace_function(k, ops):
    """ftrace_startup(): the ops joins ftrace_ops_list; an IPMODIFY ops needs a filter
    and functions no other IPMODIFY ops has."""
    ft = k.model(Ftrace)
    flags = _flags(k, ops)
    if flags & FL_DELETED:
        return -errno.EINVAL
    if flags & FL_ENABLED:
        return -errno.EBUSY
    flags |= FL_INITIALIZED | FL_DYNAMIC | FL_ALLOC_TRAMP
    wr(k, ops, "ftrace_ops.saved_func", rd(k, ops, "ftrace_ops.func"))
    flags |= FL_ENABLED | FL_ADDING
    sites = ft.filters.get(ops, set())
    if flags & FL_IPMODIFY and (not sites or _ipmodify_busy(k, ops, sites)):
        _set_flags(k, ops, flags & ~FL_ENABLED)
        return -errno.EINVAL if not sites else -errno.EBUSY
    _set_flags(k, ops, flags & ~FL_ADDING)
    ft.ops.insert(0, ops)
    for site in sites:
        patch_site(k, site)
    m = k.machine
    func = rd(k, ops, "ftrace_ops.func")
    where = _names(k, sites) if sites else "no function (an empty filter)"
    redirect = " (may redirect: IPMODIFY)" if flags & FL_IPMODIFY else ""
    k.register("ftrace", ops, k.current_module(), f"an ftrace_ops on {where}")
    k.behaviour.record("ftrace", f"ftrace hook registered on {where}{redirect}: "
                       f"{k.format_addr(func)}", site=m.read_u64(m.reg("rsp")),
                       target=where, ipmodify=bool(flags & FL_IPMODIFY))
    return 0


@export("int unregister_ftrace_function(struct ftrace_ops *ops)")
def unregister_ftrace_function(k, ops):
    """ftrace_shutdown(): the patched sites stay (their ops list is read per call)."""
    ft = k.model(Ftrace)
    if ops not in ft.ops:
        return -errno.EBUSY                   # WARN_ON(!(ops->flags & FTRACE_OPS_FL_ENABLED))
    ft.ops.remove(ops)
    _set_flags(k, ops, _flags(k, ops) & ~FL_ENABLED)
    wr(k, ops, "ftrace_ops.func", rd(k, ops, "ftrace_ops.saved_func"))
    k.unregister("ftrace", ops)
    return 0
