"""kernel/kprobes.c: registering kprobes and kretprobes.

A probe is placed on a symbol kemu can resolve: any function of vmlinux's
kallsyms (modelled, or a not-modelled slot) or a function symbol of a loaded
module (kallsyms_lookup_name()'s order); any other name fails with -ENOENT, as
for a symbol the kernel does not have. ``kp.addr`` is then kemu's address of
the function: the kprobe trick modules use to find ``kallsyms_lookup_name``
works.
A probe on a system call's function (``__x64_sys_kill``) fires when a process
makes that call (``k.syscall``, stubs/arch/x86/entry/common.py): the
pre_handler, then kemu's model, then the post_handler. A probe at a vmlinux
function's first byte is also armed on its fentry site, as 6.1's kprobes on
ftrace are (stubs/kernel/trace/ftrace.py): when module code calls the function,
the pre_handler runs with ``regs->ip`` one byte in, then at once the
post_handler, then the function (or, the pre_handler returning nonzero, the
code at the ``regs->ip`` it set). Calls between kemu's models in Python do not
pass through a site: probes there do not fire; nor do probes inside a function.
"""
import errno

from kemu import export
from kemu.abi.exports import REGISTRY, members

from .kallsyms import module_lookup_name, vmlinux_addr
from .trace.ftrace import MCOUNT_INSN_SIZE, ftrace_kernel_ops, ftrace_location, patch_site

members("struct kprobe", "hlist", "list", "nmissed", "addr", "symbol_name", "offset",
        "pre_handler", "post_handler", "opcode", "ainsn", "flags")
members("struct kretprobe", "kp", "handler", "entry_handler", "maxactive", "nmissed",
        "data_size")

KRETPROBE_MAX_DATA_SIZE = 4096


def _kp(k, p, member):
    return p + k.target.offset(f"kprobe.{member}")


class Kprobes:
    def __init__(self, k):
        self.probes = {}                  # struct kprobe address -> probed address


def lookup_name(k, name: str) -> int:
    """kprobe_lookup_name(): kallsyms_lookup_name(), vmlinux's symbols (modelled or
    not: stubs/kernel/kallsyms.py) then the modules'; -1 for a vmlinux object."""
    defn = REGISTRY.get(name)
    if defn is not None and defn.kind != "func":
        return -1
    addr = vmlinux_addr(k, name)
    if not addr and defn is None and k.vmlinux is not None and k.vmlinux.get(name):
        return -1                             # an object kemu does not place
    return addr or module_lookup_name(k, name)


def _is_text(k, addr: int) -> bool:
    if k.machine.slot_name(addr):
        return True
    for mod in k.modules.values():
        for base, size in mod.text_spans():
            if base <= addr < base + size:
                return True
    return False


def _probe_addr(k, p):
    """_kprobe_addr(): (address, on function entry) or (-errno, False)."""
    m = k.machine
    addr = m.read_u64(_kp(k, p, "addr"))
    sym = m.read_u64(_kp(k, p, "symbol_name"))
    offset = m.read_u32(_kp(k, p, "offset"))
    if bool(sym) == bool(addr):
        return -errno.EINVAL, False
    if sym:
        addr = lookup_name(k, m.read_cstr(sym, 512).decode("latin-1"))
        if addr == 0:
            return -errno.ENOENT, False
        if addr < 0:
            return -errno.EINVAL, False
    return addr + offset, offset == 0


def register_one(k, p, what="kprobe") -> int:
    m = k.machine
    addr, _ = _probe_addr(k, p)
    if addr < 0:
        return addr
    probes = k.model(Kprobes).probes
    if p in probes:
        return -errno.EINVAL                  # warn_kprobe_rereg()
    if not _is_text(k, addr):
        return -errno.EINVAL                  # check_kprobe_address_safe()
    m.write_u64(_kp(k, p, "addr"), addr)
    m.write_u32(_kp(k, p, "flags"), m.read_u32(_kp(k, p, "flags")) &
                k.target.const("KPROBE_FLAG_DISABLED"))
    m.write_u64(_kp(k, p, "nmissed"), 0)
    probes[p] = addr
    if ftrace_location(k, addr) == addr:
        patch_site(k, addr)                   # a kprobe on ftrace: the site runs it
    sym = m.read_u64(_kp(k, p, "symbol_name"))
    where = m.read_cstr(sym, 512).decode("latin-1") if sym else k.format_addr(addr)
    k.register("kprobe", p, k.current_module(), f"a {what} on {where}")
    k.behaviour.record("kprobe", f"{what} registered on {where}", site=m.read_u64(m.reg("rsp")),
                    target=where)
    return 0


