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


class MemType(IntEnum):
    """enum mod_mem_type (include/linux/module.h, 6.4): the classes of a module's memory.

    6.4 ("module: replace module_layout with module_memory") allocates each
    class on its own; before it, the core classes shared one allocation
    (core_layout: text, rodata, ro_after_init, data, in that order) and the
    init classes another (init_layout). kemu keeps the classes on every line
    and the allocations apart (:attr:`Module.allocations`).
    """
    TEXT = 0
    DATA = 1
    RODATA = 2
    RO_AFTER_INIT = 3
    INIT_TEXT = 4
    INIT_DATA = 5
    INIT_RODATA = 6

    @property
    def is_init(self) -> bool:
        """mod_mem_type_is_init()."""
        return self in (MemType.INIT_TEXT, MemType.INIT_DATA, MemType.INIT_RODATA)

    @property
    def is_text(self) -> bool:
        """mod_mem_type_is_text()."""
        return self in (MemType.TEXT, MemType.INIT_TEXT)


#: The classes in the order a pre-6.4 module_layout holds them (core, then init).
CORE_LAYOUT_ORDER = (MemType.TEXT, MemType.RODATA, MemType.RO_AFTER_INIT, MemType.DATA)
INIT_LAYOUT_ORDER = (MemType.INIT_TEXT, MemType.INIT_RODATA, MemType.INIT_DATA)


def write_layouts(k, mod) -> None:
    """struct module's view of where the module is, which within_module() reads in
    module code: core_layout and init_layout before 6.4 (text, rodata,
    ro_after_init and data in one allocation; the sizes cumulative, as
    layout_sections() counts them), mem[MOD_MEM_NUM_TYPES] from 6.4."""
    t, m = k.target, k.machine
    if t.has_offset("module.core_layout.base"):
        # text, rodata, ro_after_init, data; init memory has no ro_after_init
        init_order = (MemType.INIT_TEXT, MemType.INIT_RODATA, None, MemType.INIT_DATA)
        for name, order in (("core_layout", CORE_LAYOUT_ORDER), ("init_layout", init_order)):
            sizes = [mod.mem[c].size if c is not None else 0 for c in order]
            at = mod.struct_addr + t.offset(f"module.{name}")
            m.write_u64(at + t.offset("module_layout.base"),
                        mod.mem[order[0]].base if sum(sizes) else 0)
            for member, upto in (("text_size", 1), ("ro_size", 2), ("ro_after_init_size", 3),
                                 ("size", 4)):
                m.write_u32(at + t.offset(f"module_layout.{member}"), sum(sizes[:upto]))
    elif t.has_offset("module.mem"):
        stride = t.sizeof("module_memory")
        for mtype in MemType:
            at = mod.struct_addr + t.offset("module.mem") + mtype * stride
            m.write_u64(at + t.offset("module_memory.base"), mod.mem[mtype].base)
            m.write_u32(at + t.offset("module_memory.size"), mod.mem[mtype].size)



@dataclass
class ModuleMemory:
    """struct module_memory: one class of a module's memory (base and size)."""
    base: int = 0
    size: int = 0

    def contains(self, addr: int) -> bool:
        """True if ``addr`` is inside this class's memory."""
        return self.base <= addr < self.base + self.size


def _mem_list() -> list:
    return [ModuleMemory() for _ in MemType]


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
    mem: list = field(default_factory=_mem_list)      # MemType -> ModuleMemory
    allocations: list = field(default_factory=list)   # (base, size, is_init) as mapped
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
    sect_attrs: list = field(default_factory=list)    # /sys/module/NAME/sections: (name, address)
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

    # -- where the module is (within_module_core()/within_module_init())
    @property
    def base(self) -> int:
        """The address /proc/modules shows: core_layout.base (before 6.4),
        mem[MOD_TEXT].base (6.4); the start of text on both."""
        return self.mem[MemType.TEXT].base

    def within_core(self, addr: int) -> bool:
        return any(self.mem[t].contains(addr) for t in MemType if not t.is_init)

    def within_init(self, addr: int) -> bool:
        return any(self.mem[t].contains(addr) for t in MemType if t.is_init)

    def within(self, addr: int) -> bool:
        """True for an address in the module's core or (still present) init memory."""
        return self.within_core(addr) or self.within_init(addr)

    def text_spans(self, init: bool = True) -> list:
        """(base, size) of the module's text: core, then init (while it exists)."""
        types = (MemType.TEXT, MemType.INIT_TEXT) if init else (MemType.TEXT,)
        return [(self.mem[t].base, self.mem[t].size) for t in types if self.mem[t].size]

    def core_size(self) -> int:
        return sum(self.mem[t].size for t in MemType if not t.is_init)

    def init_size(self) -> int:
        return sum(self.mem[t].size for t in MemType if t.is_init)

    def total_size(self) -> int:
        """module_total_size() (6.4) = core_layout.size + init_layout.size (before)."""
        return self.core_size() + self.init_size()

    def lookup(self, addr: int):
        """find_kallsyms_symbol(): (name, offset, size) for ``addr``, or None.

        The closest preceding named symbol wins (the lowest symbol index among
        aliases); the size runs to the next symbol or to the end of the text
        of the memory ``addr`` is in (init text for init, else core text).
        """
        if self.within_init(addr):
            text = self.mem[MemType.INIT_TEXT]
        elif self.within_core(addr):
            text = self.mem[MemType.TEXT]
        else:
            return None
        nextval = text.base + text.size
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
