"""kernel/kallsyms.c: the kernel's own symbols, for modules that look them up.

The table is the target kernel's real one, read out of Debian's vmlinuz
(:mod:`kemu.kernel.kallsyms`). A vmlinux symbol resolves to what kemu has at that
name: a modelled function's slot, a modelled object (``sys_call_table``), or,
for a function kemu does not model, a slot that reports a ``not-modelled``
finding when called; an object kemu does not have resolves to 0 with a note.
So ``kallsyms_lookup_name`` (not exported since 5.7: modules reach it through a
kprobe's ``addr``, stubs/kernel/kprobes.py) finds what Linux finds, at kemu's
addresses; the real ones are in the cache file and ``kemu.kernel.kallsyms``.

``kallsyms_on_each_symbol`` (not exported either) calls back into the module
for every vmlinux symbol in the table's order, with the address kemu already
gave it (a model's, a placed object's) or else the real one (kemu makes no
slot per symbol to enumerate them). ``/proc/kallsyms`` prints the real addresses of vmlinux (what
the image holds), then each listed module's symbols at kemu's addresses
(``[name]``; a module that unlinked itself is not listed, as on Linux), with
``kallsyms_show_value()``'s rule: kptr_restrict is 0 and Debian's
perf_event_paranoid 3, so an opener without CAP_SYSLOG reads zeros.

Left out: module_kallsyms_on_each_symbol, the arch, ftrace, BPF and kprobe
entries of /proc/kallsyms, build ids.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import REGISTRY, kernel_function, members

from kemu.kernel.kallsyms import KallsymsError, load_kallsyms

KSYM_NAME_LEN = 512
KSYM_SYMBOL_LEN = 512 + 1 + 19 + 1 + 19 + 1 + 57      # name+off/size [module]
TEXT_TYPES = frozenset("TtWw")
KPTR_RESTRICT = 0                   # the sysctl's default
PERF_EVENT_PARANOID = 3             # Debian's default (CONFIG_SECURITY_PERF_EVENTS_RESTRICT)
CAP_SYSLOG = 34

members("struct task_struct", "cred")
members("struct cred", "cap_effective")


OBJECTS: dict = {}       # vmlinux object name -> factory(k, table) -> its kemu address


def vmlinux_object(name: str):
    """Decorator: a vmlinux object (not exported) a model places when a module
    first looks it up: ``factory(k, kallsyms table) -> address``."""
    def deco(fn):
        OBJECTS[name] = fn
        return fn
    return deco


class VmlinuxSymbols:
    """The target's kallsyms table and the slots kemu made for unmodelled functions."""

    def __init__(self, k):
        self.k = k
        self.table = None
        self.failed = ""
        self.stubs: dict[str, int] = {}
        self.objects: dict[str, int] = {}
        self.name_buf = 0                  # kallsyms_on_each_symbol()'s namebuf

    def get_table(self):
        release = self.k.target.release
        if self.table is None and self.failed != release:
            try:
                self.table = load_kallsyms(release)
                self.k.vmlinux = self.table
            except (KallsymsError, OSError) as exc:
                self.failed = release          # tried again once a module fixes the release
                self.k.note(f"the kernel's symbol table is not available: {exc}")
        return self.table


def placed_addr(k, sym) -> int:
    """The address kemu already gave vmlinux symbol ``sym`` (its model's, a placed
    object's, a not-modelled slot's), else the real one: kemu does not make ~90,000
    slots to enumerate the table."""
    ksym = k.symbols.exports.get(sym.name)
    if ksym is not None:
        return ksym.addr
    vs = k.model(VmlinuxSymbols)
    return vs.objects.get(sym.name) or vs.stubs.get(sym.name) or sym.addr


def _not_modelled(name: str):
    def fn(k, *args):
        k.finding("not-modelled", f"{name}() was called, but kemu does not model this "
                  "kernel function", k.current_module())
        return -errno.ENOSYS
    fn.__name__ = name
    return fn


