"""A kernel: one machine, its exports, its modules and its log."""
from __future__ import annotations

import errno
import functools
import hashlib
import importlib
import os
import pkgutil

from .errors import EmulationError, LoadError, Lockup
from .exports import REGISTRY, STATIC_CALLS, ExportDef, SlotBinding, lookup
from .log import KernelLog
from .machine import SLOT_SIZE, CallRequest, Machine
from .memory import Heap
from .module import KernelSymbol, ModuleState
from . import elf as E
from .target import TargetError, find_target, load_target, release_of_vermagic, resolve_target

BOOT_NS = 2_000_000_000           # the virtual clock starts two seconds after boot
TAINT_ORDER = "PFSRMBUDAWCIOELKXTN"
# kernel/panic.c taint_flags[].desc: print_tainted_verbose() names them (6.12's dump_stack)
TAINT_NAMES = dict(zip(TAINT_ORDER, (
    "PROPRIETARY_MODULE", "FORCED_MODULE", "CPU_OUT_OF_SPEC", "FORCED_RMMOD", "MACHINE_CHECK",
    "BAD_PAGE", "USER", "DIE", "OVERRIDDEN_ACPI_TABLE", "WARN", "CRAP", "FIRMWARE_WORKAROUND",
    "OOT_MODULE", "UNSIGNED_MODULE", "SOFTLOCKUP", "LIVEPATCH", "AUX", "RANDSTRUCT", "TEST")))
MODULE_TAINTS = "PFCOEKXTN"
# taints added with LOCKDEP_NOW_UNRELIABLE by the module loader and rmmod -f
LOCKDEP_UNRELIABLE = set("PFRD")

_stub_packages_loaded: set = set()


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


class Registration:
    """Something a module registered with a kernel subsystem."""
    __slots__ = ("kind", "key", "owner", "what", "obj")

    def __init__(self, kind, key, owner, what, obj=None):
        self.kind, self.key, self.owner, self.what, self.obj = kind, key, owner, what, obj


def import_stub_package(package: str = "stubs") -> None:
    """Import every module of a stub package once, registering its exports."""
    if package in _stub_packages_loaded:
        return
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        importlib.import_module(info.name)
    _stub_packages_loaded.add(package)


