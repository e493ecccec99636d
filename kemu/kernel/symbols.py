"""kernel/kallsyms.c and kernel/module/main.c's find_symbol(): which address a
name has, and which name an address has.

vmlinux's exports are kemu's models (materialised in a slot, a data object or a
per-CPU area on first use, described by the target's Module.symvers); modules'
symbols are their own kallsyms. Left out: kallsyms of vmlinux's non-exported
functions (an address outside every module and slot has no name), and
kallsyms_lookup_name() (kallsyms_lookup_name is not exported in 6.1).
"""
from __future__ import annotations

import errno

from kemu.errors import LoadError
from kemu.abi.exports import ExportDef, REGISTRY, STATIC_CALLS, SlotBinding, lookup
from kemu.machine.emulator import SLOT_SIZE
from kemu.module.module import KernelSymbol, ModuleState


class Symbols:
    """The kernel's symbol table: exports by name, names by address."""

    def __init__(self, k):
        self.k = k
        self.exports: dict[str, KernelSymbol] = {}     # vmlinux exports materialised so far

    # ------------------------------------------------------------ by name
    def export_addr(self, name: str) -> int:
        """Address of a modelled kernel export, materialising it if needed."""
        ksym = self.kernel_symbol(name)
        if ksym is None:
            raise KeyError(f"kemu models no kernel export named {name}")
        return ksym.addr

    def kernel_symbol(self, name: str) -> KernelSymbol | None:
        """vmlinux's symbol ``name`` (a model, a thunk or a static call), or None."""
        ksym = self.exports.get(name)
        if ksym is not None:
            return ksym
        k = self.k
        defn = lookup(name, k.target.line.version)
        m = k.machine
        if defn is not None and defn.within:
            container, member = defn.within
            addr = self.export_addr(container) + (k.target.offset(member) if member else 0)
        elif defn is not None:
            addr = self._materialize(defn)
        elif name in m.thunk_addrs:
            addr = m.thunk_addrs[name]
        elif name.startswith("__SCT__") and name[7:] in STATIC_CALLS:
            addr = m.add_thunk(name, f"jmp {self.export_addr(STATIC_CALLS[name[7:]]):#x}")
        else:
            return None
        info = k.target.get_export(name)
        ksym = KernelSymbol(name, addr, bool(info and info.gpl), info.crc if info else None,
                            info.namespace if info else "", None)
        self.exports[name] = ksym
        return ksym

    def _materialize(self, defn: ExportDef) -> int:
        k = self.k
        m = k.machine
        if defn.kind == "func":
            slot = m.add_slot(defn.name, SlotBinding(defn, k, tracer=k.tracer.hook))
            if not defn.native:
                return slot
            return m.add_native(defn.name, defn.native, slot, diverted=k.tracer.hook is not None)
        size = defn.size(k.target) if callable(defn.size) else \
            defn.size if defn.size is not None else k.target.sizeof(defn.type_name)
        if defn.kind == "data":
            addr = m.alloc_kdata(size, defn.align)
            self.exports[defn.name] = KernelSymbol(defn.name, addr, False, None, "", None)
            defn.fn(k, addr)
            return addr
        offset = m.alloc_percpu(size, defn.align)
        if offset is None:
            raise MemoryError(f"per-CPU area exhausted by kernel variable {defn.name}")
        self.exports[defn.name] = KernelSymbol(defn.name, offset, False, None, "", None)
        defn.fn(k, offset)
        return offset

    def module_export(self, name: str):
        """The first formed module's symbol ``name``, or None."""
        for mod in self.k.modules.values():
            if mod.state != ModuleState.UNFORMED:
                ksym = mod.syms.get(name)
                if ksym is not None:
                    return ksym
        return None

    def exported_by_module(self, name: str) -> bool:
        """True when Linux exports ``name`` from a module, not from vmlinux."""
        info = self.k.target.get_export(name)
        return info is not None and info.exporter != "vmlinux"

    def find_symbol(self, name: str, gplok: bool = True, include_modules: bool = True):
        """find_symbol(): vmlinux's exports, then each formed module's.

        kemu also models some exports that Linux has in modules (x_tables'
        xt_register_match, say) so that their users load alone; once the real
        exporting module is loaded, its export wins, as it would in Linux.
        """
        k = self.k
        ksym = None
        from_module = self.exported_by_module(name)
        if include_modules and from_module:
            ksym = self.module_export(name)
        if ksym is None and not getattr(REGISTRY.get(name), "internal", False):
            ksym = self.kernel_symbol(name)
            if ksym is not None and from_module and include_modules:
                exporter = k.target.get_export(name).exporter.rsplit("/", 1)[-1]
                k.note(f"{name} is exported by {exporter}.ko in Linux, which is not "
                       f"loaded: kemu's model served it (Linux would refuse the load "
                       f"with 'Unknown symbol {name}')")
        if ksym is None and include_modules:
            ksym = self.module_export(name)
        if ksym is not None:
            return ksym if gplok or not ksym.gpl else None
        if k.allow_missing:
            return self._auto_stub(name)
        return None

    def owner(self, name: str) -> str | None:
        """Who exports ``name``: "kernel" (vmlinux, modelled or not), a module's name, or None."""
        info = self.k.target.get_export(name)
        modelled = name in self.exports or name in REGISTRY
        if (modelled and not self.exported_by_module(name)) or \
                (info and info.exporter == "vmlinux"):
            return "kernel"
        for mod in self.k.modules.values():
            if mod.state != ModuleState.UNFORMED and name in mod.syms:
                return mod.name
        return None

    def _auto_stub(self, name: str) -> KernelSymbol:
        from kemu.abi.cproto import parse_prototype
        k = self.k
        defn = ExportDef(name, "func", lambda k, *a: 0, _proto=parse_prototype(f"long {name}(void)"),
                         origin="--allow-missing")
        addr = k.machine.add_slot(name, SlotBinding(defn, k))
        k.note(f"auto-stubbed missing symbol {name} (returns 0)")
        ksym = KernelSymbol(name, addr, False, None, "", None)
        self.exports[name] = ksym
        return ksym

    def unknown_symbol(self, name: str) -> LoadError:
        """The error for an import nothing provides; says when Linux has it but kemu does not."""
        k = self.k
        err = LoadError(f"Unknown symbol {name}", errno.ENOENT)
        err.hint = ""
        info = k.target.get_export(name)
        if info is not None and info.exporter != "vmlinux":
            module = info.exporter.rsplit("/", 1)[-1]
            err.hint = f" (kemu: {name} is exported by module {module}; load it first)"
        elif info is not None:
            err.hint = (f" (kemu: {name} is exported by Linux {k.target.release} but kemu "
                        "does not model it yet; --allow-missing stubs it)")
            k.note(f"{name} is a real export of {k.target.release} that kemu does not "
                   "model yet")
        return err

    # --------------------------------------------------------- by address
    def symbolize(self, addr: int):
        """(name, offset, size, module name or None) for an address, or None."""
        for mod in self.k.modules.values():
            hit = mod.lookup(addr)
            if hit:
                return hit[0], hit[1], hit[2], mod.name
        name = self.k.machine.slot_name(addr & ~(SLOT_SIZE - 1))
        if name:
            return name, addr & (SLOT_SIZE - 1), self.vmlinux_size(name, SLOT_SIZE), None
        hit = self.k.machine.native_at(addr)
        if hit:
            return hit[0], hit[1], self.vmlinux_size(hit[0], hit[2]), None
        for name, (start, size) in self.k.kernel_objects.items():
            if start <= addr < start + size:
                return name, addr - start, size, None
        return None

    def vmlinux_size(self, name: str, default: int) -> int:
        """The size kallsyms gives a vmlinux symbol (to its next higher address)."""
        vmlinux = self.k.vmlinux
        if vmlinux is not None:
            sym = vmlinux.get(name)
            hit = vmlinux.lookup(sym.addr) if sym else None
            if hit:
                return hit[2]
        return default

    def unloaded_symbol(self, addr: int):
        """(module name, "func+0x0/0x40") if ``addr`` was in a module since unloaded."""
        for mod in reversed(self.k.freed_modules):
            if mod.within_core(addr):
                hit = mod.lookup(addr)
                return mod.name, (f"{hit[0]}+{hit[1]:#x}/{hit[2]:#x}" if hit else f"{addr:#x}")
        return None

    def format_addr(self, addr: int) -> str:
        """``func+0x12/0x40 [mod]`` as %pS prints it, or the bare address."""
        hit = self.symbolize(addr)
        if not hit:
            return f"{addr:#x}"
        name, off, size, modname = hit
        return f"{name}+{off:#x}/{size:#x}" + (f" [{modname}]" if modname else "")

    def module_at(self, struct_addr: int):
        """The module whose ``struct module`` is at ``struct_addr`` (THIS_MODULE), or None."""
        if not struct_addr:
            return None
        for mod in self.k.modules.values():
            if mod.struct_addr == struct_addr:
                return mod
        return None

    def module_containing(self, addr: int):
        """The module whose memory holds ``addr`` (a callback, say), or None."""
        for mod in self.k.modules.values():
            if mod.within(addr):
                return mod
        return None
