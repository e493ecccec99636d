"""A loaded module, as ``struct module`` describes it."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple


class Entry(NamedTuple):
    """What code the kernel is running: ``k.current_entry`` while module code runs.

    ``name`` says which entry ("hello init", "netfilter hook LOCAL_IN"...),
    ``module`` is the module it belongs to (or None).
    """
    name: str
    module: object = None


class ModuleState(IntEnum):
    """enum module_state (include/linux/module.h)."""
    LIVE = 0
    COMING = 1
    GOING = 2
    UNFORMED = 3


STATE_WORDS = {ModuleState.LIVE: "Live", ModuleState.COMING: "Loading",
               ModuleState.GOING: "Unloading", ModuleState.UNFORMED: "Unformed"}


def get_modinfo(modinfo, key: str) -> str | None:
    """get_modinfo(): the first value of ``key`` in (key, value) pairs of .modinfo."""
    for name, value in modinfo:
        if name == key:
            return value
    return None


def set_state(k, mod, state: ModuleState) -> None:
    """``mod->state = state``: kemu's record and, once it exists, struct module's field."""
    mod.state = state
    if mod.struct_addr:
        k.machine.write_u32(mod.struct_addr + k.target.offset("module.state"), int(state))


def write_layouts(k, mod) -> None:
    """struct module's core_layout and init_layout (before 6.4's module_memory), which
    within_module() reads in module code."""
    t = k.target
    if t.has_offset("module.mem") and t.has_offset("module_memory.base"):
        _write_module_memory(k, mod)
        return
    if not t.has_offset("module.core_layout.base"):
        return
    for name, layout in (("core_layout", mod.core), ("init_layout", mod.init_layout)):
        k.machine.write_u64(mod.struct_addr + t.offset(f"module.{name}.base"), layout.base_addr)
        for member in ("size", "text_size", "ro_size", "ro_after_init_size"):
            k.machine.write_u32(mod.struct_addr + t.offset(f"module.{name}.{member}"),
                                getattr(layout, member))


def _write_module_memory(k, mod) -> None:
    """6.4+: mod->mem[enum mod_mem_type] (MOD_TEXT, MOD_DATA, MOD_RODATA,
    MOD_RO_AFTER_INIT, MOD_INIT_TEXT, MOD_INIT_DATA, MOD_INIT_RODATA), each the
    matching part of kemu's core or init region."""
    t, m = k.target, k.machine
    each = t.sizeof("module_memory")
    parts = []
    for layout in (mod.core, mod.init_layout):
        b = layout.base_addr
        text, ro, roai = layout.text_size, layout.ro_size, layout.ro_after_init_size
        parts.append({"text": (b, text), "rodata": (b + text, ro - text),
                      "ro_after_init": (b + ro, roai - ro), "data": (b + roai, layout.size - roai)})
    core, init = parts
    order = (core["text"], core["data"], core["rodata"], core["ro_after_init"], init["text"],
             init["data"], init["rodata"])
    for i, (base, size) in enumerate(order):
        mem = mod.struct_addr + t.offset("module.mem") + i * each
        m.write_u64(mem + t.offset("module_memory.base"), base if size > 0 else 0)
        m.write_u32(mem + t.offset("module_memory.size"), max(size, 0))


@dataclass
class Layout:
    """struct module_layout: one region (core or init) of a module."""
    base_addr: int = 0
    size: int = 0
    text_size: int = 0
    ro_size: int = 0
    ro_after_init_size: int = 0

    def contains(self, addr: int) -> bool:
        """True if ``addr`` is inside this region."""
        return self.base_addr <= addr < self.base_addr + self.size


@dataclass
class KernelSymbol:
    """An exported symbol (an entry of a ``__ksymtab*`` table)."""
    name: str
    addr: int
    gpl: bool
    crc: int | None
    namespace: str
    owner: "Module | None"


@dataclass
class Module:
    """A module in the kernel's list of modules."""
    name: str
    path: str
    state: ModuleState = ModuleState.UNFORMED
    struct_addr: int = 0
    core: Layout = field(default_factory=Layout)
    init_layout: Layout = field(default_factory=Layout)
    init_addr: int = 0
    exit_addr: int = 0
    refcnt: int = 1                                   # MODULE_REF_BASE
    taints: set = field(default_factory=set)
    modinfo: list = field(default_factory=list)
    syms: dict = field(default_factory=dict)          # exported name -> KernelSymbol
    uses: list = field(default_factory=list)          # modules this one depends on
    holders: list = field(default_factory=list)       # modules that use this one
    percpu_offset: int = 0
    percpu_size: int = 0
    args: str = ""
    init_ret: int | None = None
    sig_ok: bool = False
    using_gplonly_symbols: bool = False
    params: list = field(default_factory=list)
    _funcs: list = field(default_factory=list)        # sorted (addr, size, name)
    _starts: list = field(default_factory=list)
    sym_types: dict = field(default_factory=dict)     # symbol index -> elf_type() letter
    sections: dict = field(default_factory=dict)      # name -> address
    section_spans: dict = field(default_factory=dict)  # section index -> (address, size)
    image: object = None                              # the ElfImage it came from

    def get_modinfo(self, key: str) -> str | None:
        """First ``.modinfo`` value for ``key`` (get_modinfo)."""
        return get_modinfo(self.modinfo, key)

    def refcount(self) -> int:
        """module_refcount(): references held beyond the base one."""
        return self.refcnt - 1

    def add_kallsyms(self, entries) -> None:
        """Record the symbol table as kallsyms keeps it: (value, index, name, is_core)."""
        self._funcs = sorted(entries)
        self._starts = [e[0] for e in self._funcs]

    def drop_init_kallsyms(self) -> None:
        """After init the kernel keeps only core symbols (is_core_symbol)."""
        self.add_kallsyms([e for e in self._funcs if e[3]])

    def lookup(self, addr: int):
        """find_kallsyms_symbol(): (name, offset, size) for ``addr``, or None.

        The closest preceding named symbol wins (the lowest symbol index among
        aliases); the size runs to the next symbol or to the end of the text
        of the region ``addr`` is in.
        """
        if self.init_layout.contains(addr):
            nextval = self.init_layout.base_addr + self.init_layout.text_size
        elif self.core.contains(addr):
            nextval = self.core.base_addr + self.core.text_size
        else:
            return None
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0 or self._starts[i] == 0:
            return None
        bestval = self._starts[i]
        i = bisect.bisect_left(self._starts, bestval)          # lowest index at that value
        name = self._funcs[i][2]
        j = bisect.bisect_right(self._starts, addr)
        if j < len(self._starts) and self._starts[j] < nextval:
            nextval = self._starts[j]
        return name, addr - bestval, (nextval - bestval) & (2**64 - 1)   # unsigned, as in C

    def symbol_addr(self, name: str) -> int | None:
        """Address of a module symbol by name (kallsyms), or None."""
        for value, _index, sym, _core in self._funcs:
            if sym == name:
                return value
        return None

    def kallsyms(self) -> list[tuple[int, str, str]]:
        """module_get_kallsym(): (value, type letter, name) of each symbol kept, in
        symbol-table order; the letter upper case for an exported symbol."""
        out = []
        for value, index, name, _core in sorted(self._funcs, key=lambda e: e[1]):
            letter = self.sym_types.get(index, "?")
            out.append((value, letter.upper() if name in self.syms else letter, name))
        return out

    def within(self, addr: int) -> bool:
        """True for an address in the module's core or (still present) init region."""
        return self.core.contains(addr) or self.init_layout.contains(addr)
