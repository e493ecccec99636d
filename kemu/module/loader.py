"""load_module(), as kernel/module/main.c does it, one named step at a time.

Every step works on a :class:`LoadInfo` (the kernel's ``struct load_info``)
and either succeeds or raises :class:`~kemu.errors.LoadError` carrying the
errno that init_module(2) returns, after logging the kernel's own message.
"""
from __future__ import annotations

import errno
import hashlib
from dataclasses import dataclass, field

from kemu.module import elf as E
from kemu.errors import EmulationError, InitError, LoadError
from kemu.abi.exports import notify_module_state
from kemu.kernel.log import KERN_ERR, KERN_NOTICE, KERN_WARNING
from kemu.machine.memory import PAGE_SIZE, PROT_R, PROT_RW, PROT_RX, page_align
from kemu.module.module import (CORE_LAYOUT_ORDER, INIT_LAYOUT_ORDER, Entry, KernelSymbol, MemType,
                                Module, ModuleState, get_modinfo, set_state,
                                write_layouts)
from kemu.module.reloc import RELOCATION_TYPES, U64

GPL_COMPATIBLE = {"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
                  "Dual MIT/GPL", "Dual MPL/GPL"}
MODULE_INIT_IGNORE_MODVERSIONS = 1
MODULE_INIT_IGNORE_VERMAGIC = 2
FTRACE_NOP5 = bytes.fromhex("0f1f440000")

#: layout_sections()' masks: (flags wanted, flags refused) per pass, and the
#: class each pass fills, core and init (kernel/module/main.c; ARCH_SHF_SMALL
#: is 0 on x86). 6.4 names the classes; before it the passes filled
#: core_layout and init_layout in this order, which kemu keeps as the same
#: classes laid end to end. Init has no ro_after_init class: 6.4 warns and
#: skips such a section (MOD_INVALID), earlier lines put it with init data.
LAYOUT_MASKS = ((E.SHF_EXECINSTR | E.SHF_ALLOC, 0), (E.SHF_ALLOC, E.SHF_WRITE),
                (E.SHF_RO_AFTER_INIT | E.SHF_ALLOC, 0), (E.SHF_WRITE | E.SHF_ALLOC, 0),
                (E.SHF_ALLOC, 0))
CORE_M_TO_MEM_TYPE = (MemType.TEXT, MemType.RODATA, MemType.RO_AFTER_INIT, MemType.DATA,
                      MemType.DATA)
INIT_M_TO_MEM_TYPE = (MemType.INIT_TEXT, MemType.INIT_RODATA, None, MemType.INIT_DATA,
                      MemType.INIT_DATA)
#: the passes after which a pre-6.4 layout page-aligns (strict_align(), STRICT_MODULE_RWX)
STRICT_ALIGN_AFTER = (0, 1, 2, 4)

@dataclass
class LoadInfo:
    """struct load_info: the temporary state of one load."""
    path: str
    image: E.ElfImage
    args: str
    flags: int
    name: str = ""
    modinfo: list = field(default_factory=list)
    index_mod: int = 0
    index_vers: int = 0
    index_info: int = 0
    index_pcpu: int = 0
    sec_flags: dict = field(default_factory=dict)      # working copy of sh_flags
    sec_offset: dict = field(default_factory=dict)     # section -> (MemType, offset) (sh_entsize)
    sec_addr: dict = field(default_factory=dict)       # section -> final address
    sym_values: list = field(default_factory=list)
    mem_buf: dict = field(default_factory=dict)        # MemType -> its bytes before the copy
    versions: dict = field(default_factory=dict)       # __versions: name -> crc
    taints: set = field(default_factory=set)           # taints added before the module exists
    prev_proprietary: bool = False                      # TAINT_PROPRIETARY_MODULE before this load
    mod: Module | None = None

    def get_modinfo(self, key: str) -> str | None:
        """First ``.modinfo`` value for ``key``."""
        return get_modinfo(self.modinfo, key)