def unregister_one(k, p) -> int:
    if k.model(Kprobes).probes.pop(p, None) is None:
        return -errno.EINVAL
    k.unregister("kprobe", p)
    return 0


@export("int register_kprobe(struct kprobe *p)")
def register_kprobe(k, p):
    return register_one(k, p)


@export("void unregister_kprobe(struct kprobe *p)")
def unregister_kprobe(k, p):
    unregister_one(k, p)


@export("int register_kprobes(struct kprobe **kps, int num)")
def register_kprobes(k, kps, num):
    if num <= 0:
        return -errno.EINVAL
    for i in range(num):
        ret = register_one(k, k.machine.read_u64(kps + 8 * i))
        if ret < 0:
            for j in range(i):
                unregister_one(k, k.machine.read_u64(kps + 8 * j))
            return ret
    return 0


@export("void unregister_kprobes(struct kprobe **kps, int num)")
def unregister_kprobes(k, kps, num):
    for i in range(max(num, 0)):
        unregister_one(k, k.machine.read_u64(kps + 8 * i))


def _set_disabled(k, p, disabled: bool) -> int:
    if p not in k.model(Kprobes).probes:
        return -errno.EINVAL
    flags = k.machine.read_u32(_kp(k, p, "flags"))
    bit = k.target.const("KPROBE_FLAG_DISABLED")
    k.machine.write_u32(_kp(k, p, "flags"), flags | bit if disabled else flags & ~bit)
    return 0


@export("int enable_kprobe(struct kprobe *kp)")
def enable_kprobe(k, kp):
    return _set_disabled(k, kp, False)


@export("int disable_kprobe(struct kprobe *kp)")
def disable_kprobe(k, kp):
    return _set_disabled(k, kp, True)


def _rp(k, rp, member):
    return rp + k.target.offset(f"kretprobe.{member}")


@export("int register_kretprobe(struct kretprobe *rp)")
def register_kretprobe(k, rp):
    m = k.machine
    kp = _rp(k, rp, "kp")
    addr, on_entry = _probe_addr(k, kp)
    if addr < 0:
        return addr
    if not on_entry:
        return -errno.ENOENT
    if m.read_u32(_rp(k, rp, "data_size")) > KRETPROBE_MAX_DATA_SIZE:
        return -errno.E2BIG
    maxactive = m.read_u32(_rp(k, rp, "maxactive"))
    if maxactive == 0 or maxactive >> 31:
        m.write_u32(_rp(k, rp, "maxactive"), 10)          # max(10, 2 * num_possible_cpus())
    m.write_u64(_kp(k, kp, "post_handler"), 0)
    return register_one(k, kp, "kretprobe")


@export("void unregister_kretprobe(struct kretprobe *rp)")
def unregister_kretprobe(k, rp):
    unregister_one(k, _rp(k, rp, "kp"))


@ftrace_kernel_ops
def kprobe_ftrace_handler(k, site: int, parent: int, regs: int):
    """arch/x86/kernel/kprobes/ftrace.c: the probes on a function module code called.
    The pre_handler sees ``regs->ip`` one byte in (a breakpoint hit); if it returns
    0 the post_handler follows at once (the site's nop single-stepped) and ``ip`` is
    restored, else ``regs->ip`` is where the call goes."""
    m = k.machine
    disabled = k.target.const("KPROBE_FLAG_DISABLED")
    ip_off = k.target.offset("pt_regs.ip")
    for p, where in list(k.model(Kprobes).probes.items()):
        if where != site or m.read_u32(_kp(k, p, "flags")) & disabled:
            continue
        orig_ip = m.read_u64(regs + ip_off)
        m.write_u64(regs + ip_off, site + 1)
        pre = m.read_u64(_kp(k, p, "pre_handler"))
        ret = (yield k.call_request(pre, p, regs)) & 0xFFFFFFFF if pre else 0
        if ret:
            return
        m.write_u64(regs + ip_off, site + MCOUNT_INSN_SIZE)
        post = m.read_u64(_kp(k, p, "post_handler"))
        if post:
            yield k.call_request(post, p, regs, 0)
        m.write_u64(regs + ip_off, orig_ip)
