"""Fault injection: fail the N-th fallible kernel call of a module's entry.

Models lib/fault-inject.c's ``fail-nth`` (Documentation/fault-injection/
fault-injection.rst: writing N to /proc/self/task/TID/fail-nth fails the
N-th call of the task that can fail), which Debian's kernel does not have
(``CONFIG_FAULT_INJECTION`` is not set). A fallible call is a call from the
module's own code to an export that declares how it fails in Linux
(``@export(..., fails="NULL")``, see :mod:`kemu.abi.exports`); the failed call
returns that value and its model does not run, as ``should_failslab()``
makes kmalloc return NULL before allocating anything.

:func:`faultsweep` runs an entry once per fallible call site (the site's
first call fails) in a fresh kernel each time, unloads the module when init
succeeded, and reports what init returned and every finding (leak, oops,
WARN, registration left behind) of that path.

Left out: the fault-injection attributes other than fail-nth (probability,
interval, times, space, the ``failslab``/``fail_page_alloc`` debugfs knobs)
and ``ignore-gfp-wait``; calls from other modules' code are not counted.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from kemu.errors import EmulationError, InitError, KemuError, errno_name
from kemu.module.kmodfile import read_module_file, strip_suffix

# Which entries of the module count: its init, its exit, anything else it was
# entered for (file operations, timers, work, kthreads: "callbacks"), or all.
SCOPES = ("init", "exit", "callbacks", "all")


@dataclass
class FallibleCall:
    """One call of the module to an export that can fail."""
    nth: int                 # 1-based, counted over the entry (or entries) in scope
    export: str
    failure: str             # what a failed call returns: "NULL", "-EBUSY", ...
    caller: int              # return address in the module
    site: object             # str(): "func+0x12/0x80 [mod] (file.c:42)"
    entry: str

    @property
    def site_key(self) -> tuple:
        return (self.caller, self.export)


class FaultInjection:
    """Per kernel (``k.model(FaultInjection)``): counts the fallible calls of
    one module's entries in scope and fails the ``nth`` (0: count only)."""

    def __init__(self, k):
        self.k = k
        self.path = None
        self.nth = 0
        self.scope = "init"
        self.calls: list[FallibleCall] = []
        self.injected: FallibleCall | None = None
        self._sites: dict = {}

    def arm(self, path: str, nth: int = 0, scope: str = "init") -> "FaultInjection":
        """Count (and with ``nth`` >= 1 fail) calls of the module loaded from ``path``."""
        if scope not in SCOPES:
            raise ValueError(f"fault injection scope {scope!r} is not one of {', '.join(SCOPES)}")
        if nth < 0:
            raise ValueError(f"fail-nth {nth}: must be at least 1 (0: count only)")
        self.path, self.nth, self.scope = str(path), nth, scope
        self.calls, self.injected = [], None
        self.k.fault_injection = self
        return self

    def disarm(self) -> None:
        """Stop counting; what was counted and injected stays readable."""
        if self.k.fault_injection is self:
            self.k.fault_injection = None

    def _in_scope(self, entry) -> bool:
        if entry is None or entry[1] is None or entry[1].path != self.path:
            return False
        kind = entry[0].rsplit(" ", 1)[-1]
        if self.scope == "all":
            return True
        if self.scope == "callbacks":
            return kind not in ("init", "exit")
        return kind == self.scope

    def should_fail(self, defn) -> bool:
        """Called by an export slot before a fallible export's model runs."""
        k = self.k
        entry = k.current_entry
        if not self._in_scope(entry):
            return False
        m = k.machine
        caller = m.read_u64(m.reg("rsp"))
        site = self._sites.get((caller, defn.name))
        if site is None:
            if entry[1].within(caller):
                from kemu.machine.debuginfo import LazySite
                site = LazySite(k, caller)
            elif k.module_containing(caller) is None:
                # a tail call (jmp) from the entry's own function: no return address in it
                site = f"a tail call ending {entry[0]}"
            else:
                return False          # another module's code called it
            self._sites[(caller, defn.name)] = site
        call = FallibleCall(len(self.calls) + 1, defn.name, defn.fails.text, caller, site,
                            entry[0])
        self.calls.append(call)
        if call.nth == self.nth:
            self.injected = call
            return True
        return False

    def describe(self) -> str:
        """One line: which call was failed, or that none was."""
        if self.injected is not None:
            c = self.injected
            return (f"fault injected: call {c.nth} of {self.scope}, {c.export}() returned "
                    f"{c.failure} at {c.site}")
        return (f"fault injection: {self.scope} made {len(self.calls)} fallible call"
                f"{'s' if len(self.calls) != 1 else ''}; call {self.nth} never came")


# ------------------------------------------------------------------ sweeping
PROBLEM_KINDS_IGNORED = ("not-modelled",)     # kemu's limits, not the module's


@dataclass
class PathResult:
    """The run in which one call site's call failed."""
    call: FallibleCall | None        # the failed call (None: the baseline run)
    init_ret: int | None             # None: init did not return (it faulted)
    outcome: str                     # "init returned -12 (ENOMEM)", "oops", ...
    findings: list = field(default_factory=list)
    log: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


