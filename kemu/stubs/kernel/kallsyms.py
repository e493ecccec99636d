"""kernel/kallsyms.c: the kernel's own symbols, for modules that look them up.

The table is the target kernel's real one, read out of Debian's vmlinuz
(:mod:`kemu.kernel.kallsyms`). A vmlinux symbol resolves to what kemu has at that
name: a modelled function's slot, a modelled object (``sys_call_table``), or,
for a function kemu does not model, a slot that reports a ``not-modelled``
finding when called; an object kemu does not have resolves to 0 with a note.
So ``kallsyms_lookup_name`` (not exported since 5.7: modules reach it through a
kprobe's ``addr``, stubs/kernel/kprobes.py) finds what Linux finds, at kemu's
addresses; the real ones are in the cache file and ``kemu.kernel.kallsyms``.

Left out: ``kallsyms_on_each_symbol`` and ``/proc/kallsyms`` (kemu's addresses
would not be the real ones), module_kallsyms_on_each_symbol, build ids.
"""
from __future__ import annotations

import errno

from kemu import export
from kemu.abi.exports import REGISTRY, kernel_function
from kemu.kernel.kallsyms import KallsymsError, load_kallsyms

KSYM_NAME_LEN = 512
KSYM_SYMBOL_LEN = 512 + 1 + 19 + 1 + 19 + 1 + 57      # name+off/size [module]
TEXT_TYPES = frozenset("TtWw")


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
        self.failed = False
        self.stubs: dict[str, int] = {}
        self.objects: dict[str, int] = {}

    def get_table(self):
        if self.table is None and not self.failed:
            try:
                self.table = load_kallsyms(self.k.target.release)
                self.k.vmlinux = self.table
            except (KallsymsError, OSError) as exc:
                self.failed = True
                self.k.note(f"the kernel's symbol table is not available: {exc}")
        return self.table


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
