"""A kernel: one machine, its exports, its modules and its log.

:class:`Kernel` is the facade; each of its concerns is a small part named after
the kernel file it models, held as an attribute: ``k.symbols``
(:mod:`kemu.kernel.symbols`, kallsyms and find_symbol), ``k.taint`` (:mod:`kemu.kernel.taint`,
panic.c), ``k.bug`` (:mod:`kemu.kernel.bug`, lib/bug.c and die()), ``k.tracer``
(:mod:`kemu.kernel.trace`), ``k.findings`` and ``k.registrations``
(:mod:`kemu.kernel.findings`), ``k.kmod`` (:mod:`kemu.kernel.kmod`, request_module()),
``k.version`` (:mod:`kemu.kernel.version`, the release) and ``k.loader``
(:mod:`kemu.module.loader`, load_module()). The calls a user program makes (``k.open``,
``k.proc_read``...) come from :class:`kemu.kernel.api.UserAPI`.
"""
from __future__ import annotations

import importlib
from contextlib import contextmanager
import os
import pkgutil

from kemu.machine import sanitize as kasan
from kemu.kernel.api import UserAPI
from kemu.kernel.bug import Bug
from kemu.kernel.behaviour import Behaviour
from kemu.errors import EmulationError
from kemu.abi.exports import ENTRY_CHECKS
from kemu.kernel.findings import Findings, Registrations
from kemu.kernel.kmod import Kmod
from kemu.module.loader import MODULE_INIT_IGNORE_MODVERSIONS, MODULE_INIT_IGNORE_VERMAGIC, Loader, \
    parsed_image
from kemu.kernel.log import KERN_WARNING, KernelLog
from kemu.machine.emulator import CallRequest, Machine
from kemu.machine.memory import Heap
from kemu.module.kmodfile import decompress, read_module_file
from kemu.module.module import Entry
from kemu.module.params import format_params
from kemu.kernel.symbols import Symbols
from kemu.kernel.taint import Taint
from kemu.target import resolve_target
from kemu.kernel.trace import Tracer
from kemu.module.unload import delete_module
from kemu.kernel.version import Version

BOOT_NS = 2_000_000_000           # the virtual clock starts two seconds after boot
HZ = 250                          # CONFIG_HZ of Debian's amd64 kernel

_stub_packages_loaded: set = set()


@contextmanager
def overriding(obj, **values):
    """Set attributes of ``obj`` (a Kernel's ``timeout_ms``, ``max_insns``,
    ``allow_missing``; ``k.kmod``'s ``tree``) for a block, then restore them."""
    saved = {name: getattr(obj, name) for name in values}
    for name, value in values.items():
        setattr(obj, name, value)
    try:
        yield obj
    finally:
        for name, value in saved.items():
            setattr(obj, name, value)


def import_stub_package(package: str = "kemu.stubs") -> None:
    """Import every module of a stub package once, registering its exports."""
    if package in _stub_packages_loaded:
        return
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        importlib.import_module(info.name)
    _stub_packages_loaded.add(package)