class Kernel:
    """An emulated Linux kernel that modules can be loaded into.

    ``target`` names the kernel to be: a release, a description file or a
    :class:`~kemu.target.Target` (also ``$KEMU_TARGET``). Without one, the
    first module loaded decides, as its vermagic names the release it was built
    for (:func:`~kemu.target.find_target`: shipped, cached or generated from
    that release's headers); until then the shipped Debian 6.1 description
    stands in. ``allow_missing`` makes imports that no
    model provides return 0 instead of failing the load. ``modules`` is a
    directory of modules (default ``$KEMU_MODULES``) that ``request_module()``
    loads from, as modprobe would; without one, the tree a requesting module was
    loaded from (or /lib/modules/RELEASE, or kemu's Debian copy) serves;
    ``modules=False`` means a system without modprobe (every request fails).
    """

    def __init__(self, target=None, allow_missing: bool = False, timeout_ms: int = 20_000,
                 stub_packages=("stubs",), sanitize: bool = True, modules=None):
        spec = target if target is not None else os.environ.get("KEMU_TARGET") or None
        self._target = resolve_target(spec) if spec is not None else None
        self.target_fixed = spec is not None       # False: the first module decides
        for package in stub_packages:
            import_stub_package(package)
        self.machine = Machine()
        self.heap = Heap(self.machine.direct_map, sanitize=sanitize,
                         read=self.machine.read, write=self.machine.write)
        self.clock_ns = BOOT_NS
        self.log = KernelLog(lambda: self.clock_ns)
        self.modules: dict = {}
        self.taints: set = set()
        self.sig_warned = False
        self.debug_locks = True
        self.last_unloaded = ""
        self.freed_init: list = []
        self.freed_modules: list = []
        self.module_args: dict = {}
        self.allow_missing = allow_missing
        self.timeout_ms = timeout_ms
        self.max_insns = 0                  # per-entry instruction budget (0: none)
        self.notes: list[str] = []
        self.auto_stubbed: list[str] = []
        self.state_listeners: list = []
        self._exports: dict[str, KernelSymbol] = {}
        self._models: dict = {}
        self._noted: set = set()
        self.current_entry = None
        self.findings: list[dict] = []
        self.oops_count = 0
        self.trace: list[dict] | None = None
        self._tracer = None
        self.registrations: dict = {}       # (kind, key) -> Registration
        self.clock_listeners: list = []     # called as fn(k) after the clock moved
        self.runnable_checks: list = []     # fn() -> True while something can run now
        self.pending_bug = None
        self.machine.on_invalid_opcode = self._on_ud2
        from . import sanitize as _sanitize
        self.heap.on_problem = lambda problem: _sanitize.on_heap_problem(self, problem)
        # fn(access, addr, size) -> True when a model made the access valid (it is retried)
        self.fault_handlers: list = []
        self.machine.on_fault = lambda access, addr, size: (
            _sanitize.on_fault(self, access, addr, size)
            or any(h(access, addr, size) for h in self.fault_handlers))
        from .loader import Loader
        self.loader = Loader(self)
        self.module_tree = None
        self.modprobe = modules is not False       # Kernel(modules=False): no modprobe at all
        tree = modules if modules not in (None, False) else \
            (os.environ.get("KEMU_MODULES") or None if modules is None else None)
        if tree is not None:
            self.set_module_tree(tree)

    # ------------------------------------------------------------- target
    @property
    def target(self):
        """The description of the kernel this is (see :mod:`kemu.target`)."""
        if self._target is None:
            self._target = load_target(None)
        return self._target

    def fix_target(self, image, path: str, force: bool = False) -> None:
        """Before a module loads: the first one fixes the kernel's release (its
        vermagic's); a later one built for another release fails as Linux fails it,
        with a note naming both releases."""
        release = release_of_vermagic(E.image_vermagic(image))
        if self.target_fixed:
            if release and release != self.target.release:
                self.note(f"{path} was built for Linux {release}, this kernel is "
                          f"{self.target.release}: 'kemu reset' (or a new Kernel) "
                          f"starts a {release} one")
            return
        if release is None:
            if not force:
                raise TargetError(f"{path} has no vermagic, so kemu cannot tell which kernel "
                                  "it was built for: pass --target RELEASE|FILE")
        else:
            try:
                self._target = find_target(release, wanted_by=path)
            except TargetError:
                if not force:
                    raise
                self.note(f"{path} was built for Linux {release}, which kemu cannot "
                          f"describe: forced into {self.target.release}")
        self.target_fixed = True
        self.log.text_max = self.target.line.printk_text_max

    # ------------------------------------------------------------- models
    def model(self, cls):
        """The per-kernel instance of a stub's model class (created on first use)."""
        inst = self._models.get(cls)
        if inst is None:
            inst = self._models[cls] = cls(self)
        return inst

    def note(self, text: str) -> None:
        """A remark from kemu itself (not the kernel log), each text once."""
        if text not in self._noted:
            self._noted.add(text)
            self.notes.append(text)

    # ------------------------------------------------------------ symbols
    def export_addr(self, name: str) -> int:
        """Address of a modelled kernel export, materialising it if needed."""
        ksym = self._kernel_symbol(name)
        if ksym is None:
            raise KeyError(f"kemu models no kernel export named {name}")
        return ksym.addr

    def _kernel_symbol(self, name: str) -> KernelSymbol | None:
        ksym = self._exports.get(name)
        if ksym is not None:
            return ksym
        defn = lookup(name, self.target.line.version)
        m = self.machine
        if defn is not None and defn.within:
            container, member = defn.within
            addr = self.export_addr(container) + (self.target.offset(member) if member else 0)
        elif defn is not None:
            addr = self._materialize(defn)
        elif name in m.thunk_addrs:
            addr = m.thunk_addrs[name]
        elif name.startswith("__SCT__") and name[7:] in STATIC_CALLS:
            addr = m.add_thunk(name, f"jmp {self.export_addr(STATIC_CALLS[name[7:]]):#x}")
        else:
            return None
        info = self.target.get_export(name)
        ksym = KernelSymbol(name, addr, bool(info and info.gpl), info.crc if info else None,
                            info.namespace if info else "", None)
        self._exports[name] = ksym
        return ksym

    def _materialize(self, defn: ExportDef) -> int:
        m = self.machine
        if defn.kind == "func":
            return m.add_slot(defn.name, SlotBinding(defn, self, tracer=self._tracer))
        size = defn.size(self.target) if callable(defn.size) else \
            defn.size if defn.size is not None else self.target.sizeof(defn.type_name)
        if defn.kind == "data":
            addr = m.alloc_kdata(size, defn.align)
            self._exports[defn.name] = KernelSymbol(defn.name, addr, False, None, "", None)
            defn.fn(self, addr)
            return addr
        offset = m.alloc_percpu(size, defn.align)
        self._exports[defn.name] = KernelSymbol(defn.name, offset, False, None, "", None)
        defn.fn(self, offset)
        return offset

    def _module_export(self, name: str):
        for mod in self.modules.values():
            if mod.state != ModuleState.UNFORMED:
                ksym = mod.syms.get(name)
                if ksym is not None:
                    return ksym
        return None

    def _exported_by_module(self, name: str) -> bool:
        """True when Linux exports ``name`` from a module, not from vmlinux."""
        info = self.target.get_export(name)
        return info is not None and info.exporter != "vmlinux"

    def find_symbol(self, name: str, gplok: bool = True, include_modules: bool = True):
        """find_symbol(): vmlinux's exports, then each formed module's.

        kemu also models some exports that Linux has in modules (x_tables'
        xt_register_match, say) so that their users load alone; once the real
        exporting module is loaded, its export wins, as it would in Linux.
        """
        ksym = None
        from_module = self._exported_by_module(name)
        if include_modules and from_module:
            ksym = self._module_export(name)
        if ksym is None:
            ksym = self._kernel_symbol(name)
            if ksym is not None and from_module and include_modules:
                exporter = self.target.get_export(name).exporter.rsplit("/", 1)[-1]
                self.note(f"{name} is exported by {exporter}.ko in Linux, which is not "
                          f"loaded: kemu's model served it (Linux would refuse the load "
                          f"with 'Unknown symbol {name}')")
        if ksym is None and include_modules:
            ksym = self._module_export(name)
        if ksym is not None:
            return ksym if gplok or not ksym.gpl else None
        if self.allow_missing:
            return self._auto_stub(name)
        return None

    def symbol_owner(self, name: str) -> str | None:
        """Who exports ``name``: "kernel" (vmlinux, modelled or not), a module's name, or None."""
        info = self.target.get_export(name)
        modelled = name in self._exports or name in REGISTRY
        if (modelled and not self._exported_by_module(name)) or \
                (info and info.exporter == "vmlinux"):
            return "kernel"
        for mod in self.modules.values():
            if mod.state != ModuleState.UNFORMED and name in mod.syms:
                return mod.name
        return None

    def _auto_stub(self, name: str) -> KernelSymbol:
        from .cproto import parse_prototype
        defn = ExportDef(name, "func", lambda k, *a: 0, _proto=parse_prototype(f"long {name}(void)"),
                         origin="--allow-missing")
        addr = self.machine.add_slot(name, SlotBinding(defn, self))
        self.auto_stubbed.append(name)
        self.note(f"auto-stubbed missing symbol {name} (returns 0)")
        ksym = KernelSymbol(name, addr, False, None, "", None)
        self._exports[name] = ksym
        return ksym

    def unknown_symbol(self, name: str) -> LoadError:
        """The error for an import nothing provides; says when Linux has it but kemu does not."""
        err = LoadError(f"Unknown symbol {name}", errno.ENOENT)
        err.hint = ""
        info = self.target.get_export(name)
        if info is not None and info.exporter != "vmlinux":
            module = info.exporter.rsplit("/", 1)[-1]
            err.hint = f" (kemu: {name} is exported by module {module}; load it first)"
        elif info is not None:
            err.hint = (f" (kemu: {name} is exported by Linux {self.target.release} but kemu "
                        "does not model it yet; --allow-missing stubs it)")
            self.note(f"{name} is a real export of {self.target.release} that kemu does not "
                      "model yet")
        return err

    def symbolize(self, addr: int):
        """(name, offset, size, module name or None) for an address, or None."""
        for mod in self.modules.values():
            hit = mod.lookup(addr)
            if hit:
                return hit[0], hit[1], hit[2], mod.name
        name = self.machine.slot_name(addr & ~(SLOT_SIZE - 1))
        if name:
            return name, addr & (SLOT_SIZE - 1), SLOT_SIZE, None
        return None

    def unloaded_symbol(self, addr: int):
        """(module name, "func+0x0/0x40") if ``addr`` was in a module since unloaded."""
        for mod in reversed(self.freed_modules):
            if mod.core.base_addr <= addr < mod.core.base_addr + max(mod.core.size, 1):
                hit = mod.lookup(addr)
                return mod.name, (f"{hit[0]}+{hit[1]:#x}/{hit[2]:#x}" if hit else f"{addr:#x}")
        return None

    def hash_pointer(self, addr: int) -> str:
        """How ``%p`` prints an address (overridden by the vsprintf model)."""
        return f"{addr:016x}"

    # -------------------------------------------------------------- trace
    def start_trace(self) -> None:
        """Record every export call from now on in ``self.trace`` (decoded)."""
        self.trace = []
        self._tracer = self._trace_call
        for fn in self.machine.slot_fns:
            if isinstance(fn, SlotBinding):
                fn.tracer = self._trace_call

    def stop_trace(self) -> None:
        """Stop recording export calls (``self.trace`` becomes None)."""
        self.trace = None
        self._tracer = None
        for fn in self.machine.slot_fns:
            if isinstance(fn, SlotBinding):
                fn.tracer = None

    def _trace_call(self, defn, args, result, caller) -> None:
        decoded = {}
        for param, value in zip(defn.proto.params, args):
            ctype = param.ctype
            if ctype.pointer and "char" in ctype.spelling and value:
                try:
                    text = self.machine.read_cstr(value, 128)
                    decoded[param.name] = text.decode("utf-8", "backslashreplace")
                    continue
                except EmulationError:
                    pass
            decoded[param.name] = f"{value:#x}" if ctype.pointer else value
        entry = {"fn": defn.name, "args": decoded, "caller": self.format_addr(caller)}
        if not defn.proto.ret.is_void:
            entry["ret"] = f"{result & (2**64 - 1):#x}" if defn.proto.ret.pointer and \
                isinstance(result, int) else result
        self.trace.append(entry)

    # ----------------------------------------------------- owners, findings
    def module_at(self, struct_addr: int):
        """The module whose ``struct module`` is at ``struct_addr`` (THIS_MODULE), or None."""
        if not struct_addr:
            return None
        for mod in self.modules.values():
            if mod.struct_addr == struct_addr:
                return mod
        return None

    def module_containing(self, addr: int):
        """The module whose memory holds ``addr`` (a callback, say), or None."""
        for mod in self.modules.values():
            if mod.within(addr):
                return mod
        return None

    def current_module(self):
        """The module whose code the running entry belongs to, or None."""
        return self.current_entry[1] if self.current_entry else None

    def register(self, kind: str, key, owner, what: str, obj=None) -> None:
        """Record that ``owner`` (a Module or None) registered something.

        ``kind`` groups registrations ("proc entry", "netfilter hook", ...),
        ``key`` identifies one, ``what`` is how a report names it. Whatever a
        module still has registered once its exit has run is reported.
        """
        self.registrations[(kind, key)] = Registration(kind, key, owner, what, obj)

    def unregister(self, kind: str, key):
        """Forget a registration; returns it, or None if there was none."""
        return self.registrations.pop((kind, key), None)

    def registered(self, kind: str) -> list:
        """The live registrations of one kind, oldest first."""
        return [r for r in self.registrations.values() if r.kind == kind]

    def finding(self, kind: str, message: str, module=None, **details) -> None:
        """Report a problem kemu found (leaked registration, leak, bad unlock...)."""
        name = module.name if hasattr(module, "name") else module
        self.findings.append({"kind": kind, "module": name, "message": message, **details})
        self.note(f"{kind}: {message}")

    LEAK_KINDS = ("kmalloc", "kmalloc_large", "vmalloc")

    def check_leaks(self, mod) -> None:
        """After exit: heap objects the module allocated and never freed (kmemleak-style)."""
        for obj in list(self.heap.live.values()):
            if obj.owner != mod.name or not (obj.kind in self.LEAK_KINDS
                                              or obj.kind.startswith("kmem_cache:")):
                continue
            try:
                dump = self.machine.read(obj.addr, min(obj.size, 32))
            except EmulationError:
                dump = b""
            from .oops import frame_text
            where = obj.caller_text or (frame_text(self, obj.caller_addr)
                                        if obj.caller_addr else "?")
            lines = [f"unreferenced object 0x{obj.addr:016x} (size {obj.size}):",
                     f'  comm "insmod", pid 1, jiffies {self.jiffies()}',
                     f"  hex dump (first {len(dump)} bytes):"]
            for i in range(0, len(dump), 16):
                chunk = dump[i:i + 16]
                lines.append("    " + " ".join(f"{b:02x}" for b in chunk).ljust(48) + " " +
                             "".join(chr(b) if 32 <= b < 127 else "." for b in chunk))
            lines += ["  backtrace:", f"    [<{obj.caller_addr:016x}>] {where}"]
            for line in lines:
                self.log.emit(3, line)
            self.finding("leak", f"{mod.name} leaked {obj.size} bytes ({obj.kind}) "
                         f"allocated at {where}", mod, addr=obj.addr, size=obj.size,
                         caller=where)

    def check_left_behind(self, mod) -> None:
        """After exit: report leaks and what the module left registered, and drop it."""
        self.heap.check_quarantine()
        self.check_leaks(mod)
        for reg in [r for r in self.registrations.values() if r.owner is mod]:
            self.finding("left-registered", f"{mod.name} left {reg.what} registered "
                         "after its exit", mod, registration=reg.kind)
            self.registrations.pop((reg.kind, reg.key), None)

    # -------------------------------------------------------------- clock
    HZ = 250                       # CONFIG_HZ of Debian's amd64 kernel

    def jiffies(self) -> int:
        """The jiffies count for the virtual clock (INITIAL_JIFFIES wraps 5 min after boot)."""
        initial = (-300 * self.HZ) & 0xFFFFFFFF
        return (initial + self.clock_ns * self.HZ // 1_000_000_000) & 0xFFFFFFFFFFFFFFFF

    def advance(self, ms: float) -> None:
        """Move the virtual clock forward; listeners run due timers and work."""
        self.advance_ns(int(ms * 1_000_000))

    def advance_ns(self, ns: int) -> None:
        """Move the virtual clock forward by ``ns`` nanoseconds."""
        self.clock_ns += max(0, ns)
        for listener in list(self.clock_listeners):
            listener(self)

    IDLE_ROUNDS = 64               # a task that never sleeps ends an idle period here

    def idle(self) -> None:
        """The CPU once a syscall has returned to a waiting shell: runnable tasks,
        softirqs and work due now run until nothing is runnable. The clock does not
        move for them; timers and delayed work wait for :meth:`advance`."""
        for _ in range(self.IDLE_ROUNDS):
            if not any(check() for check in self.runnable_checks):
                return
            self.advance_ns(0)

    # -------------------------------------------------------------- taint
    def add_taint(self, letter: str, lockdep_unreliable: bool | None = None) -> None:
        """Taint the kernel (add_taint); the first taint that makes lockdep
        unreliable turns lock debugging off, with the kernel's message."""
        if lockdep_unreliable is None:
            lockdep_unreliable = letter in LOCKDEP_UNRELIABLE
        if lockdep_unreliable and self.debug_locks:
            self.debug_locks = False
            self.log.emit(4, "Disabling lock debugging due to kernel taint")
        self.taints.add(letter)

    def add_taint_module(self, mod, letter: str) -> None:
        """Taint the kernel and the module (add_taint_module)."""
        self.add_taint(letter)
        mod.taints.add(letter)

    def taint_string(self) -> str:
        """print_tainted(): 'Not tainted' or 'Tainted: ' and the flags."""
        if not self.taints:
            return "Not tainted"
        return "Tainted: " + "".join(l if l in self.taints else ("G" if l == "P" else " ")
                                     for l in TAINT_ORDER)

    @staticmethod
    def module_taint_letters(mod) -> str:
        """module_flags_taint(): the module's letters in bit order, e.g. 'OE'."""
        return "".join(l for l in TAINT_ORDER if l in MODULE_TAINTS and l in mod.taints)

    # ------------------------------------------------------------- running
    def call(self, fn_addr: int, *args, entry: str = "", module=None) -> int:
        """Run kernel or module code at ``fn_addr`` with integer arguments; returns RAX."""
        self.current_entry = (entry, module)
        try:
            ret = self.machine.call(fn_addr, args, timeout_ms=self.timeout_ms,
                                    max_insns=self.max_insns)
            from .exports import ENTRY_CHECKS
            for check in ENTRY_CHECKS:
                check(self, entry, module)
            return ret
        except EmulationError as exc:
            self.report_fault(exc, entry)
            raise
        finally:
            self.current_entry = None

    def call_request(self, fn_addr: int, *args) -> CallRequest:
        """What a generator hook yields to call module code and get its result."""
        return CallRequest(fn_addr, args)

    def format_addr(self, addr: int) -> str:
        """``func+0x12/0x40 [mod]`` as %pS prints it, or the bare address."""
        hit = self.symbolize(addr)
        if not hit:
            return f"{addr:#x}"
        name, off, size, modname = hit
        return f"{name}+{off:#x}/{size:#x}" + (f" [{modname}]" if modname else "")

    def report_fault(self, exc: EmulationError, entry: str) -> None:
        """Log a kernel-style report for a fault in emulated code and taint D."""
        from .errors import MemoryFault
        from .oops import oops_report
        gone = isinstance(exc, MemoryFault) and (self.unloaded_symbol(exc.addr)
                                                 or self.unloaded_symbol(exc.rip))
        if gone:
            exc.args = (f"{exc.args[0]} in unloaded module {gone[0]} ({gone[1]})",)
        lines = oops_report(self, exc, entry)
        tainted = False
        for i, line in enumerate(lines):
            if line.startswith("---[ end trace"):
                self.add_taint("D")            # oops_end(), before oops_exit()'s line
                tainted = True
            # pr_alert for the page-fault lines, pr_emerg for the watchdog, else KERN_DEFAULT
            level = 0 if line.startswith("watchdog:") else \
                1 if line.startswith(("BUG:", "#PF:", "PGD ")) else 4
            self.log.emit(level, line)
        exc.report = lines
        if not tainted:
            self.add_taint("L" if isinstance(exc, Lockup) else "D")
        self.finding("oops" if not isinstance(exc, Lockup) else "soft-lockup", lines[0],
                     self.current_module(), rip=self.machine.reg("rip"))

    # ------------------------------------------------------- BUG and WARN
    def find_bug(self, rip: int):
        """find_bug(): the module's ``__bug_table`` entry for a ``ud2`` at ``rip``.

        Returns (file, line, flags, entry address) or None.
        """
        mod = self.module_containing(rip)
        table = mod.sections.get("__bug_table") if mod else None
        if not table:
            return None
        t, m = self.target, self.machine
        size = t.sizeof("bug_entry")
        total = next(s.sh_size for s in mod.image.sections if s.name == "__bug_table")
        o_addr, o_file = t.offset("bug_entry.bug_addr_disp"), t.offset("bug_entry.file_disp")
        o_line, o_flags = t.offset("bug_entry.line"), t.offset("bug_entry.flags")
        for entry in range(table, table + total, size):
            if entry + o_addr + m.read_s32(entry + o_addr) != rip:
                continue
            file_addr = entry + o_file + m.read_s32(entry + o_file)
            return (m.read_cstr(file_addr, 512).decode("utf-8", "replace"),
                    m.read_u16(entry + o_line), m.read_u16(entry + o_flags), entry)
        return None

    def _on_ud2(self, rip: int) -> bool:
        """report_bug(): a WARN reports and continues after the ud2; BUG ends the entry."""
        m = self.machine
        self.pending_bug = None
        try:
            if m.read(rip, 2) != b"\x0f\x0b":
                return False
        except EmulationError:
            return False
        bug = self.find_bug(rip)
        if bug is None:
            return False
        file, line, flags, entry = bug
        t = self.target
        if flags & t.const("BUGFLAG_WARNING"):
            once, done = flags & t.const("BUGFLAG_ONCE"), flags & t.const("BUGFLAG_DONE")
            if not (once and done):
                if once:
                    m.write_u16(entry + t.offset("bug_entry.flags"), flags | t.const("BUGFLAG_DONE"))
                from .oops import warn_report
                for level, text in warn_report(self, rip, file, line, flags):
                    self.log.emit(level, text)
                self.add_taint("W", lockdep_unreliable=False)
                self.finding("warning", f"WARNING at {file}:{line} {self.format_addr(rip)}",
                             self.current_module(), file=file, line=line)
            m.set_reg("rip", rip + 2)
            return True
        if not flags & t.const("BUGFLAG_NO_CUT_HERE"):
            self.log.emit(4, "------------[ cut here ]------------")
        self.log.emit(2, f"kernel BUG at {file}:{line}!")
        self.pending_bug = (file, line)
        return False

    def cpu_header(self) -> list[str]:
        """dump_stack_print_info()'s CPU line; 6.12 adds the UID and, when
        tainted, a line naming each taint (Line.dump_stack_taint_names)."""
        if not self.target.line.dump_stack_taint_names:
            return [f"CPU: 0 PID: 1 Comm: insmod {self.taint_string()} {self.target.release} #1"]
        lines = [f"CPU: 0 UID: 0 PID: 1 Comm: insmod {self.taint_string()} "
                 f"{self.target.release} #1"]
        if self.taints:
            lines.append("Tainted: " + ", ".join(f"[{t}]={TAINT_NAMES[t]}" for t in TAINT_ORDER
                                                 if t in self.taints))
        return lines

    def dump_stack(self) -> None:
        """dump_stack() as the kernel prints it for the current entry."""
        for line in self.cpu_header():
            self.log.emit(4, line)
        self.log.emit(4, "Call Trace:")
        self.log.emit(4, " <TASK>")
        self.log.emit(4, " dump_stack_lvl+0x44/0x5c")
        self.log.emit(4, " do_init_module.cold+0x22/0x28")
        self.log.emit(4, " load_module+0x2a2c/0x2be0")
        self.log.emit(4, " __do_sys_finit_module+0xac/0x120")
        self.log.emit(4, " do_syscall_64+0x55/0xb0")
        self.log.emit(4, " entry_SYSCALL_64_after_hwframe+0x6e/0xd8")
        self.log.emit(4, " </TASK>")

    def notify_module_state(self, mod) -> None:
        """blocking_notifier_call_chain(&module_notify_list, state, mod)."""
        from .exports import MODULE_NOTIFIERS
        for notifier in MODULE_NOTIFIERS:
            notifier(self, mod)
        for listener in self.state_listeners:
            listener(mod)

    # ------------------------------------------------------------- modules
    # ------------------------------------------------------------ the API
    def __getattr__(self, name: str):
        from .exports import API
        fn = API.get(name)
        if fn is None:
            raise AttributeError(f"'Kernel' object has no attribute {name!r}")
        return functools.partial(fn, self)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def close(self) -> None:
        """Release the emulator. The kernel cannot be used afterwards."""
        self.log.listeners.clear()
        self.clock_listeners.clear()

    @property
    def dmesg(self) -> list[str]:
        """The kernel log, one string per line, without timestamps."""
        self.log.flush()
        return [line for rec in self.log.records for line in rec.text.split("\n")]

    def call_symbol(self, mod, name: str, *args) -> int:
        """Call a function of a loaded module by name; returns RAX (as u64)."""
        mod = self.modules[mod] if isinstance(mod, str) else mod
        addr = mod.symbol_addr(name)
        if addr is None:
            raise KeyError(f"{mod.name} has no symbol {name}")
        return self.call(addr, *args, entry=f"{mod.name} {name}", module=mod)

    @staticmethod
    def format_params(params: dict) -> str:
        """``name=value`` words for keyword parameters (lists joined by commas,
        booleans Y/N, values with spaces quoted)."""
        words = []
        for name, value in params.items():
            if isinstance(value, bool):
                value = "Y" if value else "N"
            elif isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            value = str(value)
            if any(ch.isspace() for ch in value):
                value = f'"{value}"'
            words.append(f"{name}={value}")
        return " ".join(words)

    def load(self, path, args: str = "", flags: int = 0, data: bytes | None = None,
             image=None, force: bool = False, allow_missing: bool | None = None, **params):
        """init_module(2): load ``path`` with the parameter string ``args``
        and/or keyword parameters (``k.load("m.ko", count=3, names=["a", "b"])``).

        Returns the LIVE :class:`~kemu.module.Module`. Raises
        :class:`~kemu.errors.LoadError` or :class:`~kemu.errors.InitError`
        carrying the errno init_module(2) would return, or an
        :class:`~kemu.errors.EmulationError` when module code faulted.
        ``force`` is insmod -f: vermagic and modversions are not checked and
        the kernel is tainted F.
        """
        path = str(path)
        if params:
            args = " ".join(filter(None, [args, self.format_params(params)]))
        from .loader import MODULE_INIT_IGNORE_MODVERSIONS, MODULE_INIT_IGNORE_VERMAGIC
        if data is None and image is None:
            with open(path, "rb") as fh:
                data = fh.read()
        if image is None:
            image = parsed_image(data, self.loader)
        self.fix_target(image, path, force)
        if force:
            flags |= MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC
        saved = self.allow_missing
        if allow_missing is not None:
            self.allow_missing = allow_missing
        try:
            return self.loader.load_module(path, data, args, flags, image=image)
        finally:
            self.allow_missing = saved

    def set_module_tree(self, tree) -> None:
        """Where request_module() finds modules: a directory or a ModuleTree."""
        from .modprobe import ModuleTree, shared_tree
        self.module_tree = tree if isinstance(tree, ModuleTree) else shared_tree(str(tree))

    def _default_module_tree(self):
        """With no tree given, modprobe's own: the tree the requesting module was
        loaded from (as /lib/modules/RELEASE holds the running kernel's modules), else
        /lib/modules/RELEASE or kemu's copy of Debian's package; None if none exists."""
        from .modprobe import default_trees, find_tree
        if not self.modprobe:
            return None
        mod = self.current_module()
        root = find_tree(os.path.dirname(mod.path)) if mod is not None and mod.path else None
        candidates = [root] if root else default_trees(self.target.release)
        if not candidates:
            return None
        self.set_module_tree(candidates[0])
        self.note(f"request_module(): modules come from {candidates[0]}")
        return self.module_tree

    def request_module(self, name: str):
        """modprobe ``name`` from inside a hook: a generator (``yield from``) that
        loads what ``modprobe -q NAME`` would and returns its exit status
        (0, or 1 if nothing matched or an insertion failed); None without a tree."""
        from .errors import InitError, LoadError
        tree = self.module_tree or self._default_module_tree()
        if tree is None:
            return None
        order = tree.modprobe_order(name)
        if not order:
            return 1
        status = 0
        for modname in order:
            if modname in self.modules:
                continue
            entry = tree.entry(modname)
            if any(d not in self.modules for d in tree.depends(modname)[:-1]):
                status = 1
                continue
            try:
                with open(entry.path, "rb") as fh:
                    data = fh.read()
                image = parsed_image(data, self.loader)
                yield from self.loader.load_module_request(entry.path, data, image=image)
            except (LoadError, InitError, OSError) as exc:
                self.note(f"request_module({name}): modprobe: ERROR: could not insert "
                          f"'{modname}': {exc}")
                status = 1
        return status

    def unload(self, mod, force: bool = False) -> None:
        """delete_module(2): run exit and free a module (by name or object).

        Raises :class:`~kemu.unload.UnloadError` with the errno delete_module(2)
        returns (ENOENT, EWOULDBLOCK, EBUSY) in the kernel's order of checks.
        """
        from .unload import delete_module
        delete_module(self, getattr(mod, "name", mod), force=force)