def vmlinux_addr(k, name: str) -> int:
    """The address a module gets for vmlinux symbol ``name``, 0 if Linux has none."""
    defn = REGISTRY.get(name)
    table = k.model(VmlinuxSymbols).get_table()
    sym = table.get(name) if table is not None else None
    if defn is not None and (sym is not None or table is None):
        return k.export_addr(name)
    if sym is None:
        return 0
    if name in OBJECTS:
        vs = k.model(VmlinuxSymbols)
        if name not in vs.objects:
            vs.objects[name] = OBJECTS[name](k, table)
        return vs.objects[name]
    if sym.type in TEXT_TYPES:
        vs = k.model(VmlinuxSymbols)
        if name not in vs.stubs:
            from kemu.abi.cproto import parse_prototype
            from kemu.abi.exports import ExportDef, SlotBinding
            stub = ExportDef(name, "func", _not_modelled(name), internal=True,
                             _proto=parse_prototype(f"long {name}(void)"), origin=__name__)
            vs.stubs[name] = k.machine.add_slot(name, SlotBinding(stub, k))
        return vs.stubs[name]
    k.note(f"{name} is a vmlinux object kemu does not model: kallsyms gave the module 0")
    return 0


def module_lookup_name(k, name: str) -> int:
    """module_kallsyms_lookup_name(): "mod:sym" or any loaded module's symbol."""
    mod_name, _, sym = name.rpartition(":")
    for mod in k.modules.values():
        if mod_name and mod.name != mod_name:
            continue
        addr = mod.symbol_addr(sym)
        if addr:
            return addr
    return 0


def lookup_name(k, name: str) -> int:
    """kallsyms_lookup_name(): vmlinux first, then the modules."""
    if not name:
        return 0
    return vmlinux_addr(k, name) or module_lookup_name(k, name)


@kernel_function("unsigned long kallsyms_lookup_name(const char *name)")
def kallsyms_lookup_name(k, name):
    text = k.machine.read_cstr(name, KSYM_NAME_LEN).decode("latin-1")
    addr = lookup_name(k, text)
    k.behaviour.record("kallsyms", f'kallsyms_lookup_name("{text}") = '
                    f'{k.format_addr(addr) if addr else "0"}', site=k.machine.read_u64(
                        k.machine.reg("rsp")), symbol=text, found=bool(addr))
    return addr


@export("int sprint_symbol(char *buffer, unsigned long address)")
def sprint_symbol(k, buffer, address):
    hit = k.symbolize(address)
    text = k.format_addr(address) if hit else f"{address:#x}"
    data = text.encode()[:KSYM_SYMBOL_LEN - 1]
    k.machine.write(buffer, data + b"\0")
    return len(data)


@kernel_function("int kallsyms_on_each_symbol(int (*fn)(void *, const char *, struct module *, "
                 "unsigned long), void *data)")
def kallsyms_on_each_symbol(k, fn, data):
    """Call ``fn(data, name, NULL, address)`` for every vmlinux symbol, in the table's
    order, until it returns nonzero; returns that value (0 when every symbol was seen)."""
    table = k.model(VmlinuxSymbols).get_table()
    if table is None:
        return 0
    vs = k.model(VmlinuxSymbols)
    if not vs.name_buf:
        vs.name_buf = k.machine.alloc_kdata(KSYM_NAME_LEN, 8)
    for sym in table.symbols:
        k.machine.write(vs.name_buf, sym.name.encode()[:KSYM_NAME_LEN - 1] + b"\0")
        ret = yield k.call_request(fn, data, vs.name_buf, 0, placed_addr(k, sym))
        ret &= 0xFFFFFFFF
        if ret:
            return ret - (1 << 32) if ret >> 31 else ret
    return 0


def kallsyms_show_value(k, cred: int) -> bool:
    """kallsyms_show_value(): may the holder of ``cred`` see the addresses?"""
    if KPTR_RESTRICT == 0 and PERF_EVENT_PARANOID <= 1:
        return True
    if KPTR_RESTRICT <= 1:
        return bool(k.machine.read_u64(cred + k.target.offset("cred.cap_effective"))
                    >> CAP_SYSLOG & 1)
    return False


def proc_kallsyms(k) -> str:
    """/proc/kallsyms as the current process reads it (s_show())."""
    m = k.machine
    current = m.read_u64(m.percpu_addr + k.export_addr("current_task"))
    cred = m.read_u64(current + k.target.offset("task_struct.cred"))
    show = kallsyms_show_value(k, cred) if cred else True
    table = k.model(VmlinuxSymbols).get_table()
    out = []
    if table is not None:
        out = [f"{s.addr if show else 0:016x} {s.type} {s.name}\n" for s in table.symbols]
    listed = k.listed_modules()
    for mod in reversed(list(k.modules.values())):       # list_add_rcu(): newest first
        if mod.name not in listed:
            continue
        out.extend(f"{value if show else 0:016x} {letter} {name}\t[{mod.name}]\n"
                   for value, letter, name in mod.kallsyms())
    return "".join(out)