class Kernel(UserAPI):
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

    HZ = HZ

    def __init__(self, target=None, allow_missing: bool = False, timeout_ms: int = 20_000,
                 stub_packages=("kemu.stubs",), sanitize: bool = True, modules=None):
        spec = target if target is not None else os.environ.get("KEMU_TARGET") or None
        self.version = Version(self, resolve_target(spec) if spec is not None else None)
        for package in stub_packages:
            import_stub_package(package)
        self.machine = Machine()
        self.heap = Heap(self.machine.direct_map, sanitize=sanitize,
                         read=self.machine.read, write=self.machine.write)
        self.clock_ns = BOOT_NS
        self.log = KernelLog(lambda: self.clock_ns)
        self.modules: dict = {}
        self.taint = Taint(self)
        self.taints: set = self.taint.flags           # tainted_mask, as letters
        self.sig_warned = False
        self.debug_locks = True
        self.last_unloaded = ""
        self.last_unloaded_taints = ""      # print_modules()'s "(OE)" of the last unloaded
        self.freed_modules: list = []
        self.module_args: dict = {}
        self.allow_missing = allow_missing
        self.timeout_ms = timeout_ms
        self.max_insns = 0                  # per-entry instruction budget (0: none)
        self.notes: list[str] = []
        self.state_listeners: list = []
        self._models: dict = {}
        self._noted: set = set()
        self.current_entry: Entry | None = None
        self.process = ("insmod", 1)        # (comm, pid) of the process module code runs for
        self.behaviour = Behaviour(self)    # tampering events, in order (the analysts' report)
        self.vmlinux = None                 # the kernel's kallsyms table, once a model loads it
        self.kernel_objects: dict = {}      # name -> (addr, size): vmlinux data kemu placed
        self.symbols = Symbols(self)
        self.tracer = Tracer(self)
        self.trace: list[dict] | None = None
        self.findings = Findings(self)
        self.allow_findings = False         # the pytest plugin: findings do not fail the test
        self.registrations = Registrations()
        self.bug = Bug(self)
        self.clock_listeners: list = []     # called as fn(k) after the clock moved
        self.runnable_checks: list = []     # fn() -> True while something can run now
        self.fault_injection = None         # a kemu.kernel.faultinject.FaultInjection while armed
        self.machine.on_invalid_opcode = self.bug.report_bug
        self.heap.on_problem = lambda problem: kasan.on_heap_problem(self, problem)
        # fn(access, addr, size) -> True when a model made the access valid (it is retried)
        self.fault_handlers: list = []
        self.machine.on_fault = lambda access, addr, size: (
            kasan.on_fault(self, access, addr, size)
            or any(h(access, addr, size) for h in self.fault_handlers))
        self.loader = Loader(self)
        self.kmod = Kmod(self, modules)

    @property
    def target(self):
        """The description of the kernel this is (see :mod:`kemu.target`)."""
        return self.version.current()

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
        return self.symbols.export_addr(name)

    def find_symbol(self, name: str, gplok: bool = True, include_modules: bool = True):
        """find_symbol(): vmlinux's exports, then each formed module's (see
        :meth:`kemu.kernel.symbols.Symbols.find_symbol`)."""
        return self.symbols.find_symbol(name, gplok, include_modules)

    def symbolize(self, addr: int):
        """(name, offset, size, module name or None) for an address, or None."""
        return self.symbols.symbolize(addr)

    def format_addr(self, addr: int) -> str:
        """``func+0x12/0x40 [mod]`` as %pS prints it, or the bare address."""
        return self.symbols.format_addr(addr)

    def hash_pointer(self, addr: int) -> str:
        """How kemu prints a pointer in its own reports: unhashed, zero-padded to 16
        digits (stubs/lib/vsprintf.py hashes %p for modules' own printk)."""
        return f"{addr:016x}"

    def module_at(self, struct_addr: int):
        """The module whose ``struct module`` is at ``struct_addr`` (THIS_MODULE), or None."""
        return self.symbols.module_at(struct_addr)

    def module_containing(self, addr: int):
        """The module whose memory holds ``addr`` (a callback, say), or None."""
        return self.symbols.module_containing(addr)

    def current_module(self):
        """The module whose code the running entry belongs to, or None."""
        return self.current_entry.module if self.current_entry else None

    # ----------------------------------------------- registrations, findings
    def register(self, kind: str, key, owner, what: str, obj=None) -> None:
        """Record that ``owner`` (a Module or None) registered something
        (see :meth:`kemu.kernel.findings.Registrations.add`)."""
        self.registrations.add(kind, key, owner, what, obj)

    def unregister(self, kind: str, key):
        """Forget a registration; returns it, or None if there was none."""
        return self.registrations.pop((kind, key), None)

    def registered(self, kind: str) -> list:
        """The live registrations of one kind, oldest first."""
        return self.registrations.of_kind(kind)

    def finding(self, kind: str, message: str, module=None, **details) -> None:
        """Report a problem kemu found (leaked registration, leak, bad unlock...)."""
        self.findings.add(kind, message, module, **details)

    # -------------------------------------------------------------- clock
    def jiffies(self) -> int:
        """The jiffies count for the virtual clock (INITIAL_JIFFIES wraps 5 min after boot)."""
        initial = (-300 * HZ) & 0xFFFFFFFF
        return (initial + self.clock_ns * HZ // 1_000_000_000) & 0xFFFFFFFFFFFFFFFF

    def advance(self, ms: float = 0, ns: int = 0) -> None:
        """Move the virtual clock forward by ``ms`` milliseconds and/or ``ns``
        nanoseconds; listeners run due timers and work."""
        self.clock_ns += max(0, int(ms * 1_000_000) + ns)
        for listener in list(self.clock_listeners):
            listener(self)

    # -------------------------------------------------------------- taint
    def add_taint(self, letter: str, lockdep_unreliable: bool | None = None) -> None:
        """add_taint() (see :meth:`kemu.kernel.taint.Taint.add`)."""
        self.taint.add(letter, lockdep_unreliable)

    def taint_string(self) -> str:
        """print_tainted(): 'Not tainted' or 'Tainted: ' and the flags."""
        return self.taint.string()

    # ------------------------------------------------------------- running
    def call(self, fn_addr: int, *args, entry: str = "", module=None) -> int:
        """Run kernel or module code at ``fn_addr`` with integer arguments; returns RAX."""
        self.current_entry = Entry(entry, module)
        try:
            ret = self.machine.call(fn_addr, args, timeout_ms=self.timeout_ms,
                                    max_insns=self.max_insns)
            for check in ENTRY_CHECKS:
                check(self, entry, module)
            return ret
        except EmulationError as exc:
            self.bug.die(exc, entry)
            raise
        finally:
            self.current_entry = None

    def call_request(self, fn_addr: int, *args) -> CallRequest:
        """What a generator hook yields to call module code and get its result."""
        return CallRequest(fn_addr, args)

    def call_symbol(self, mod, name: str, *args) -> int:
        """Call a function of a loaded module by name; returns RAX (as u64)."""
        mod = self.modules[mod] if isinstance(mod, str) else mod
        addr = mod.symbol_addr(name)
        if addr is None:
            raise KeyError(f"{mod.name} has no symbol {name}")
        return self.call(addr, *args, entry=f"{mod.name} {name}", module=mod)

    def dump_stack(self, level: int = KERN_WARNING) -> None:
        """dump_stack(): the CPU line and the call trace unwound from the running
        entry (see :meth:`kemu.kernel.bug.Bug.dump_stack`)."""
        self.bug.dump_stack(level)

    # ------------------------------------------------------------ the log
    @property
    def dmesg(self) -> list[str]:
        """The kernel log, one string per line, without timestamps."""
        self.log.flush()
        return [line for rec in self.log.records for line in rec.text.split("\n")]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def close(self) -> None:
        """Stop the kernel's listeners (log and clock). The emulator itself is
        freed with the Kernel object; the kernel should not be used afterwards."""
        self.log.listeners.clear()
        self.clock_listeners.clear()

    # ------------------------------------------------------------- modules
    def load(self, path, args: str = "", *, params: dict | None = None, flags: int = 0,
             data: bytes | None = None, image=None, force: bool = False,
             allow_missing: bool | None = None, **kwparams):
        """init_module(2): load ``path`` with the parameter string ``args`` and/or
        module parameters, as a mapping ``params={"force": 1}`` or as keywords
        (``k.load("m.ko", count=3, names=["a", "b"])``).

        The options are keyword-only: ``flags`` (MODULE_INIT_*), ``data`` (the
        file's bytes), ``image`` (a parsed image), ``force`` (insmod -f: vermagic
        and modversions are not checked and the kernel is tainted F),
        ``allow_missing``. A module parameter with one of those names (or
        ``params``) can only be passed through ``params=`` or ``args``.

        Returns the LIVE :class:`~kemu.module.module.Module`. Raises
        :class:`~kemu.errors.LoadError` or :class:`~kemu.errors.InitError`
        carrying the errno init_module(2) would return, or an
        :class:`~kemu.errors.EmulationError` when module code faulted.
        """
        path = str(path)
        words = {**(params or {}), **kwparams}
        if words:
            args = " ".join(filter(None, [args, format_params(words)]))
        if data is None and image is None:
            data = read_module_file(path)
        if image is None:
            image = parsed_image(decompress(data, path), self.loader)
        self.version.fix(image, path, force)
        if force:
            flags |= MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC
        with overriding(self, allow_missing=self.allow_missing if allow_missing is None
                        else allow_missing):
            return self.loader.load_module(path, data, args, flags, image=image)

    def unload(self, mod, force: bool = False) -> None:
        """delete_module(2): run exit and free a module (by name or object).

        Raises :class:`~kemu.module.unload.UnloadError` with the errno delete_module(2)
        returns (ENOENT, EWOULDBLOCK, EBUSY) in the kernel's order of checks.
        """
        delete_module(self, getattr(mod, "name", mod), force=force)