@dataclass
class SweepReport:
    """What :func:`faultsweep` found: the baseline run and one run per site."""
    module: str
    scope: str
    baseline: PathResult
    calls: list                      # the baseline's fallible calls, in order
    paths: list                      # PathResult per call site

    @property
    def ok(self) -> bool:
        return self.baseline.ok and all(p.ok for p in self.paths)

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = [f"{self.module}: {len(self.calls)} fallible call"
               f"{'s' if len(self.calls) != 1 else ''} in {self.scope}, "
               f"{len(self.paths)} call site{'s' if len(self.paths) != 1 else ''}; "
               f"without faults: {self.baseline.outcome}"
               + ("" if self.baseline.ok else f", {len(self.baseline.findings)} finding(s)")]
        for f in self.baseline.findings:
            out.append(f"    {f['kind']}: {f['message']}")
        for p in self.paths:
            c = p.call
            status = "ok" if p.ok else "FAIL"
            out.append(f"[{status}] fail-nth {c.nth}: {c.export}() -> {c.failure} at {c.site}: "
                       f"{p.outcome}")
            for f in p.findings:
                out.append(f"    {f['kind']}: {f['message']}")
        bad = sum(not p.ok for p in self.paths)
        n = len(self.paths)
        out.append(f"{bad} of {n} failure path{'s' if n != 1 else ''} misbehave{'s' * (n == 1)}"
                   if bad else f"all {n} failure paths are clean" if n > 1 else
                   "the failure path is clean" if n else f"no failure path to try in {self.scope}")
        return out

    def to_json(self) -> dict:
        def path(p):
            doc = {"init_ret": p.init_ret, "outcome": p.outcome, "ok": p.ok,
                   "findings": p.findings}
            if p.call is not None:
                doc.update(nth=p.call.nth, export=p.call.export, failure=p.call.failure,
                           site=str(p.call.site), entry=p.call.entry)
            return doc
        return {"module": self.module, "scope": self.scope, "ok": self.ok,
                "fallible_calls": len(self.calls), "baseline": path(self.baseline),
                "paths": [path(p) for p in self.paths]}


def dependencies(path) -> tuple:
    """(module tree root or None, paths of the modules ``path`` depends on, in
    modprobe's order): the tree is ``$KEMU_MODULES`` or the one the file is in."""
    from kemu.module.modprobe import find_tree, modname, shared_tree
    root = os.environ.get("KEMU_MODULES") or find_tree(os.path.dirname(os.path.abspath(path)))
    if not root:
        return None, []
    tree = shared_tree(root)
    name = modname(os.path.basename(str(path)))
    if tree.entry(name) is None:
        return root, []
    hard = set(tree.depends(name)[:-1])
    order = tree.modprobe_order(name, softdeps=False)
    return root, [tree.path(dep) for dep in order if dep in hard and tree.path(dep)]


def run_once(path, args: str = "", nth: int = 0, scope: str = "init", scenario=None,
             kernel_factory=None, data: bytes | None = None, deps=(None, [])):
    """Load ``path`` in a fresh kernel with the ``nth`` fallible call in ``scope``
    failing, run ``scenario(k, mod)`` if init succeeded, unload; returns
    (PathResult, FaultInjection). ``deps`` is (module tree, dependencies loaded
    first, without faults), as :func:`dependencies` gives. A load refused before
    init raises LoadError.
    """
    from kemu.kernel.facade import Kernel
    from kemu.module.unload import UnloadError
    root, needed = deps
    k = kernel_factory() if kernel_factory else Kernel(modules=root)
    for dep in needed:
        k.load(dep)
    fi = k.model(FaultInjection).arm(str(path), nth, scope)
    init_ret, outcome, mod = None, "", None
    try:
        try:
            mod = k.load(str(path), args, data=data)
            init_ret = mod.init_ret
            outcome = f"init returned {init_ret}"
        except InitError as exc:
            init_ret = -exc.errno
            outcome = f"init returned {init_ret} ({errno_name(exc.errno)})"
        except EmulationError as exc:
            outcome = f"init faulted: {exc}"
        if mod is not None and scenario is not None:
            try:
                scenario(k, mod)
            except EmulationError as exc:
                outcome += f", a callback faulted: {exc}"
            except KemuError as exc:           # a callback returned an error: its result
                outcome += f", {exc}"
        if mod is not None:
            try:
                k.unload(mod)
                outcome += ", unloaded"
            except UnloadError as exc:
                outcome += f", not unloaded ({exc})"
            except EmulationError as exc:
                outcome += f", then faulted: {exc}"
        fi.disarm()
        k.log.flush()
        findings = [f for f in k.findings if f["kind"] not in PROBLEM_KINDS_IGNORED]
        return PathResult(fi.injected, init_ret, outcome, findings, list(k.dmesg)), fi
    finally:
        k.close()


def faultsweep(path, args: str = "", scope: str = "init", scenario=None,
               kernel_factory=None, progress=None) -> SweepReport:
    """Run the module once without faults, then once per fallible call site in
    ``scope`` with that site's first call failing; see :class:`SweepReport`.
    A path's findings are those the run without faults did not have.

    ``scenario(k, mod)`` exercises callbacks after a successful init (with
    ``scope="callbacks"`` its calls are the ones failed). The modules it depends
    on are loaded first, as modprobe would (see :func:`dependencies`). Raises
    LoadError when the module does not even load without faults.
    """
    data = read_module_file(path)
    deps = dependencies(path)
    baseline, fi = run_once(path, args, 0, scope, scenario, kernel_factory, data, deps)
    first: dict = {}
    for call in fi.calls:
        first.setdefault(call.site_key, call)
    known = {(f["kind"], f["message"]) for f in baseline.findings}
    paths = []
    for i, call in enumerate(first.values()):
        result, _fi = run_once(path, args, call.nth, scope, scenario, kernel_factory, data,
                               deps)
        # what the run without faults also found is the baseline's, reported once
        result.findings = [f for f in result.findings if (f["kind"], f["message"]) not in known]
        if result.call is None:          # the run went another way before reaching it
            result.call = call
            result.outcome += f" (call {call.nth} never came)"
        paths.append(result)
        if progress is not None:
            progress(i + 1, len(first), result)
    name = strip_suffix(str(path).rsplit("/", 1)[-1])
    return SweepReport(name, scope, baseline, fi.calls, paths)