class Loader:
    """Runs load_module() for one :class:`~kemu.kernel.facade.Kernel`."""

    def __init__(self, kernel):
        self.k = kernel
        self.m = kernel.machine

    def pr(self, level: int, text: str) -> None:
        self.k.log.emit(level, text)

    # ------------------------------------------------------------ the steps
    def load_module(self, path: str, data: bytes, args: str = "", flags: int = 0,
                    image: E.ElfImage | None = None) -> Module:
        """Load, link and initialise a module; returns it LIVE or raises."""
        mod = self.prepare_module(path, data, args, flags, image)
        self.do_init_module(mod)
        return mod

    def load_module_request(self, path: str, data: bytes, args: str = "", flags: int = 0,
                            image: E.ElfImage | None = None):
        """load_module() from inside a hook (request_module()): a generator that
        yields the call of init as a CallRequest; returns the LIVE module or raises."""
        mod = self.prepare_module(path, data, args, flags, image)
        ret = 0
        if mod.init_addr:
            saved = self.k.current_entry
            self.k.current_entry = Entry(f"{mod.name} init", mod)
            try:
                ret = yield self.k.call_request(mod.init_addr)
            finally:
                self.k.current_entry = saved
        self.init_module_done(mod, ret)
        return mod

    def prepare_module(self, path: str, data: bytes, args: str = "", flags: int = 0,
                       image: E.ElfImage | None = None) -> Module:
        """load_module() up to do_init_module(): the module formed, COMING, args parsed."""
        if image is None:
            image = self.parse(data)
        info = LoadInfo(path, image, args, flags)
        self.setup_load_info(info)
        self.rewrite_section_headers(info)
        self.check_modstruct_version(info)
        mod = self.layout_and_allocate(info)
        self.add_unformed_module(mod)
        try:
            self.module_sig_taint(mod, info)
            self.percpu_modalloc(mod, info)
            self.module_unload_init(mod)
            self.find_module_sections(mod, info)
            self.check_module_license_and_versions(mod, info)
            self.simplify_symbols(mod, info)
            self.apply_relocations(mod, info)
            self.post_relocation(mod, info)
            self.move_to_memory(mod, info)
            self.complete_formation(mod, info)
            self.parse_args(mod, info)
        except BaseException:
            self.free_module(mod)
            raise
        return mod

    def parse(self, data: bytes) -> E.ElfImage:
        """module_sig_check + elf_validity_check: the file as a validated image."""
        body, signed = E.module_sig_check(data, self.pr)
        image = E.elf_validity_check(body, self.pr, signed)
        E.read_symbols(image)
        return image

    def setup_load_info(self, info: LoadInfo) -> None:
        img = info.image
        info.index_info = img.find_sec(".modinfo")          # find_sec: ALLOC'd only
        if info.index_info:
            info.modinfo = E.parse_modinfo(img.section_data(info.index_info))
            info.name = info.get_modinfo("name") or ""
        if not img.symtab_index:
            raise self._fail(f"{info.name or '(missing .modinfo section or name field)'}: "
                             "module has no symbols (stripped?)", level=KERN_WARNING)
        info.index_mod = img.find_sec(".gnu.linkonce.this_module")
        if not info.index_mod:
            raise self._fail(f"{info.name or '(missing .modinfo section or name field)'}: "
                             "No module found in object", level=KERN_WARNING)
        if not info.name:
            mod_data = img.section_data(info.index_mod)
            off = self.k.target.offset("module.name")
            info.name = mod_data[off:off + 56].split(b"\0")[0].decode("latin-1")
        if not info.flags & MODULE_INIT_IGNORE_MODVERSIONS:
            info.index_vers = img.find_any_sec("__versions")
        info.index_pcpu = img.find_sec(".data..percpu")

    def rewrite_section_headers(self, info: LoadInfo) -> None:
        info.sec_flags = {s.index: s.sh_flags for s in info.image.sections}
        for idx in (info.index_vers, info.index_info):
            if idx:
                info.sec_flags[idx] &= ~E.SHF_ALLOC
        if info.index_vers:
            blob = info.image.section_data(info.index_vers)
            for off in range(0, len(blob) - 63, 64):            # struct modversion_info
                crc = int.from_bytes(blob[off:off + 8], "little")
                name = blob[off + 8:off + 64].split(b"\0")[0].decode("latin-1")
                info.versions[name] = crc

    def check_modstruct_version(self, info: LoadInfo) -> None:
        """The ``module_layout`` CRC in ``__versions`` against the kernel's."""
        if not self.check_version(info, "module_layout", self.k.target.module_layout_crc):
            raise LoadError(f"{info.name}: disagrees about version of symbol module_layout",
                            errno.ENOEXEC)

    def check_version(self, info: LoadInfo, name: str, crc: int | None) -> bool:
        """check_version(): a CRC in ``__versions`` must match the exporter's.

        Without ``__versions`` (insmod -f, or a kernel built without
        MODVERSIONS) the load is forced, tainting F.
        """
        if crc is None:
            return True
        if not info.index_vers:
            self.try_to_force_load(info, name)
            return True
        have = info.versions.get(name)
        if have is None:
            # Debian's 6.1 refuses an import without a version (the oracle shows
            # "no symbol version for X" then "Unknown symbol X (err -22)" on every load)
            self.pr(KERN_WARNING, f"{info.name}: no symbol version for {name}")
            return False
        if have == crc:
            return True
        self.pr(KERN_WARNING, f"{info.name}: disagrees about version of symbol {name}")
        return False

    def layout_and_allocate(self, info: LoadInfo) -> Module:
        mod = Module(info.name, info.path, modinfo=info.modinfo, image=info.image)
        mod.args = info.args
        mod.taints |= info.taints
        info.mod = mod
        self.check_modinfo(mod, info)
        self.module_enforce_rwx_sections(mod, info)
        for name in (".data..ro_after_init", "__jump_table"):
            idx = info.image.find_sec(name)
            if idx:
                info.sec_flags[idx] |= E.SHF_RO_AFTER_INIT
        if info.index_pcpu:
            info.sec_flags[info.index_pcpu] &= ~E.SHF_ALLOC
        self.layout_sections(mod, info)
        self.layout_symtab(mod, info)
        return mod

    def check_modinfo(self, mod: Module, info: LoadInfo) -> None:
        k = self.k
        info.prev_proprietary = "P" in k.taints
        modmagic = info.get_modinfo("vermagic")
        if info.flags & MODULE_INIT_IGNORE_VERMAGIC:
            modmagic = None
        if not modmagic:
            self.try_to_force_load(info, "bad vermagic")
        elif not self.same_magic(modmagic, k.target.vermagic, bool(info.index_vers)):
            raise self._fail(f"{info.name}: version magic '{modmagic}' should be "
                             f"'{k.target.vermagic}'")
        if not info.get_modinfo("intree"):
            if "O" not in k.taints:
                self.pr(KERN_WARNING, f"{mod.name}: loading out-of-tree module taints kernel.")
            k.taint.add_module(mod, "O")
        if info.get_modinfo("retpoline") != "Y":
            self.pr(KERN_WARNING, f"{mod.name}: loading module not compiled with retpoline compiler.")
        if info.get_modinfo("staging"):
            k.taint.add_module(mod, "C")
            self.pr(KERN_WARNING, f"{mod.name}: module is from the staging directory, the quality is "
                       "unknown, you have been warned.")
        license_ = info.get_modinfo("license") or "unspecified"
        if license_ not in GPL_COMPATIBLE:
            if "P" not in k.taints:
                self.pr(KERN_WARNING, f"{mod.name}: module license '{license_}' taints kernel.")
            k.taint.add_module(mod, "P")
        if info.get_modinfo("test"):
            if "N" not in k.taints:
                self.pr(KERN_WARNING, f"{mod.name}: loading test module taints kernel.")
            k.taint.add_module(mod, "N")

    @staticmethod
    def same_magic(amagic: str, bmagic: str, has_crcs: bool) -> bool:
        """same_magic(): with modversions only the part after the release counts."""
        if has_crcs:
            amagic = amagic[len(amagic.split(" ")[0]):]
            bmagic = bmagic[len(bmagic.split(" ")[0]):]
        return amagic == bmagic

    def try_to_force_load(self, info: LoadInfo, reason: str) -> None:
        """try_to_force_load() (CONFIG_MODULE_FORCE_LOAD): warn once, taint F."""
        if "F" not in self.k.taints:
            self.pr(KERN_WARNING, f"{info.name}: {reason}: kernel tainted.")
        self.k.add_taint("F")
        if info.mod is not None:
            info.mod.taints.add("F")
        else:
            info.taints.add("F")

    def module_enforce_rwx_sections(self, mod: Module, info: LoadInfo) -> None:
        for sec in info.image.sections:
            if sec.sh_flags & (E.SHF_WRITE | E.SHF_EXECINSTR) == E.SHF_WRITE | E.SHF_EXECINSTR:
                raise self._fail(f"{mod.name}: section {sec.name} (index {sec.index}) has "
                                 "invalid WRITE|EXEC flags")

    def module_get_offset_and_type(self, mod: Module, info: LoadInfo, mtype: MemType,
                                   sec) -> None:
        """module_get_offset_and_type() (module_get_offset() before 6.4): the
        section goes at the end of its class, aligned."""
        mem = mod.mem[mtype]
        align = max(sec.sh_addralign, 1)
        offset = (mem.size + align - 1) // align * align
        mem.size = offset + sec.sh_size
        info.sec_offset[sec.index] = (mtype, offset)

    def layout_sections(self, mod: Module, info: LoadInfo) -> None:
        """layout_sections(): core then init, five passes each. Before 6.4 each
        class ends page-aligned (strict_align()) as it shares one allocation;
        6.4 page-aligns each class when it allocates it (module_memory_alloc())."""
        strict_align = not self.k.target.line.module_memory
        secs = info.image.sections
        for is_init in (False, True):
            types = INIT_M_TO_MEM_TYPE if is_init else CORE_M_TO_MEM_TYPE
            for m, (want, not_want) in enumerate(LAYOUT_MASKS):
                mtype = types[m]
                for sec in secs[1:]:
                    fl = info.sec_flags[sec.index]
                    if (fl & want) != want or fl & not_want or sec.index in info.sec_offset \
                            or sec.name.startswith(".init") != is_init:
                        continue
                    if mtype is None:
                        mtype = MemType.INIT_DATA if strict_align else None
                        if mtype is None:
                            continue             # 6.4: WARN_ON_ONCE(type == MOD_INVALID)
                    self.module_get_offset_and_type(mod, info, mtype, sec)
                if strict_align and m in STRICT_ALIGN_AFTER:
                    mem = mod.mem[MemType.INIT_DATA if mtype is None else mtype]
                    mem.size = page_align(mem.size)

    def layout_symtab(self, mod: Module, info: LoadInfo) -> None:
        """layout_symtab(): room for the core symbols at the end of core data, the
        full table and its strings at the end of init data (kernel/module/kallsyms.c)."""
        img = info.image
        symsect = img.sections[img.symtab_index]
        strsect = img.sections[symsect.sh_link]
        kallsyms_all = self.k.target.config_enabled("CONFIG_KALLSYMS_ALL")
        strict_align = not self.k.target.line.module_memory

        def is_core_symbol(sym) -> bool:
            if sym.st_shndx == E.SHN_UNDEF or sym.st_shndx >= len(img.sections) or not sym.name:
                return False
            if kallsyms_all and sym.st_shndx == info.index_pcpu and info.index_pcpu:
                return True
            sec = img.sections[sym.st_shndx]
            off = info.sec_offset.get(sym.st_shndx)
            return bool(info.sec_flags[sec.index] & E.SHF_ALLOC) and off is not None and \
                not off[0].is_init and \
                (kallsyms_all or bool(sec.sh_flags & E.SHF_EXECINSTR))

        # both tables become SHF_ALLOC: /sys/module/NAME/sections lists them
        info.sec_flags[symsect.index] |= E.SHF_ALLOC
        self.module_get_offset_and_type(mod, info, MemType.INIT_DATA, symsect)
        core = [s for s in img.symbols if s.index == 0 or is_core_symbol(s)]
        strtab_size = sum(len(s.name.encode("latin-1")) + 1 for s in core)
        nsrc = len(img.symbols)
        data = mod.mem[MemType.DATA]
        align = max(symsect.sh_addralign, 1)
        info.symoffs = (data.size + align - 1) // align * align
        data.size = info.symoffs + 24 * len(core) + strtab_size + len(core)
        info.sec_flags[strsect.index] |= E.SHF_ALLOC
        self.module_get_offset_and_type(mod, info, MemType.INIT_DATA, strsect)
        init = mod.mem[MemType.INIT_DATA]
        init.size = (init.size + 7) // 8 * 8        # __alignof__(struct mod_kallsyms)
        init.size += self.k.target.sizes.get("mod_kallsyms", 32) + nsrc
        if strict_align:
            data.size = page_align(data.size)
            init.size = page_align(init.size)

    def add_unformed_module(self, mod: Module) -> None:
        old = self.k.modules.get(mod.name)
        if old is not None:
            if old.state in (ModuleState.COMING, ModuleState.UNFORMED):
                raise LoadError(f"{mod.name}: module is already being loaded", errno.EBUSY)
            raise LoadError(f"{mod.name}: module is already loaded", errno.EEXIST)
        set_state(self.k, mod, ModuleState.UNFORMED)
        self.k.modules[mod.name] = mod

    def module_sig_taint(self, mod: Module, info: LoadInfo) -> None:
        mod.sig_ok = info.image.signed and info.flags == 0   # flags skip the signature check
        if not mod.sig_ok:
            if not self.k.sig_warned:
                self.k.sig_warned = True
                self.pr(KERN_NOTICE, f"{mod.name}: module verification failed: signature and/or "
                           "required key missing - tainting kernel")
            self.k.taint.add_module(mod, "E")
        if self.k.target.line.license_taint_summary and not info.prev_proprietary \
                and "P" in self.k.taints:
            self.pr(KERN_WARNING, f"{mod.name}: module license taints kernel.")

    def percpu_modalloc(self, mod: Module, info: LoadInfo) -> None:
        if not info.index_pcpu:
            return
        sec = info.image.sections[info.index_pcpu]
        if not sec.sh_size:
            return
        align = sec.sh_addralign
        if align > PAGE_SIZE:
            self.pr(KERN_WARNING, f"{mod.name}: per-cpu alignment {align} > {PAGE_SIZE}")
            align = PAGE_SIZE
        mod.percpu_offset = self.m.alloc_percpu(sec.sh_size, max(align, 8))
        if mod.percpu_offset is None:
            raise self._fail(f"{mod.name}: Could not allocate {sec.sh_size} bytes percpu data",
                             errno.ENOMEM, level=KERN_WARNING) from None
        mod.percpu_size = sec.sh_size

    def module_unload_init(self, mod: Module) -> None:
        mod.refcnt = 2          # MODULE_REF_BASE + the reference init holds

    def find_module_sections(self, mod: Module, info: LoadInfo) -> None:
        """move_module(): allocate the module's memory and fix each section's
        final address (its bytes are written by :meth:`move_to_memory`).

        6.4 allocates each class of memory that is not empty on its own,
        page-aligned (module_memory_alloc()); before it, core_layout and
        init_layout were one allocation each, holding their classes in layout
        order."""
        m = self.m
        if self.k.target.line.module_memory:
            groups = [(t,) for t in MemType]
        else:
            groups = [CORE_LAYOUT_ORDER, INIT_LAYOUT_ORDER]
        try:                       # module_alloc() fails quietly past MODULES_LEN
            for group in groups:
                if self.k.target.line.module_memory:
                    mem = mod.mem[group[0]]
                    mem.size = page_align(mem.size)
                size = sum(mod.mem[t].size for t in group)
                if not size:
                    continue
                base = m.modules.map(size)
                mod.allocations.append((base, size, group[0].is_init))
                for t in group:
                    mod.mem[t].base = base
                    base += mod.mem[t].size
        except MemoryError:
            raise LoadError(f"{mod.name}: cannot allocate {mod.core_size()} + "
                            f"{mod.init_size()} bytes of module memory", errno.ENOMEM) from None
        info.mem_buf = {t: bytearray(mod.mem[t].size) for t in MemType}
        for idx, (mtype, off) in info.sec_offset.items():
            sec = info.image.sections[idx]
            base, buf = mod.mem[mtype].base, info.mem_buf[mtype]
            info.sec_addr[idx] = base + off
            if sec.sh_flags & E.SHF_ALLOC:           # not .symtab/.strtab (layout_symtab)
                mod.sections[sec.name] = base + off
                mod.section_spans[idx] = (base + off, sec.sh_size)
            if sec.sh_type != E.SHT_NOBITS:
                buf[off:off + sec.sh_size] = info.image.section_data(idx)
        # add_sect_attrs(): /sys/module/NAME/sections, every SHF_ALLOC section not empty
        mod.sect_attrs = [(sec.name, info.sec_addr[sec.index]) for sec in info.image.sections
                          if info.sec_flags[sec.index] & E.SHF_ALLOC and sec.sh_size
                          and sec.index in info.sec_addr]
        mod.struct_addr = info.sec_addr[info.index_mod]

    def check_module_license_and_versions(self, mod: Module, info: LoadInfo) -> None:
        if mod.name in ("ndiswrapper", "driverloader"):
            self.k.taint.add_module(mod, "P")

    def simplify_symbols(self, mod: Module, info: LoadInfo) -> None:
        err = None
        values = []
        missing = []
        gplok = "P" not in mod.taints
        for sym in info.image.symbols:
            value = sym.st_value
            if sym.index == 0:
                pass
            elif sym.st_shndx == E.SHN_COMMON:
                if not sym.name.startswith("__gnu_lto"):
                    self.pr(KERN_WARNING, f"{mod.name}: please compile with -fno-common")
                    err = LoadError(f"{mod.name}: please compile with -fno-common", errno.ENOEXEC)
            elif sym.st_shndx in (E.SHN_ABS, E.SHN_LIVEPATCH):
                pass
            elif sym.st_shndx == E.SHN_UNDEF:
                try:
                    value = self.resolve_symbol(mod, info, sym.name, gplok)
                except LoadError as exc:
                    if exc.errno == errno.ENOENT and sym.bind == E.STB_WEAK:
                        value = 0
                    else:
                        missing.append(sym.name)
                        self.pr(KERN_WARNING, f"{mod.name}: Unknown symbol {sym.name} (err -{exc.errno})")
                        err = LoadError(f"{mod.name}: Unknown symbol {sym.name} "
                                        f"(err -{exc.errno})" + getattr(exc, "hint", ""),
                                        exc.errno)
            elif sym.st_shndx == info.index_pcpu and info.index_pcpu:
                value += mod.percpu_offset
            elif sym.st_shndx < len(info.image.sections):
                value += info.sec_addr.get(sym.st_shndx, 0)
            values.append(value)
        info.sym_values = values
        if err is not None:
            err.missing = missing
            raise err

    def resolve_symbol(self, mod: Module, info: LoadInfo, name: str, gplok: bool) -> int:
        """find_symbol + check_version + ref_module; raises LoadError(-ENOENT/-EINVAL)."""
        ksym = self.k.find_symbol(name, gplok)
        if ksym is None:
            raise self.k.symbols.unknown_symbol(name)
        if ksym.gpl:
            mod.using_gplonly_symbols = True
        if not self.inherit_taint(mod, ksym):
            raise LoadError(f"{mod.name}: Unknown symbol {name}", errno.ENOENT)
        if not self.check_version(info, name, ksym.crc):
            raise LoadError(f"{mod.name}: disagrees about version of symbol {name}", errno.EINVAL)
        if ksym.owner is not None:
            self.ref_module(mod, ksym.owner)
        return ksym.addr

    def inherit_taint(self, mod: Module, ksym) -> bool:
        """inherit_taint(): using a proprietary module's symbols makes a module P."""
        owner = ksym.owner
        if owner is None or "P" not in owner.taints:
            return True
        if mod.using_gplonly_symbols:
            self.pr(KERN_ERR, f"{mod.name}: module using GPL-only symbols uses symbols {ksym.name} "
                       f"from proprietary module {owner.name}.")
            return False
        if "P" not in mod.taints:
            self.pr(KERN_WARNING, f"{mod.name}: module uses symbols {ksym.name} from proprietary module "
                       f"{owner.name}, inheriting taint.")
            self.k.taint.add_module(mod, "P")
        return True

    def ref_module(self, mod: Module, owner: Module) -> None:
        """Record that ``mod`` uses ``owner`` (holders show in lsmod's Used by)."""
        if owner in mod.uses:
            return
        # strong_try_module_get(): a module still in its init cannot be used yet
        if owner.state == ModuleState.COMING:
            raise LoadError(f"{owner.name} is still initialising", errno.EBUSY)
        if owner.state == ModuleState.GOING or owner.refcnt == 0:
            raise LoadError(f"{owner.name} is going away", errno.ENOENT)
        owner.refcnt += 1
        mod.uses.append(owner)
        owner.holders.append(mod)

    def apply_relocations(self, mod: Module, info: LoadInfo) -> None:
        img = info.image
        nsec = len(img.sections)
        for sec in img.sections[1:]:
            target = sec.sh_info
            if sec.sh_type not in (E.SHT_RELA, E.SHT_REL) or target >= nsec:
                continue
            if not info.sec_flags[target] & E.SHF_ALLOC:
                continue                           # .rela.debug_*, .rela.data..percpu, ...
            if sec.sh_flags & E.SHF_RELA_LIVEPATCH:
                raise self._fail(f"{mod.name}: livepatch relocations are not supported")
            if sec.sh_type == E.SHT_REL:
                raise self._fail(f"module {mod.name}: REL relocation unsupported")
            self.apply_relocate_add(mod, info, sec.index, target)

    def apply_relocate_add(self, mod: Module, info: LoadInfo, relsec: int, target: int) -> None:
        """__apply_relocate_add() of arch/x86/kernel/module.c (Linux 6.1).

        That file prints through ``pr_fmt`` = ``"module: "``. Per entry, 6.1
        first refuses a nonzero target (printing ``val`` = S + A, before P is
        subtracted), then checks 32/32S overflow.
        """
        mtype, off = info.sec_offset[target]
        buf = info.mem_buf[mtype]
        sec_addr = info.sec_addr[target]
        values = info.sym_values
        for r_offset, r_sym, r_type, r_addend in info.image.iter_relas(relsec):
            cls = RELOCATION_TYPES.get(r_type)
            if cls is None:
                raise self._fail(f"module: {mod.name}: Unknown rela relocation: {r_type}")
            if r_sym >= len(values):
                raise self._fail(f"{mod.name}: relocation refers to symbol {r_sym} of "
                                 f"{len(values)}")
            size = cls.size
            if not size:
                continue
            loc = sec_addr + r_offset
            pos = off + r_offset
            if pos + size > len(buf) or pos < 0:
                raise self._fail(f"{mod.name}: relocation offset {r_offset:#x} outside its section")
            if any(buf[pos:pos + size]):
                raise self._fail(
                    "module: x86/modules: Skipping invalid relocation target, existing value is "
                    f"nonzero for type {r_type}, loc {self.k.hash_pointer(loc)}, "
                    f"val {(values[r_sym] + r_addend) & U64:x}")
            val = cls.value(values[r_sym], r_addend, loc)
            if cls.overflows(val):
                self.pr(KERN_ERR, f"module: overflow in relocation type {r_type} val {val:x}")
                raise self._fail(f"module: `{mod.name}' likely not compiled with -mcmodel=kernel")
            buf[pos:pos + size] = (val & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    def post_relocation(self, mod: Module, info: LoadInfo) -> None:
        """percpu_modcopy, kallsyms, ftrace's nops for ``call __fentry__`` sites."""
        if info.index_pcpu:
            self.m.write(self.m.percpu_addr + mod.percpu_offset,
                         info.image.section_data(info.index_pcpu).ljust(mod.percpu_size, b"\0"))
        entries = []
        for sym, value in zip(info.image.symbols, info.sym_values):
            if not sym.name or sym.name[0] == "$" or sym.st_shndx == E.SHN_UNDEF:
                continue
            if sym.st_shndx in info.sec_addr:
                is_core = not info.sec_offset[sym.st_shndx][0].is_init
            elif sym.st_shndx == info.index_pcpu and info.index_pcpu:
                is_core = True
            else:
                continue           # non-loaded sections (.modinfo) and SHN_ABS
            entries.append((value, sym.index, sym.name, is_core))
            mod.sym_types[sym.index] = self.elf_type(sym, info)
        mod.add_kallsyms(entries)
        self.module_finalize(mod, info)
        self.ftrace_module_init(mod, info)

    @staticmethod
    def elf_type(sym, info: LoadInfo) -> str:
        """kernel/module/kallsyms.c elf_type(): the nm-style letter /proc/kallsyms shows."""
        if sym.bind == E.STB_WEAK:
            return "v" if sym.type == E.STT_OBJECT else "w"
        if sym.st_shndx == info.index_pcpu:
            return "a"
        sec = info.image.sections[sym.st_shndx]
        if sec.sh_flags & E.SHF_EXECINSTR:
            return "t"
        if sec.sh_flags & E.SHF_ALLOC and sec.sh_type != E.SHT_NOBITS:
            return "d" if sec.sh_flags & E.SHF_WRITE else "r"
        if sec.sh_type == E.SHT_NOBITS:
            return "b"
        return "n" if sec.name.startswith(".debug") else "?"

    def module_finalize(self, mod: Module, info: LoadInfo) -> None:
        """module_finalize() of arch/x86/kernel/module.c: the module's code patched
        for the CPU it runs on. kemu's CPU has none of the features the patching
        sections serve, which leaves one of them doing something:

        - ``.return_sites`` (5.19, retbleed; Debian's 5.10 backports it): without
          X86_FEATURE_RETHUNK apply_returns() turns each ``jmp __x86_return_thunk``
          into ``ret; int3...`` (the real kernels under the oracle's CPU do too);
        - ``.retpoline_sites``, ``.cfi_sites``: the thunks stay, as under
          "Spectre V2 : Mitigation: Retpolines" (kemu's thunks are ``jmp reg``);
        - ``.altinstructions``: the original instructions stay (no feature bit set);
        - ``.call_sites`` (6.2, call depth tracking): patched only with
          X86_FEATURE_CALL_DEPTH (retbleed=stuff); ``.ibt_endbr_seal`` (5.18) only
          with X86_FEATURE_IBT, so ``endbr64`` prologues stay (a nop without CET);
        - ``.static_call_sites``: calls keep going through their trampoline, which
          static_call_update() rewrites (kemu/stubs/kernel/static_call.py);
        - ``.smp_locks``: lock prefixes stay (the same on one CPU).
        """
        idx = info.image.find_sec(".return_sites")
        thunk = self.k.find_symbol("__x86_return_thunk", True) if idx else None
        if thunk is None:
            return
        mtype, off = info.sec_offset[idx]
        buf, base = info.mem_buf[mtype], info.sec_addr[idx]
        for i in range(0, info.image.sections[idx].sh_size - 3, 4):
            entry = base + i
            site = entry + int.from_bytes(buf[off + i:off + i + 4], "little", signed=True)
            text = MemType.INIT_TEXT if mod.mem[MemType.INIT_TEXT].contains(site) else MemType.TEXT
            if not mod.mem[text].contains(site):
                continue
            code, pos = info.mem_buf[text], site - mod.mem[text].base
            if code[pos] != 0xE9:                  # jmp rel32; anything else is left
                continue
            dest = site + 5 + int.from_bytes(code[pos + 1:pos + 5], "little", signed=True)
            if dest == thunk.addr:
                code[pos:pos + 5] = b"\xc3\xcc\xcc\xcc\xcc"       # patch_return(): ret; int3

    def ftrace_module_init(self, mod: Module, info: LoadInfo) -> None:
        """Turn each ``call __fentry__`` listed in __mcount_loc into a 5-byte nop."""
        idx = info.image.find_sec("__mcount_loc")
        if not idx:
            return
        mtype, off = info.sec_offset[idx]
        buf = info.mem_buf[mtype]
        fentry = self.k.find_symbol("__fentry__", True)
        for i in range(0, info.image.sections[idx].sh_size, 8):
            site = int.from_bytes(buf[off + i:off + i + 8], "little")
            for text in (MemType.TEXT, MemType.INIT_TEXT):
                if mod.mem[text].contains(site):
                    sbuf = info.mem_buf[text]
                    pos = site - mod.mem[text].base
                    if sbuf[pos] == 0xE8 and fentry is not None:
                        rel = int.from_bytes(sbuf[pos + 1:pos + 5], "little", signed=True)
                        if site + 5 + rel == fentry.addr:
                            sbuf[pos:pos + 5] = FTRACE_NOP5

    def move_to_memory(self, mod: Module, info: LoadInfo) -> None:
        """Write each class of memory into the emulator with its permissions
        (module_enable_text_rox(), module_enable_rodata_ro(), ...)."""
        for mtype in MemType:
            if mod.mem[mtype].size:
                self.m.write(mod.mem[mtype].base, bytes(info.mem_buf[mtype]))
        self.set_permissions(mod, ro_after_init_done=False)

    def set_permissions(self, mod: Module, ro_after_init_done: bool) -> None:
        """RX text, R rodata, ro_after_init (RW until init is done), RW data."""
        uc = self.m.uc
        for mtype in MemType:
            mem = mod.mem[mtype]
            if not mem.size:
                continue
            if mtype.is_text:
                prot = PROT_RX
            elif mtype in (MemType.RODATA, MemType.INIT_RODATA):
                prot = PROT_R
            elif mtype == MemType.RO_AFTER_INIT:
                prot = PROT_R if ro_after_init_done else PROT_RW
            else:
                prot = PROT_RW
            uc.mem_protect(mem.base, mem.size, prot)

    def complete_formation(self, mod: Module, info: LoadInfo) -> None:
        """Read the export tables, refuse duplicates, read init/exit; state COMING."""
        self.read_ksymtab(mod, info)
        for name in mod.syms:
            owner = self.k.symbols.owner(name)
            if owner is not None:
                raise self._fail(f"{mod.name}: exports duplicate symbol {name} (owned by {owner})")
        t = self.k.target
        mod.init_addr = self.m.read_u64(mod.struct_addr + t.offset("module.init"))
        mod.exit_addr = self.m.read_u64(mod.struct_addr + t.offset("module.exit"))
        write_layouts(self.k, mod)
        set_state(self.k, mod, ModuleState.COMING)
        notify_module_state(self.k, mod)          # prepare_coming_module(): jump labels, ...

    def read_ksymtab(self, mod: Module, info: LoadInfo) -> None:
        """The ``__ksymtab``/``__ksymtab_gpl`` tables (PREL32 struct kernel_symbol)."""
        m = self.m
        for table, crcs, gpl in (("__ksymtab", "__kcrctab", False),
                                 ("__ksymtab_gpl", "__kcrctab_gpl", True)):
            idx = info.image.find_sec(table)
            if not idx:
                continue
            base = info.sec_addr[idx]
            crc_idx = info.image.find_sec(crcs)
            for i in range(info.image.sections[idx].sh_size // 12):
                entry = base + 12 * i
                value = entry + m.read_s32(entry)
                name = m.read_cstr(entry + 4 + m.read_s32(entry + 4), 512).decode("latin-1")
                ns_off = m.read_s32(entry + 8)
                ns = m.read_cstr(entry + 8 + ns_off, 512).decode("latin-1") if ns_off else ""
                crc = m.read_u32(info.sec_addr[crc_idx] + 4 * i) if crc_idx else None
                mod.syms[name] = KernelSymbol(name, value, gpl, crc, ns, mod)

    def parse_args(self, mod: Module, info: LoadInfo) -> None:
        from kemu.module.params import parse_args
        parse_args(self.k, mod, info)

    def do_init_module(self, mod: Module) -> None:
        """Run init; LIVE on success, or GOING and freed (exit never runs) on failure."""
        k = self.k
        ret = 0
        if mod.init_addr:
            try:
                ret = k.call(mod.init_addr, entry=f"{mod.name} init", module=mod)
            except EmulationError:
                self._going(mod)
                raise
        self.init_module_done(mod, ret)

    def init_module_done(self, mod: Module, ret: int) -> None:
        """do_init_module() after init returned ``ret``: LIVE, or GOING and freed."""
        k = self.k
        ret = ret & 0xFFFFFFFF
        ret = ret - (1 << 32) if ret >> 31 else ret
        mod.init_ret = ret
        if ret < 0:
            self._going(mod)
            raise InitError(f"{mod.name}: init returned {ret}", -ret)
        if ret > 0:
            self.pr(KERN_WARNING, f"do_init_module: '{mod.name}'->init suspiciously returned {ret}, it "
                       "should follow 0/-E convention\ndo_init_module: loading module anyway...")
            k.bug.init_returned_stack()
        set_state(k, mod, ModuleState.LIVE)
        notify_module_state(k, mod)
        mod.refcnt -= 1                              # module_put() of init's reference
        self.resolve_init_callers(mod)
        mod.drop_init_kallsyms()
        self.free_init_mem(mod)
        write_layouts(k, mod)
        self.set_permissions(mod, ro_after_init_done=True)

    def free_init_mem(self, mod: Module) -> None:
        """do_init_module(): the init memory freed, its classes' base and size zeroed."""
        for base, size, is_init in [a for a in mod.allocations if a[2]]:
            self.m.modules.unmap(base, size)
            mod.allocations.remove((base, size, is_init))
        for mtype in MemType:
            if mtype.is_init:
                mod.mem[mtype].base = mod.mem[mtype].size = 0

    def resolve_init_callers(self, mod: Module) -> None:
        """Name the call sites in init code of live heap objects before init is freed."""
        from kemu.machine.debuginfo import LazySite
        heap = self.k.heap
        for obj in [*heap.live.values(), *heap.quarantine.values(), *heap.kfence_pages.values()]:
            if obj.caller_addr and not obj.caller_text and mod.within_init(obj.caller_addr):
                obj.caller_text = LazySite(self.k, obj.caller_addr)
            if obj.free_caller and not obj.free_text and mod.within_init(obj.free_caller):
                obj.free_text = LazySite(self.k, obj.free_caller)

    def _going(self, mod: Module) -> None:
        set_state(self.k, mod, ModuleState.GOING)
        notify_module_state(self.k, mod)
        self.k.findings.check_left_behind(mod)
        mod.refcnt -= 1
        self.free_module(mod)

    def free_module(self, mod: Module) -> None:
        """Unlink and unmap a module (free_module)."""
        k = self.k
        if k.modules.get(mod.name) is mod:
            del k.modules[mod.name]
        args_addr = k.module_args.pop(mod.name, None)     # kfree(mod->args)
        if args_addr is not None and k.heap.find(args_addr) is not None:
            k.heap.free(args_addr)
        for owner in mod.uses:                  # module_unload_free(): drop our references
            if mod in owner.holders:
                owner.holders.remove(mod)
                owner.refcnt -= 1
        mod.uses = []
        for base, size, _init in mod.allocations:
            try:
                self.m.modules.unmap(base, size)
            except Exception:       # already unmapped (init region after a fault)
                pass
        mod.allocations = []
        k.freed_modules.append(mod)

    def _fail(self, message: str, err: int = errno.ENOEXEC, level: int = 3) -> LoadError:
        self.pr(level, message)
        return LoadError(message, err)


_IMAGE_CACHE: dict = {}
_IMAGE_CACHE_MAX = 64


def parsed_image(data: bytes, loader):
    """The validated ElfImage of a module file, parsed once per process.

    Parsing is deterministic and the image is never modified by a load, so
    identical bytes share one image. Files that fail the checks are parsed
    (and fail, with the kernel's messages) every time.
    """
    key = hashlib.sha256(data).digest()
    image = _IMAGE_CACHE.get(key)
    if image is None:
        logged = len(loader.k.log.records)
        image = loader.parse(data)
        if len(loader.k.log.records) != logged:
            return image              # parsing printed something: it must print it every time
        if len(_IMAGE_CACHE) >= _IMAGE_CACHE_MAX:
            _IMAGE_CACHE.pop(next(iter(_IMAGE_CACHE)))
        _IMAGE_CACHE[key] = image
    return image
